package org.cortado.engine.data;

import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Link;
import io.jhdf.api.Node;
import io.jhdf.api.dataset.ChunkedDataset;
import io.jhdf.api.dataset.ContiguousDataset;
import io.jhdf.dataset.DatasetBase;
import io.jhdf.object.datatype.ArrayDataType;
import io.jhdf.object.datatype.BitField;
import io.jhdf.object.datatype.CompoundDataType;
import io.jhdf.object.datatype.DataType;
import io.jhdf.object.datatype.EnumDataType;
import io.jhdf.object.datatype.FixedPoint;
import io.jhdf.object.datatype.FloatingPoint;
import io.jhdf.object.datatype.OpaqueDataType;
import io.jhdf.object.datatype.Reference;
import io.jhdf.object.datatype.StringData;
import io.jhdf.object.datatype.TimeDataType;
import io.jhdf.object.datatype.VariableLength;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.cortado.engine.DataFormatException;

/**
 * An HDF5 file opened for reading training data, through jhdf: its numeric datasets as {@link
 * ArrayReader}s that read any range of rows without reading the rest of the dataset.
 *
 * <pre>{@code
 * try (Hdf5File h5 = Hdf5File.open(Path.of("train.h5"))) {
 *     ArrayReader images = h5.array("data");   // (N, C, H, W) uint8, say
 *     ByteBuffer rows = images.rows(128, 64);  // raw bytes of rows 128..191
 * }
 * }</pre>
 *
 * <p><b>Element types.</b> Integers (signed 8/16/32/64 bits, unsigned 8 bits) and IEEE floats (16/32/64
 * bits) of either byte order map to {@link DType}, and rows come out as the file stores them, with
 * the buffer's {@link ByteBuffer#order() order} set to the file's. h5py's booleans (an enum
 * {@code FALSE=0, TRUE=1} over int8) read as {@link DType#BOOL}. Unsigned 16- and 32-bit integers
 * have no {@code DType}: they are <em>widened</em> to int32 and int64 (exact; such rows are copied and
 * converted). Unsigned 64-bit integers are rejected, since int64 cannot hold them all. Strings,
 * compound, variable-length, enum, reference, array, opaque, bitfield and time types are rejected
 * with a {@link DataFormatException} naming the file and dataset. (jhdf 0.13 cannot parse h5py's
 * opaque type at all, and it loads a group's members together: a file holding one fails to open.)
 *
 * <p><b>How the file is reached.</b> A file of up to 2 GiB is memory-mapped whole and handed to jhdf
 * as one buffer ({@link HdfFile#fromByteBuffer}): jhdf's reads become bounds-checked slices of it,
 * with no system call per chunk, and no file descriptor stays open. A larger file is read through
 * an {@code Hdf5Channel}, which refuses reads past the end of the file (jhdf would otherwise spend
 * seconds and gigabytes on some damaged files; see there).
 *
 * <p><b>Layouts.</b> A contiguous dataset is a view of the mapped file ({@link
 * ContiguousDataset#getBuffer()}; a dataset beyond 2 GiB, in mappings of up to 2 GiB made as rows
 * are asked for): reading rows copies nothing, except a range that straddles two such mappings. A
 * chunked dataset is read chunk by chunk ({@link ChunkedDataset#getDecompressedChunk(int[])}, which
 * applies the file's filters: gzip, shuffle, fletcher32 (checked by {@code Hdf5Fletcher32}), LZF and
 * whatever else jhdf decodes) into a bounded LRU cache of decompressed chunks per reader ({@link
 * #open(Path, long)}), so a loader reading rows in chunk order decompresses each chunk once; chunks
 * may split any axis, and edge chunks may stick out of the dataset. A compact dataset (stored in its
 * header, at most 64 KiB) is copied into memory.
 *
 * <p><b>Incomplete files are errors.</b> A chunk that was never written, or a contiguous dataset
 * with no storage, would read as HDF5's fill value; for training data that is almost always a writer
 * that stopped early, so such reads raise a {@link DataFormatException} instead of yielding zeros.
 *
 * <p><b>Errors.</b> Everything jhdf raises for a damaged file, an unsupported type or filter, a
 * truncated file or a bad chunk (its {@code HdfException}s and also plain runtime exceptions, stack
 * overflows on cyclic structures, failed allocations of sizes read from damaged headers) becomes a
 * {@link DataFormatException} naming the file, the dataset and, for chunk errors, the chunk's offset.
 *
 * <p><b>Threads.</b> {@link #array(String)} and the readers' {@link ArrayReader#rows(int, int)} may be
 * called from several threads at once. Chunks are decompressed outside any lock; threads asking for
 * a chunk that another thread is decompressing wait for that one result.
 *
 * <p><b>Ownership.</b> Readers from {@link #array(String)} share this file: closing a reader drops
 * its chunk cache, and closing the file ends every reader (their {@code rows} then throw {@link
 * IllegalStateException}).
 */
