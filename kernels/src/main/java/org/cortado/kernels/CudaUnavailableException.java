package org.cortado.kernels;

import org.cortado.engine.CortadoException;

/** CUDA was asked for and cannot be used here: no driver, no device, or not enough GPU memory. */
public final class CudaUnavailableException extends CortadoException {
    public CudaUnavailableException(String message) {
        super(message);
    }
}
