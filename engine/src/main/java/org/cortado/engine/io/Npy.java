package org.cortado.engine.io;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.cortado.engine.DataFormatException;
import org.cortado.engine.data.ArrayReader;
import org.cortado.engine.data.DType;
import org.cortado.engine.data.NpyFile;
import org.cortado.engine.tensor.Tensor;

/**
 * numpy {@code .npy} files read into and written from float32 {@link Tensor}s: a thin layer over
 * {@link NpyFile}, which parses and writes the format.
 *
 * <p>Reading accepts every dtype NpyFile does (converted to float32), either byte order, C or
 * Fortran order, format versions 1.0 to 3.0. Writing produces {@code <f4}, C order, with the same
 * bytes as {@code np.save}. Every malformed input raises {@link DataFormatException} naming the
 * source and the problem.
 */
public final class Npy {
    private Npy() {}

    /**
     * Reads one array from {@code file}; the file must hold exactly the bytes its header declares.
     *
     * @throws DataFormatException if the file is missing, malformed or of an unsupported dtype
     */
    public static Tensor read(Path file) {
        try (NpyFile npy = NpyFile.open(file)) {
            return toTensor(npy);
        }
    }

    /**
     * Reads one array from {@code in} and leaves the stream just after its data, so several arrays
     * saved one after another into one stream can be read in turn. Does not close {@code in}.
     *
     * @param sourceName names the stream in error messages (a file name, an archive member)
     * @throws DataFormatException if the stream is malformed, truncated or of an unsupported dtype
     */
    public static Tensor read(InputStream in, String sourceName) {
        try (NpyFile npy = NpyFile.read(sourceName, in)) {
            return toTensor(npy);
        }
    }

    /**
     * Writes {@code tensor} to {@code file} as {@code <f4}, C order, replacing the file.
     *
     * @throws UncheckedIOException naming the file if writing fails
     */
    public static void write(Path file, Tensor tensor) {
        NpyFile.write(file, asArray(file.toString(), tensor));
    }

    /**
     * Writes {@code tensor} to {@code out} as {@code <f4}, C order. Does not close {@code out}.
     *
     * @throws UncheckedIOException if writing fails
     */
    public static void write(OutputStream out, Tensor tensor) {
        NpyFile.write(out, asArray("tensor", tensor));
    }

    /** All of {@code array} as float32, converted a chunk of rows at a time. */
    static Tensor toTensor(ArrayReader array) {
        long count = (long) array.rows() * array.rowElements();
        if (count > Integer.MAX_VALUE - 8) {
            throw new DataFormatException(array.source() + ": " + count + " elements do not fit a tensor (2^31)");
        }
        float[] values = new float[(int) count];
        int rowElements = array.rowElements();
        int perChunk = Math.max(1, (1 << 20) / Math.max(1, rowElements * array.dtype().size));
        for (int start = 0; start < array.rows(); start += perChunk) {
            int n = Math.min(perChunk, array.rows() - start);
            array.dtype().toFloat(array.rows(start, n), 0, values, start * rowElements, n * rowElements);
        }
        return new Tensor(values, array.shape());
    }

    /** {@code tensor}'s valid elements as a little-endian float32 array, converted as rows are read. */
    static ArrayReader asArray(String source, Tensor tensor) {
        return new TensorArray(source, tensor);
    }

    private record TensorArray(String source, Tensor tensor) implements ArrayReader {
        @Override
        public DType dtype() {
            return DType.F4;
        }

        @Override
        public int[] shape() {
            return tensor.shape();
        }

        @Override
        public ByteBuffer rows(int start, int count) {
            java.util.Objects.checkFromIndexSize(start, count, rows());
            int n = rowElements();
            ByteBuffer b = ByteBuffer.allocate(count * n * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(tensor.data(), start * n, count * n);
            return b;
        }

        @Override
        public void close() {}
    }
}