public final class Hdf5File implements AutoCloseable {
    /** Default capacity of each chunked dataset's cache of decompressed chunks: 64 MiB. */
    public static final long DEFAULT_CHUNK_CACHE_BYTES = 64L << 20;

    /** Largest Java array or buffer we allocate (the JVM refuses a few bytes below 2^31). */
    static final int MAX_ARRAY_BYTES = Integer.MAX_VALUE - 8;

    private final Path path;
    private final FileChannel channel; // null where the file is mapped whole
    private final HdfFile h5;
    private final long chunkCacheBytes;
    private Hdf5ChunkCache sharedCache; // set once, right after opening, by openShared
    private final int segmentBytes;
    private final List<String> datasets;
    private volatile boolean closed;

    private Hdf5File(Path path, FileChannel channel, HdfFile h5, long chunkCacheBytes, int segmentBytes) {
        this.path = path;
        this.channel = channel;
        this.h5 = h5;
        this.chunkCacheBytes = chunkCacheBytes;
        this.segmentBytes = segmentBytes;
        this.datasets = listDatasets();
    }

    /** Opens {@code file} with the default chunk cache ({@link #DEFAULT_CHUNK_CACHE_BYTES} per dataset). */
    public static Hdf5File open(Path file) {
        return open(file, DEFAULT_CHUNK_CACHE_BYTES);
    }

    /**
     * Opens {@code file} and lists its datasets.
     *
     * @param chunkCacheBytes capacity of each chunked dataset reader's cache of decompressed chunks;
     *     0 caches nothing (every read decompresses the chunks it touches)
     * @throws DataFormatException naming the file if it is missing or not a readable HDF5 file
     */
    public static Hdf5File open(Path file, long chunkCacheBytes) {
        return open(file, chunkCacheBytes, MAX_ARRAY_BYTES, MAX_ARRAY_BYTES);
    }

    /**
     * Opens {@code file} with every chunked reader using {@code cache}, shared with other files (a
     * shard set's): its bytes are not counted in the readers' {@code residentBytes()}.
     */
    static Hdf5File openShared(Path file, Hdf5ChunkCache cache) {
        Hdf5File f = open(file, 0);
        f.sharedCache = cache;
        return f;
    }

    /**
     * As {@link #open(Path, long)}, with the sizes that decide how the file is reached, for tests:
     * a file of at most {@code wholeFileBytes} is mapped whole and handed to jhdf as one buffer;
     * a larger one is read through an {@code Hdf5Channel}. Contiguous datasets larger than {@code
     * segmentBytes} are mapped in pieces of about that size (rows spanning two pieces are copied).
     */
    static Hdf5File open(Path file, long chunkCacheBytes, int segmentBytes, long wholeFileBytes) {
        if (chunkCacheBytes < 0) {
            throw new IllegalArgumentException("chunk cache capacity must be >= 0 bytes, got " + chunkCacheBytes);
        }
        if (!Files.isRegularFile(file)) {
            throw new DataFormatException("HDF5 file " + file + " does not exist");
        }
        Hdf5Fletcher32.install();
        FileChannel channel = null;
        ByteBuffer whole = null;
        try {
            FileChannel raw = FileChannel.open(file, StandardOpenOption.READ);
            try {
                if (raw.size() <= wholeFileBytes) {
                    whole = raw.map(FileChannel.MapMode.READ_ONLY, 0, raw.size());
                    raw.close(); // the mapping outlives the channel: no file descriptor held
                } else {
                    channel = new Hdf5Channel(raw, file);
                }
            } catch (IOException e) {
                closeQuietly(raw);
                throw e;
            }
        } catch (IOException e) {
            throw new DataFormatException("cannot open HDF5 file " + file + ": " + e, e);
        }
        try {
            // A file up to 2 GiB is one mapped buffer to jhdf: every read is a bounds-checked slice
            // (no system call per chunk, no copy) and a size read from a damaged header cannot make
            // jhdf allocate or read past the end. A larger file goes through our own channel, which
            // fails such reads at once (see Hdf5Channel) and which we can close on every path
            // (jhdf's HdfFile(Path) leaks its channel when the file turns out to be damaged).
            HdfFile h5 = whole != null ? HdfFile.fromByteBuffer(whole) : new HdfFile(channel);
            return new Hdf5File(file, channel, h5, chunkCacheBytes, segmentBytes);
        } catch (DataFormatException e) {
            closeQuietly(channel);
            throw e;
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError | LinkageError e) {
            closeQuietly(channel);
            throw new DataFormatException("HDF5 file " + file + " is not readable: " + describe(e), e);
        }
    }

