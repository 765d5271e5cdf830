package org.cortado.engine;

import java.util.List;

/**
 * A configuration problem. The message starts with the JSON path of the offending value, as in
 * {@code net.layers[3].kernel_size: must be > 0, got 0}. When validation finds several problems at
 * once, {@link #problems()} lists each of them and the message joins them line by line.
 */
public class ConfigException extends CortadoException {
    private final List<String> problems;

    public ConfigException(String problem) {
        super(problem);
        this.problems = List.of(problem);
    }

    public ConfigException(List<String> problems) {
        super(String.join("\n", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
