package org.cortado.engine;

/** A data file (npy, npz, HDF5, IDX) that cannot be read; the message names the file and offset or dataset. */
public class DataFormatException extends CortadoException {
    public DataFormatException(String message) {
        super(message);
    }

    public DataFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