    public Path path() {
        return path;
    }

    /**
     * The datasets' paths, without the leading {@code /} ({@code images}, {@code grp/x}), sorted; as
     * h5py's {@code visit} lists them: objects reached through soft or external links are not listed
     * (but {@link #array(String)} follows links).
     */
    public List<String> datasets() {
        return datasets;
    }

    /**
     * A reader of the dataset at {@code name} ({@code images}, {@code /images} and {@code grp/x} all
     * work). Each call returns a new reader with its own chunk cache.
     *
     * @throws DataFormatException naming the file and dataset if there is no such dataset (the
     *     message lists those present), its type or filter is unsupported, or its header is damaged
     */
    public ArrayReader array(String name) {
        checkOpen();
        String key = normalize(name);
        Dataset ds = find(key);
        String source = path + ", dataset /" + key;
        try {
            return reader(ds, source);
        } catch (DataFormatException e) {
            throw e;
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError | LinkageError e) {
            throw new DataFormatException(source + ": cannot read: " + describe(e), e);
        }
    }

    /** Closes the file; readers obtained from it stop working. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            h5.close();
        } catch (RuntimeException e) {
            // jhdf's close logs the file's path, which a channel-opened HdfFile does not know, and
            // throws after closing its storage: nothing is left open, so nothing to report.
        }
        closeQuietly(channel);
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("HDF5 file " + path + " is closed");
        }
    }

    // ---- finding datasets

    private List<String> listDatasets() {
        List<String> out = new ArrayList<>();
        walk(h5, "", new HashSet<>(), out, 0);
        return List.copyOf(out);
    }

    private void walk(Group group, String prefix, Set<Long> seen, List<String> out, int depth) {
        // A hard link may point back up the tree: visit each group once, and never deeper than HDF5
        // paths sensibly go, so a damaged file cannot send us round in circles.
        if (depth > 64) {
            throw new DataFormatException("HDF5 file " + path + ": groups nested more than 64 deep at /" + prefix);
        }
        for (Map.Entry<String, Node> child : new TreeMap<>(group.getChildren()).entrySet()) {
            Node node = child.getValue();
            if (node.isLink()) {
                continue;
            }
            if (node instanceof Group sub) {
                if (seen.add(sub.getAddress())) {
                    walk(sub, prefix + child.getKey() + "/", seen, out, depth + 1);
                }
            } else if (node instanceof Dataset) {
                out.add(prefix + child.getKey());
            }
        }
    }

    private static String normalize(String name) {
        String key = name;
        while (key.startsWith("/")) {
            key = key.substring(1);
        }
        while (key.endsWith("/")) {
            key = key.substring(0, key.length() - 1);
        }
        return key;
    }

    private Dataset find(String key) {
        Node node = key.isEmpty() ? null : h5;
        try {
            // Down the path one name at a time (for a missing name, jhdf's getByPath fails with an
            // unrelated error in a file opened from a buffer or channel); soft links resolve to
            // their target, external links fail (jhdf needs the file's path to find the other file).
            for (String part : key.split("/")) {
                node = node instanceof Group group ? group.getChildren().get(part) : null;
                for (int hops = 0; node instanceof Link link && hops < 16; hops++) {
                    node = link.isBrokenLink() ? null : link.getTarget();
                }
            }
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError | LinkageError e) {
            throw new DataFormatException("HDF5 file " + path + ": cannot look up dataset /" + key + ": " + describe(e),
                    e);
        }
        if (node instanceof Dataset ds) {
            return ds;
        }
        String what = node instanceof Group ? " (/" + key + " is a group)" : "";
        throw new DataFormatException("HDF5 file " + path + " has no dataset /" + key + what + "; its datasets: "
                + (datasets.isEmpty() ? "none" : String.join(", ", datasets)));
    }

    // ---- readers

    /** How the file stores elements ({@code stored}, in {@code order}) and what readers hand out. */
    private record ElementType(DType stored, ByteOrder order, DType exposed) {}

