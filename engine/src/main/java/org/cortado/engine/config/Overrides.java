package org.cortado.engine.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.cortado.engine.ConfigException;

/**
 * {@code --set path=value} on a config: {@code solver.max_iter=100}, {@code net.layers[2].num_output=32},
 * {@code pipeline.stages=["conv2"]}. The value is read as JSON when it parses (numbers, booleans,
 * lists, objects, quoted strings) and as a plain string otherwise; missing objects on the path are
 * created, list indexes must exist. Every malformed override is reported, all at once.
 */
public final class Overrides {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Pattern STEP = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)((?:\\[\\d+\\])*)");

    private Overrides() {}

    /** Applies {@code sets} to {@code root} in order. */
    public static void apply(ObjectNode root, List<String> sets) {
        List<String> problems = new ArrayList<>();
        for (String s : sets) {
            try {
                applyOne(root, s);
            } catch (ConfigException e) {
                problems.addAll(e.problems());
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
    }

    private static void applyOne(ObjectNode root, String set) {
        int eq = set.indexOf('=');
        if (eq <= 0) {
            throw new ConfigException("--set " + set + ": expected path=value, e.g. solver.max_iter=100");
        }
        String path = set.substring(0, eq).trim();
        JsonNode value = value(set.substring(eq + 1));
        String[] parts = path.split("\\.");
        JsonNode node = root;
        for (int i = 0; i < parts.length; i++) {
            Matcher m = STEP.matcher(parts[i]);
            if (!m.matches()) {
                throw new ConfigException("--set " + path + ": \"" + parts[i] + "\" is not a field name (with optional [index])");
            }
            boolean lastPart = i == parts.length - 1;
            List<Integer> indexes = new ArrayList<>();
            Matcher ix = Pattern.compile("\\[(\\d+)\\]").matcher(m.group(2));
            while (ix.find()) {
                indexes.add(Integer.parseInt(ix.group(1)));
            }
            if (!(node instanceof ObjectNode obj)) {
                throw new ConfigException("--set " + path + ": " + String.join(".", java.util.Arrays.copyOf(parts, i))
                        + " is not an object");
            }
            String field = m.group(1);
            if (indexes.isEmpty() && lastPart) {
                obj.set(field, value);
                return;
            }
            JsonNode next = obj.get(field);
            if (next == null && indexes.isEmpty()) {
                next = obj.putObject(field);
            }
            for (int k = 0; k < indexes.size(); k++) {
                if (!(next instanceof ArrayNode arr) || indexes.get(k) >= arr.size()) {
                    throw new ConfigException("--set " + path + ": " + field + " has no element [" + indexes.get(k) + "]");
                }
                if (lastPart && k == indexes.size() - 1) {
                    arr.set(indexes.get(k), value);
                    return;
                }
                next = arr.get(indexes.get(k));
            }
            node = next;
        }
    }

    private static JsonNode value(String text) {
        try {
            JsonNode v = MAPPER.readTree(text);
            return v == null ? TextNode.valueOf(text) : v;
        } catch (JsonProcessingException e) {
            return TextNode.valueOf(text);
        }
    }
}
