package org.cortado.engine.data;

import io.jhdf.api.dataset.ChunkedDataset;
import io.jhdf.exceptions.HdfException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.Inflater;
import org.cortado.engine.DataFormatException;

/**
 * Rows of a chunked HDF5 dataset, assembled from the decompressed chunks that cover them.
 *
 * <p>The dataset, shape D (rank r), is cut into a grid of chunks of shape C; chunk (c0, ..., c_{r-1})
 * holds elements [c_i * C_i, (c_i + 1) * C_i) on each axis i, stored whole (C elements, C order) even
 * where it sticks out of the dataset. Rows [start, start + count) touch the chunks c0 in
 * [start / C0, (start + count - 1) / C0] and, on every other axis, all of them. Two cases:
 * <ul>
 *   <li><b>whole rows</b> (C_i = D_i for i &gt;= 1, what {@link Hdf5Writer} writes): a chunk is C0
 *       consecutive rows, so its overlap with the range is one copy; a range inside one chunk is a
 *       read-only view of the cached chunk and copies nothing;
 *   <li><b>split rows</b>: each chunk's overlap with the range is copied in runs along the last axis.
 * </ul>
 */
final class Hdf5ChunkedArray implements ArrayReader {
    /** jhdf's message for a chunk missing from the chunk index (ChunkedDatasetBase, 0.13.0). */
    private static final String NO_CHUNK = "No chunk with offset";

    private final Hdf5File file;
    private final ChunkedDataset ds;
    private final String source;
    private final DType dtype;
    private final ByteOrder order;
    private final int[] shape; // D
    private final int[] chunk; // C
    private final int rank;
    private final int esize;
    private final long rowBytes;
    private final int chunkBytes;
    private final long[] gridStride; // chunk coordinates -> one long key
    private final int[] grid; // chunks per axis
    private final boolean wholeRows;
    private final Hdf5ChunkCache cache;
    private final boolean shared;
    /** The filters are gzip, or shuffle then gzip: decoded by {@link #inflate}. */
    private final boolean fastDeflate;
    private final boolean shuffled;
    /** HDF5 filter ids. */
    private static final int DEFLATE = 1;
    private static final int SHUFFLE = 2;
    /** Chunks decompressed so far (tests check that the cache saves work). */
    final AtomicLong decompressed = new AtomicLong();
    /** Chunks decompressed by every reader of this process (tests check the chunk-aware sampler). */
    static final AtomicLong DECOMPRESSED_TOTAL = new AtomicLong();

    /**
     * @param sharedCache a cache shared with other readers (its bytes are counted by whoever shares
     *                    it, not by this reader's {@link #residentBytes()}), or null for an own cache
     *                    of {@code cacheBytes}
     */
    Hdf5ChunkedArray(Hdf5File file, ChunkedDataset ds, String source, DType dtype, ByteOrder order, int[] shape,
            long cacheBytes, Hdf5ChunkCache sharedCache) {
        this.file = file;
        this.ds = ds;
        this.source = source;
        this.dtype = dtype;
        this.order = order;
        this.shape = shape.clone();
        this.rank = shape.length;
        this.esize = dtype.size;
        int[] c = ds.getChunkDimensions();
        if (rank == 0 || c == null || c.length != rank) {
            throw new DataFormatException(source + ": chunk shape " + Arrays.toString(c)
                    + " does not match dataset shape " + Arrays.toString(shape));
        }
        long bytes = esize;
        for (int d : c) {
            if (d <= 0) {
                throw new DataFormatException(source + ": chunk shape " + Arrays.toString(c) + " has an empty axis");
            }
            bytes = Math.multiplyExact(bytes, d);
        }
        if (bytes > Hdf5File.MAX_ARRAY_BYTES) {
            throw new DataFormatException(source + ": chunks of shape " + Arrays.toString(c) + " are " + bytes
                    + " bytes, more than one Java array holds");
        }
        this.chunk = c.clone();
        this.chunkBytes = (int) bytes;
        long rb = esize;
        for (int i = 1; i < rank; i++) {
            rb *= shape[i];
        }
        this.rowBytes = rb;
        this.grid = new int[rank];
        this.gridStride = new long[rank];
        long stride = 1;
        boolean whole = true;
        for (int i = rank - 1; i >= 0; i--) {
            grid[i] = (int) ((shape[i] + (long) chunk[i] - 1) / chunk[i]);
            gridStride[i] = stride;
            stride = Math.multiplyExact(stride, Math.max(grid[i], 1));
            whole &= i == 0 || chunk[i] == shape[i];
        }
        this.wholeRows = whole;
        this.shared = sharedCache != null;
        this.cache = shared ? sharedCache : new Hdf5ChunkCache(cacheBytes);
        // HDF5 lists filters in the order they were applied when writing: shuffle before deflate.
        List<Integer> filters = ds.getFilters().stream().map(f -> f.getId()).toList();
        this.fastDeflate = filters.equals(List.of(DEFLATE)) || filters.equals(List.of(SHUFFLE, DEFLATE));
        this.shuffled = filters.contains(SHUFFLE);
    }

