package org.cortado.engine;

/** Shapes that do not fit together; the message names the layer and the shapes. */
public class ShapeException extends CortadoException {
    public ShapeException(String message) {
        super(message);
    }
}
