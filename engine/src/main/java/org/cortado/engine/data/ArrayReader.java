package org.cortado.engine.data;

import java.nio.ByteBuffer;
import org.cortado.engine.tensor.Shapes;

/**
 * Read access to one n-d array stored in a file (an {@code .npy}, a member of an {@code .npz}, an
 * HDF5 dataset), row by row: a row is one index of the first axis (one sample).
 *
 * <p>Readers hand out raw element bytes in row-major (C) order and the file's byte order; {@link
 * DType} converts them. Where the file allows it the bytes are a view of a memory-mapped file, so
 * reading a row costs no copy. Readers are safe to use from several threads at once.
 */
public interface ArrayReader extends AutoCloseable {

    /** Names the array in error messages: the file, and the member or dataset inside it. */
    String source();

    DType dtype();

    /** The full shape; {@code shape()[0]} is the number of rows. A scalar has shape {@code []}. */
    int[] shape();

    default int rows() {
        int[] s = shape();
        return s.length == 0 ? 1 : s[0];
    }

    /** Elements in one row: the product of all dimensions but the first. */
    default int rowElements() {
        int[] s = shape();
        return s.length == 0 ? 1 : Shapes.count(java.util.Arrays.copyOfRange(s, 1, s.length));
    }

    /**
     * The raw bytes of rows {@code [start, start + count)}, C order, {@code order()} set to the
     * file's byte order, position 0, {@code count * rowElements() * dtype().size} bytes. The buffer
     * may be a read-only view of the file: do not keep it beyond {@link #close()}.
     *
     * @throws IndexOutOfBoundsException if the range is not inside {@code [0, rows())}
     * @throws org.cortado.engine.DataFormatException naming {@link #source()} if the file is damaged
     */
    ByteBuffer rows(int start, int count);

    /**
     * Rows stored together (an HDF5 chunk's extent on the first axis); reading one row of a group
     * costs about as much as reading the group. 1 where rows are independent (memory-mapped files).
     */
    default int chunkRows() {
        return 1;
    }

    /** Bytes this reader holds in memory beyond what the OS maps (decompressed members, chunk caches). */
    default long residentBytes() {
        return 0;
    }

    /** Releases the file; unchecked, as there is nothing useful a caller can do about a failed close. */
    @Override
    void close();
}
