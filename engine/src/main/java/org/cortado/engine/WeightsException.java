package org.cortado.engine;

/** A weights or solver-state file that does not match the net; the message names the file and layer. */
public class WeightsException extends CortadoException {
    public WeightsException(String message) {
        super(message);
    }

    public WeightsException(String message, Throwable cause) {
        super(message, cause);
    }
}