    private ArrayReader reader(Dataset ds, String source) {
        ElementType type = elementType(ds.getDataType(), source);
        int[] shape = shape(ds, source);
        long rowElements = 1;
        for (int i = 1; i < shape.length; i++) {
            rowElements = Math.multiplyExact(rowElements, shape[i]);
        }
        long elements = shape.length == 0 ? 1 : Math.multiplyExact(rowElements, shape[0]);
        long rowBytes = Math.multiplyExact(rowElements, type.stored.size);
        if (rowBytes > MAX_ARRAY_BYTES) {
            throw new DataFormatException(source + ": a row of shape "
                    + Arrays.toString(Arrays.copyOfRange(shape, 1, shape.length)) + " is " + rowBytes
                    + " bytes, more than one Java buffer holds");
        }
        ArrayReader raw;
        if (elements == 0) {
            raw = new NdArray(source, type.stored, shape, ByteBuffer.allocate(0).order(type.order));
        } else if (ds instanceof ContiguousDataset contiguous) {
            raw = contiguous(contiguous, source, type, shape, elements * type.stored.size);
        } else if (ds instanceof ChunkedDataset chunked) {
            // Building the filter pipeline now reports an unknown filter when the array is opened.
            chunked.getFilters();
            raw = new Hdf5ChunkedArray(this, chunked, source, type.stored, type.order, shape, chunkCacheBytes,
                    sharedCache);
        } else if (ds instanceof DatasetBase compact) {
            // Compact layout: the data sits in the object header, at most 64 KiB; keep a copy.
            ByteBuffer stored = compact.getDataBuffer();
            long bytes = elements * type.stored.size;
            if (stored == null || stored.remaining() != bytes) {
                throw new DataFormatException(source + ": compact data holds " + (stored == null ? 0 : stored.remaining())
                        + " bytes, expected " + bytes);
            }
            ByteBuffer copy = ByteBuffer.allocate((int) bytes).put(stored.duplicate()).flip().order(type.order);
            raw = new NdArray(source, type.stored, shape, copy);
        } else {
            throw new DataFormatException(source + ": unsupported storage layout " + ds.getDataLayout());
        }
        return type.exposed == type.stored ? raw : new Widened(raw, type.exposed);
    }