    @Override
    public String source() {
        return source;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public int chunkRows() {
        return chunk[0];
    }

    @Override
    public long residentBytes() {
        return shared ? 0 : cache.residentBytes();
    }

    @Override
    public ByteBuffer rows(int start, int count) {
        file.checkOpen();
        Objects.checkFromIndexSize(start, count, shape[0]);
        int n = Hdf5File.checkedBytes(source, count, rowBytes);
        if (count == 0) {
            return ByteBuffer.allocate(0).order(order);
        }
        long c0 = chunk[0];
        int first = (int) (start / c0);
        int last = (int) ((start + (long) count - 1) / c0);
        int[] at = new int[rank]; // chunk coordinates
        if (wholeRows && first == last) {
            at[0] = first;
            int off = (int) ((start - first * c0) * rowBytes);
            return ByteBuffer.wrap(chunk(at)).slice(off, n).asReadOnlyBuffer().order(order);
        }
        // The range's last chunk first: where a damaged header claims a larger shape than the chunks
        // written, it is missing, and we fail before allocating for the whole range.
        int[] lastAt = new int[rank];
        lastAt[0] = last;
        for (int i = 1; i < rank; i++) {
            lastAt[i] = grid[i] - 1;
        }
        byte[] lastChunk = chunk(lastAt); // kept: a small cache may evict it before its turn
        if (wholeRows) {
            byte[] out = new byte[n];
            for (int c = first; c <= last; c++) {
                at[0] = c;
                long lo = Math.max(start, c * c0);
                long hi = Math.min((long) start + count, (c + 1) * c0);
                byte[] src = c == last ? lastChunk : chunk(at);
                System.arraycopy(src, (int) ((lo - c * c0) * rowBytes), out, (int) ((lo - start) * rowBytes),
                        (int) ((hi - lo) * rowBytes));
            }
            return ByteBuffer.wrap(out).order(order);
        }
        byte[] out = new byte[n];
        at[0] = first;
        while (true) {
            copyOverlap(Arrays.equals(at, lastAt) ? lastChunk : chunk(at), at, start, count, out);
            // Next chunk: the last axis runs fastest; axis 0 stops after `last`.
            int ax = rank - 1;
            for (; ax >= 0; ax--) {
                at[ax]++;
                if (at[ax] < (ax == 0 ? last + 1 : grid[ax])) {
                    break;
                }
                at[ax] = 0;
            }
            if (ax < 0) {
                return ByteBuffer.wrap(out).order(order);
            }
        }
    }

    /**
     * Copies the part of chunk {@code at} inside rows [start, start + count) into {@code out}, whose
     * element (row - start, j1, ..., j_{r-1}) is at ((row - start) * D1 + j1) * D2 + ... : one run of
     * the chunk's last axis (clipped to the dataset) per index of the other axes.
     */
    private void copyOverlap(byte[] src, int[] at, int start, int count, byte[] out) {
        long[] lo = new long[rank];
        long[] hi = new long[rank];
        for (int i = 0; i < rank; i++) {
            lo[i] = (long) at[i] * chunk[i];
            hi[i] = Math.min(shape[i], lo[i] + chunk[i]);
        }
        long origin0 = lo[0];
        lo[0] = Math.max(lo[0], start);
        hi[0] = Math.min(hi[0], (long) start + count);
        int run = (int) ((hi[rank - 1] - lo[rank - 1]) * esize);
        long[] idx = lo.clone();
        while (true) {
            long srcElem = 0;
            long dstElem = idx[0] - start;
            for (int i = 0; i < rank; i++) {
                long within = idx[i] - (i == 0 ? origin0 : (long) at[i] * chunk[i]);
                srcElem = srcElem * chunk[i] + within;
                if (i > 0) {
                    dstElem = dstElem * shape[i] + idx[i];
                }
            }
            System.arraycopy(src, (int) (srcElem * esize), out, (int) (dstElem * esize), run);
            // Next run: advance the axes before the last one, innermost first.
            int ax = rank - 2;
            for (; ax >= 0; ax--) {
                if (++idx[ax] < hi[ax]) {
                    break;
                }
                idx[ax] = lo[ax];
            }
            if (ax < 0) {
                return;
            }
        }
    }

    private byte[] chunk(int[] at) {
        long key = 0;
        int[] offset = new int[rank];
        for (int i = 0; i < rank; i++) {
            key += at[i] * gridStride[i];
            offset[i] = at[i] * chunk[i];
        }
        return cache.get(this, key, () -> load(offset));
    }

    private byte[] load(int[] offset) {
        String where = source + ", chunk at offset " + Arrays.toString(offset);
        byte[] bytes;
        try {
            bytes = fastDeflate ? inflate(offset) : null;
            if (bytes == null) {
                bytes = ds.getDecompressedChunk(offset);
            }
        } catch (HdfException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(NO_CHUNK)) {
                throw new DataFormatException(where + " was never written (HDF5 would read it as the fill value; "
                        + "the writer may have stopped early)", e);
            }
            throw new DataFormatException(where + ": " + Hdf5File.describe(e), e);
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError | LinkageError e) {
            // jhdf trusts sizes and offsets read from the file: a damaged chunk index or filter
            // stream also surfaces as buffer, array or allocation errors. A failed allocation of a
            // size read from a damaged file is that one array, not a heap in trouble.
            throw new DataFormatException(where + ": " + Hdf5File.describe(e), e);
        }
        decompressed.incrementAndGet();
        DECOMPRESSED_TOTAL.incrementAndGet();
        if (bytes == null || bytes.length != chunkBytes) {
            throw new DataFormatException(where + ": decompressed to " + (bytes == null ? 0 : bytes.length)
                    + " bytes, expected " + chunkBytes + " (chunk shape " + Arrays.toString(chunk) + " of "
                    + dtype.numpyName() + ")");
        }
        return bytes;
    }

