package org.cortado.engine.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.cortado.engine.ConfigException;

/**
 * A JSON object together with its path in the config ({@code net.layers[3]}), so that every error
 * names where it is. Readers record which keys they used; {@link #rejectUnknown()} then turns a typo
 * such as {@code kernel_sise} into an error instead of a silently ignored field.
 *
 * <p>Defaults live with the record that reads the section (one place per section), never here.
 */
public final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final JsonNode node;
    private final String path;
    private final Set<String> used = new LinkedHashSet<>();

    private Json(JsonNode node, String path) {
        this.node = node;
        this.path = path;
    }

    /** Reads a JSON file; a syntax error names the file, line and column. */
    public static Json read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read config: " + e.getMessage());
        }
        return parse(text, file.toString());
    }

    /** Parses JSON text; {@code source} names it in errors. The root must be an object. */
    public static Json parse(String text, String source) {
        JsonNode root;
        try {
            root = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            var loc = e.getLocation();
            throw new ConfigException(source + ": invalid JSON at line " + (loc == null ? "?" : loc.getLineNr())
                    + ", column " + (loc == null ? "?" : loc.getColumnNr()) + ": " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException(source + ": the config must be a JSON object");
        }
        return new Json(root, "");
    }

    /** Wraps a node at a given path (for tests and for records rebuilt from parts). */
    public static Json of(JsonNode node, String path) {
        return new Json(node, path);
    }

    public String path() {
        return path.isEmpty() ? "(root)" : path;
    }

    public JsonNode node() {
        return node;
    }

    /** A deep copy as a Jackson node, for writing a resolved config. */
    public ObjectNode copyNode() {
        return (ObjectNode) node.deepCopy();
    }

    public String toJson() {
        return node.toPrettyString();
    }

    private String child(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** The error for a key of this object: {@code path.key: message}. */
    public ConfigException error(String key, String message) {
        return new ConfigException(child(key) + ": " + message);
    }

    /** The error for this object itself: {@code path: message}. */
    public ConfigException error(String message) {
        return new ConfigException(path() + ": " + message);
    }

    public boolean has(String key) {
        used.add(key);
        return node.has(key) && !node.get(key).isNull();
    }

    private JsonNode raw(String key) {
        used.add(key);
        JsonNode v = node.get(key);
        return v == null || v.isNull() ? null : v;
    }

    /** A required nested object. */
    public Json object(String key) {
        return optObject(key).orElseThrow(() -> error(key, "required object is missing"));
    }

    public Optional<Json> optObject(String key) {
        JsonNode v = raw(key);
        if (v == null) {
            return Optional.empty();
        }
        if (!v.isObject()) {
            throw error(key, "expected an object, got " + describe(v));
        }
        return Optional.of(new Json(v, child(key)));
    }

    /** An array of objects (a single object is accepted as a one-element list); empty when absent. */
    public List<Json> objects(String key) {
        JsonNode v = raw(key);
        List<Json> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (v.isObject()) {
            out.add(new Json(v, child(key)));
            return out;
        }
        if (!v.isArray()) {
            throw error(key, "expected an array of objects, got " + describe(v));
        }
        for (int i = 0; i < v.size(); i++) {
            JsonNode e = v.get(i);
            String p = child(key) + "[" + i + "]";
            if (!e.isObject()) {
                throw new ConfigException(p + ": expected an object, got " + describe(e));
            }
            out.add(new Json(e, p));
        }
        return out;
    }

    /** A string or an array of strings, as Caffe's repeated {@code bottom}/{@code top}; empty when absent. */
    public List<String> strings(String key) {
        JsonNode v = raw(key);
        List<String> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (v.isTextual()) {
            out.add(v.asText());
            return out;
        }
        if (!v.isArray()) {
            throw error(key, "expected a string or an array of strings, got " + describe(v));
        }
        for (int i = 0; i < v.size(); i++) {
            if (!v.get(i).isTextual()) {
                throw new ConfigException(child(key) + "[" + i + "]: expected a string, got " + describe(v.get(i)));
            }
            out.add(v.get(i).asText());
        }
        return out;
    }

    /** An integer or an array of integers (Caffe's repeated {@code kernel_size} etc.); empty when absent. */
    public int[] ints(String key) {
        JsonNode v = raw(key);
        if (v == null) {
            return new int[0];
        }
        if (v.isArray()) {
            int[] out = new int[v.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = asInt(v.get(i), child(key) + "[" + i + "]");
            }
            return out;
        }
        return new int[] {asInt(v, child(key))};
    }

    /** A number or an array of numbers; empty when absent. */
    public double[] doubles(String key) {
        JsonNode v = raw(key);
        if (v == null) {
            return new double[0];
        }
        if (v.isArray()) {
            double[] out = new double[v.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = asDouble(v.get(i), child(key) + "[" + i + "]");
            }
            return out;
        }
        return new double[] {asDouble(v, child(key))};
    }

    public int getInt(String key, int def) {
        JsonNode v = raw(key);
        return v == null ? def : asInt(v, child(key));
    }

    public int requireInt(String key) {
        JsonNode v = raw(key);
        if (v == null) {
            throw error(key, "required integer is missing");
        }
        return asInt(v, child(key));
    }

    public long getLong(String key, long def) {
        JsonNode v = raw(key);
        if (v == null) {
            return def;
        }
        if (!v.canConvertToLong() || !v.isIntegralNumber()) {
            throw error(key, "expected an integer, got " + describe(v));
        }
        return v.asLong();
    }

    public double getDouble(String key, double def) {
        JsonNode v = raw(key);
        return v == null ? def : asDouble(v, child(key));
    }

    public double requireDouble(String key) {
        JsonNode v = raw(key);
        if (v == null) {
            throw error(key, "required number is missing");
        }
        return asDouble(v, child(key));
    }

    public float getFloat(String key, float def) {
        return (float) getDouble(key, def);
    }

    public boolean getBool(String key, boolean def) {
        JsonNode v = raw(key);
        if (v == null) {
            return def;
        }
        if (!v.isBoolean()) {
            throw error(key, "expected true or false, got " + describe(v));
        }
        return v.asBoolean();
    }

    public String getString(String key, String def) {
        JsonNode v = raw(key);
        if (v == null) {
            return def;
        }
        if (!v.isTextual()) {
            throw error(key, "expected a string, got " + describe(v));
        }
        return v.asText();
    }

    public String requireString(String key) {
        String s = getString(key, null);
        if (s == null) {
            throw error(key, "required string is missing");
        }
        return s;
    }

    /** An enum given by name, case-insensitively (Caffe writes {@code MAX}, users often {@code max}). */
    public <E extends Enum<E>> E getEnum(String key, Class<E> type, E def) {
        String s = getString(key, null);
        if (s == null) {
            return def;
        }
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(s)) {
                return e;
            }
        }
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            names.add(e.name());
        }
        throw error(key, "expected one of " + names + ", got \"" + s + "\"");
    }

    /** Marks keys as read by someone else (for example the generic layer fields). */
    public void markUsed(String... keys) {
        used.addAll(List.of(keys));
    }

    /** Fails when the object has keys that no reader asked for: typos must not pass silently. */
    public void rejectUnknown() {
        List<String> unknown = new ArrayList<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!used.contains(k)) {
                unknown.add(k);
            }
        }
        if (!unknown.isEmpty()) {
            List<String> problems = new ArrayList<>();
            for (String k : unknown) {
                problems.add(child(k) + ": unknown field");
            }
            throw new ConfigException(problems);
        }
    }

    /** Checks {@code value > 0}. */
    public int positive(String key, int value) {
        if (value <= 0) {
            throw error(key, "must be > 0, got " + value);
        }
        return value;
    }

    /** Checks {@code value >= 0}. */
    public int nonNegative(String key, int value) {
        if (value < 0) {
            throw error(key, "must be >= 0, got " + value);
        }
        return value;
    }

    private static int asInt(JsonNode v, String p) {
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            if (v.isNumber() && v.asDouble() == Math.rint(v.asDouble()) && Math.abs(v.asDouble()) < Integer.MAX_VALUE) {
                return (int) v.asDouble();
            }
            throw new ConfigException(p + ": expected an integer, got " + describe(v));
        }
        return v.asInt();
    }

    private static double asDouble(JsonNode v, String p) {
        if (!v.isNumber()) {
            throw new ConfigException(p + ": expected a number, got " + describe(v));
        }
        return v.asDouble();
    }

    private static String describe(JsonNode v) {
        String text = v.toString();
        if (text.length() > 40) {
            text = text.substring(0, 37) + "...";
        }
        return v.getNodeType().name().toLowerCase(Locale.ROOT) + " " + text;
    }
}