    private static int[] shape(Dataset ds, String source) {
        if (ds.isScalar()) {
            return new int[0];
        }
        long[] dims = ds.getDimensionsAsLong();
        int[] shape = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0 || dims[i] > Integer.MAX_VALUE) {
                throw new DataFormatException(source + ": dimension " + i + " is " + dims[i]
                        + " (shape " + Arrays.toString(dims) + "); at most " + Integer.MAX_VALUE + " is supported");
            }
            shape[i] = (int) dims[i];
        }
        return shape;
    }

    private ElementType elementType(DataType type, String source) {
        switch (type) {
            case FixedPoint fp -> {
                int size = fp.getSize();
                if ((size != 1 && size != 2 && size != 4 && size != 8)
                        || fp.getBitOffset() != 0 || fp.getBitPrecision() != 8 * size) {
                    throw unsupported(source, size + "-byte integer with " + fp.getBitPrecision() + " bits at bit offset "
                            + fp.getBitOffset());
                }
                ByteOrder order = fp.getByteOrder();
                if (fp.isSigned()) {
                    DType d = DType.of('i', size);
                    return new ElementType(d, order, d);
                }
                return switch (size) {
                    case 1 -> new ElementType(DType.U1, order, DType.U1);
                    case 2 -> new ElementType(DType.I2, order, DType.I4); // uint16, widened to int32
                    case 4 -> new ElementType(DType.I4, order, DType.I8); // uint32, widened to int64
                    default -> throw unsupported(source, "uint64 (int64 cannot hold values of 2^63 and more; "
                            + "store the data as int64, or as float64 if it holds larger values)");
                };
            }
            case FloatingPoint fp -> {
                int size = fp.getSize();
                int[] expMant = switch (size) {
                    case 2 -> new int[] {5, 10};
                    case 4 -> new int[] {8, 23};
                    case 8 -> new int[] {11, 52};
                    default -> null;
                };
                if (expMant == null || fp.getExponentSize() != expMant[0] || fp.getMantissaSize() != expMant[1]
                        || fp.getBitOffset() != 0 || fp.getBitPrecision() != 8 * size
                        || fp.getExponentLocation() != expMant[1] || fp.getMantissaLocation() != 0
                        || fp.getSignLocation() != 8 * size - 1) {
                    throw unsupported(source, "a " + 8 * size + "-bit float that is not IEEE 754 (exponent "
                            + fp.getExponentSize() + " bits, mantissa " + fp.getMantissaSize() + " bits)");
                }
                DType d = DType.of('f', size);
                return new ElementType(d, fp.getByteOrder(), d);
            }
            case EnumDataType en -> {
                // h5py writes numpy's bool as an enum {FALSE: 0, TRUE: 1} over int8.
                if (en.getBaseType() instanceof FixedPoint base && base.getSize() == 1
                        && en.getEnumMapping().equals(Map.of(0, "FALSE", 1, "TRUE"))) {
                    return new ElementType(DType.BOOL, ByteOrder.LITTLE_ENDIAN, DType.BOOL);
                }
                throw unsupported(source, "enum " + en.getEnumMapping().values());
            }
            default -> throw unsupported(source, typeName(type));
        }
    }

    private static String typeName(DataType type) {
        return switch (type) {
            case StringData s -> "string";
            case VariableLength v -> "variable-length";
            case CompoundDataType c -> "compound";
            case Reference r -> "reference";
            case ArrayDataType a -> "array";
            case OpaqueDataType o -> "opaque";
            case BitField b -> "bitfield";
            case TimeDataType t -> "time";
            default -> type.getClass().getSimpleName();
        };
    }

    private static DataFormatException unsupported(String source, String what) {
        return new DataFormatException(source + ": unsupported element type " + what
                + "; Cortado reads integers (int8..int64, uint8..uint32) and floats (float16..float64)");
    }

    /**
     * A reader over a contiguous dataset: jhdf's mapping of the whole dataset when it fits one
     * buffer, else mappings of {@code segmentBytes} (whole rows) made as rows are asked for.
     */
    private ArrayReader contiguous(ContiguousDataset ds, String source, ElementType type, int[] shape, long bytes) {
        long address = ds.getDataAddress();
        if (address < 0) { // HDF5's undefined address: no storage was ever allocated
            throw new DataFormatException(source + ": the dataset was never written (no storage allocated; "
                    + "the writer may have stopped early)");
        }
        long base = h5.getHdfBackingStorage().getSuperblock().getBaseAddressByte();
        long fileSize = h5.getHdfBackingStorage().size();
        if (base + address + bytes > fileSize || base + address + bytes < 0) {
            throw new DataFormatException(source + ": data at bytes [" + (base + address) + ", "
                    + (base + address + bytes) + ") lies past the end of the file (" + fileSize
                    + " bytes): the file is truncated or damaged");
        }
        return new Mapped(this, ds, source, type.stored, type.order, shape, bytes, segmentBytes);
    }

    /** Rows of a contiguous dataset: slices of memory-mapped segments, copied only across segments. */
    static final class Mapped implements ArrayReader {
        private final Hdf5File file;
        private final ContiguousDataset ds;
        private final String source;
        private final DType dtype;
        private final ByteOrder order;
        private final int[] shape;
        private final int rows;
        private final long rowBytes;
        private final long bytes;
        private final int segmentRows;
        private final AtomicReferenceArray<ByteBuffer> segments;

        Mapped(Hdf5File file, ContiguousDataset ds, String source, DType dtype, ByteOrder order, int[] shape,
                long bytes, int segmentBytes) {
            this.file = file;
            this.ds = ds;
            this.source = source;
            this.dtype = dtype;
            this.order = order;
            this.shape = shape.clone();
            this.rows = shape.length == 0 ? 1 : shape[0];
            this.rowBytes = bytes / rows;
            this.bytes = bytes;
            this.segmentRows = (int) Math.max(1, Math.min(rows, segmentBytes / rowBytes));
            this.segments = new AtomicReferenceArray<>((rows + segmentRows - 1) / segmentRows);
            if (segments.length() == 1) {
                // The whole dataset in one mapping, made by jhdf: the common case.
                ByteBuffer all = ds.getBuffer();
                if (all.capacity() != bytes) {
                    throw new DataFormatException(source + ": jhdf mapped " + all.capacity() + " bytes, expected "
                            + bytes);
                }
                segments.set(0, all);
            }
        }

        private ByteBuffer segment(int s) {
            ByteBuffer seg = segments.get(s);
            if (seg == null) {
                long from = s * (long) segmentRows * rowBytes;
                long len = Math.min(bytes - from, segmentRows * rowBytes);
                try {
                    seg = file.h5.getHdfBackingStorage().map(ds.getDataAddress() + from, len);
                } catch (RuntimeException e) {
                    throw new DataFormatException(source + ": cannot map bytes [" + from + ", " + (from + len)
                            + ") of the dataset: " + describe(e), e);
                }
                // Two threads may map the same segment: keep the first, the other mapping is dropped.
                if (!segments.compareAndSet(s, null, seg)) {
                    seg = segments.get(s);
                }
            }
            return seg;
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
        public ByteBuffer rows(int start, int count) {
            file.checkOpen();
            Objects.checkFromIndexSize(start, count, rows);
            int n = checkedBytes(source, count, rowBytes);
            if (count == 0) {
                return ByteBuffer.allocate(0).order(order);
            }
            int first = start / segmentRows;
            int last = (start + count - 1) / segmentRows;
            if (first == last) {
                int off = Math.toIntExact((start - (long) first * segmentRows) * rowBytes);
                return segment(first).slice(off, n).order(order);
            }
            ByteBuffer out = ByteBuffer.allocate(n).order(order);
            for (int s = first; s <= last; s++) {
                long lo = Math.max(start, (long) s * segmentRows);
                long hi = Math.min((long) start + count, (long) (s + 1) * segmentRows);
                int off = Math.toIntExact((lo - (long) s * segmentRows) * rowBytes);
                out.put(segment(s).slice(off, Math.toIntExact((hi - lo) * rowBytes)));
            }
            return out.flip();
        }

        @Override
        public void close() {
            // The mappings belong to the file; the OS drops them once they are unreachable.
        }
    }

    /** Checks that {@code count} rows fit one buffer; returns their byte count. */
    static int checkedBytes(String source, int count, long rowBytes) {
        long n = count * rowBytes;
        if (n > MAX_ARRAY_BYTES) {
            throw new IllegalArgumentException(source + ": " + count + " rows of " + rowBytes
                    + " bytes do not fit one buffer; read fewer rows at a time");
        }
        return (int) n;
    }

    /**
     * Unsigned 16- and 32-bit integers, handed out widened to int32 and int64 (little-endian), since
     * {@link DType} has no unsigned types wider than a byte.
     */
    static final class Widened implements ArrayReader {
        private final ArrayReader raw;
        private final DType to;

        Widened(ArrayReader raw, DType to) {
            this.raw = raw;
            this.to = to;
        }

        @Override
        public String source() {
            return raw.source();
        }

        @Override
        public DType dtype() {
            return to;
        }

        @Override
        public int[] shape() {
            return raw.shape();
        }

        @Override
        public ByteBuffer rows(int start, int count) {
            ByteBuffer src = raw.rows(start, count);
            int n = src.remaining() / raw.dtype().size;
            ByteBuffer out = ByteBuffer.allocate(Math.multiplyExact(n, to.size)).order(ByteOrder.LITTLE_ENDIAN);
            if (to == DType.I4) {
                for (int i = 0; i < n; i++) {
                    out.putInt(4 * i, Short.toUnsignedInt(src.getShort(2 * i)));
                }
            } else {
                for (int i = 0; i < n; i++) {
                    out.putLong(8 * i, Integer.toUnsignedLong(src.getInt(4 * i)));
                }
            }
            return out;
        }

        @Override
        public int chunkRows() {
            return raw.chunkRows();
        }

        @Override
        public long residentBytes() {
            return raw.residentBytes();
        }

        @Override
        public void close() {
            raw.close();
        }
    }

    // ---- errors

    /**
     * What went wrong inside jhdf, for a message: the exception's type and text, and its causes'
     * (jhdf wraps the useful detail, an inflater's complaint say, a level or two down).
     */
    static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder();
        int depth = 0;
        for (Throwable t = e; t != null && depth < 4; t = t.getCause() == t ? null : t.getCause(), depth++) {
            sb.append(depth > 0 ? " (caused by " : "").append(t.getClass().getSimpleName());
            if (t.getMessage() != null) {
                sb.append(": ").append(t.getMessage());
            }
        }
        return sb.append(")".repeat(depth - 1)).toString();
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel == null) {
            return;
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // Closing a read-only channel has nothing to flush; there is nothing to report.
        }
    }
}