    /**
     * The common pipelines, gzip alone or shuffle then gzip, decoded here: the raw chunk (a view of
     * the mapped file) inflated in one call straight into a chunk-sized array, then unshuffled.
     * jhdf's own decoding inflates through a growing stream and copies the chunk three more times,
     * which cost a quarter of the time on Fashion-MNIST shards. Returns null when the chunk does
     * not inflate to exactly one chunk (a filter skipped for this chunk, say): jhdf then decodes it,
     * and reports what is wrong.
     */
    private byte[] inflate(int[] offset) {
        ByteBuffer raw = ds.getRawChunkBuffer(offset);
        Inflater inf = INFLATER.get();
        inf.reset();
        inf.setInput(raw);
        byte[] out = new byte[chunkBytes];
        try {
            int n = inf.inflate(out);
            if (n != chunkBytes || !inf.finished()) {
                return null;
            }
        } catch (java.util.zip.DataFormatException e) {
            return null;
        }
        if (!shuffled || esize == 1) {
            return out;
        }
        // HDF5's byte shuffle stores byte b of every element together: [b0 of all][b1 of all]...;
        // bytes past the last whole element are left in place.
        byte[] un = new byte[chunkBytes];
        int elems = chunkBytes / esize;
        for (int b = 0; b < esize; b++) {
            int from = b * elems;
            for (int i = 0; i < elems; i++) {
                un[i * esize + b] = out[from + i];
            }
        }
        System.arraycopy(out, elems * esize, un, elems * esize, chunkBytes - elems * esize);
        return un;
    }

    /** One inflater per thread, reused: creating one allocates native zlib state. */
    private static final ThreadLocal<Inflater> INFLATER = ThreadLocal.withInitial(Inflater::new);

    @Override
    public void close() {
        if (shared) {
            cache.clear(this);
        } else {
            cache.clear();
        }
    }
}
