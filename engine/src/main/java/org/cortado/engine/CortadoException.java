package org.cortado.engine;

/**
 * The one unchecked root of every error Cortado raises on purpose. Subclasses say what went wrong
 * ({@link ConfigException}, {@link ShapeException}, {@link WeightsException}, ...) and every message
 * names the file, JSON path, layer or shape involved, so that a user can act on it without a stack trace.
 */
public class CortadoException extends RuntimeException {
    public CortadoException(String message) {
        super(message);
    }

    public CortadoException(String message, Throwable cause) {
        super(message, cause);
    }
}
