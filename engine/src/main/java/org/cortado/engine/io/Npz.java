package org.cortado.engine.io;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;
import org.cortado.engine.DataFormatException;
import org.cortado.engine.data.ArrayReader;
import org.cortado.engine.data.NpzFile;
import org.cortado.engine.tensor.Tensor;

/**
 * numpy {@code .npz} archives read into and written from float32 {@link Tensor}s: a thin layer
 * over {@link NpzFile}, which reads stored ({@code np.savez}) and deflated ({@code
 * np.savez_compressed}) archives. Member {@code name.npy} is array {@code name}; members support the
 * same dtypes as {@link Npy}.
 */
public final class Npz {
    private Npz() {}

    /**
     * Reads every array in the archive, in archive order.
     *
     * @throws DataFormatException naming the file (and member) if the file is missing, not a zip,
     *     holds a member that is not an {@code .npy}, or holds a malformed array
     */
    public static LinkedHashMap<String, Tensor> read(Path file) {
        LinkedHashMap<String, Tensor> arrays = new LinkedHashMap<>();
        try (NpzFile npz = NpzFile.open(file)) {
            for (String name : npz.members()) {
                arrays.put(name, Npy.toTensor(npz.array(name)));
            }
        }
        return arrays;
    }

    /** Writes {@code arrays} uncompressed, like {@code np.savez}; see {@link #write(Path, SequencedMap, boolean)}. */
    public static void write(Path file, SequencedMap<String, Tensor> arrays) {
        write(file, arrays, false);
    }

    /**
     * Writes each array as member {@code key.npy} ({@code <f4}, C order), in map order, replacing
     * the file.
     *
     * @param compressed deflate the members, like {@code np.savez_compressed}; otherwise store them
     * @throws UncheckedIOException naming the file if writing fails
     */
    public static void write(Path file, SequencedMap<String, Tensor> arrays, boolean compressed) {
        SequencedMap<String, ArrayReader> views = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : arrays.entrySet()) {
            views.put(e.getKey(), Npy.asArray(file + " member " + e.getKey(), e.getValue()));
        }
        NpzFile.write(file, views, compressed);
    }
}
