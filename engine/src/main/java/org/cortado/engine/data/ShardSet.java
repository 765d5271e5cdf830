package org.cortado.engine.data;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.cortado.engine.DataFormatException;

/**
 * A dataset split into shards (files), read as one sequence of samples: sample id {@code i} is row
 * {@code i - offset(s)} of shard {@code s}, shards in the order given.
 *
 * <p>Opening checks everything up front, so a bad file stops a run before training starts: every
 * data array is (N, C, H, W) or (N, H, W) with N labels, all shards agree on the sample shape and
 * dtype (a mismatch names both files), and every label is an integer class id in range (an error
 * names the file and row). Labels are small and kept in memory; pixels are read per batch.
 *
 * <h2>Memory</h2>
 * Memory-mapped arrays cost no heap; a deflated npz member or an HDF5 chunk cache does. Shards are
 * opened on demand and kept open while the bytes they hold ({@link ArrayReader#residentBytes()})
 * fit the budget; the least recently used unused shard is closed to make room. So reading holds at
 * most the budget plus the one shard being read (more only when several threads read different
 * shards at once: each in-use shard stays open).
 *
 * <p>Thread-safe: loaders may read batches from several threads.
 */
public final class ShardSet implements AutoCloseable {
    private final String name;
    private final List<Shard.Opener> openers;
    private final long[] offsets; // offsets[s] = first sample id of shard s; offsets[n] = total
    private final int[][] labels;
    private final int[] chunkRows;
    private final int[] sampleShape; // (C, H, W)
    private final DType dtype;
    private final long budgetBytes;

    /**
     * Open shards by index, in access order (least recently used first), and shards being opened
     * (a slot whose shard is still null). Guarded by {@code this}.
     */
    private final LinkedHashMap<Integer, Open> open = new LinkedHashMap<>(16, 0.75f, true);
    private boolean closed;
    /** The HDF5 chunk cache shared by the shards, when opened from a config (else null). */
    private Hdf5ChunkCache chunkCache;

    /** A shard open, or being opened by one thread while others wait on {@link #ready}. */
    private static final class Open {
        /** Null while opening. */
        Shard shard;
        /** Completed once the shard is open (or failed to open); waited on by the other users. */
        final CompletableFuture<Shard> ready = new CompletableFuture<>();
        /** Threads holding the shard, or waiting for it to open (the opening thread included). */
        int users;

        Open(Shard shard) {
            this.shard = shard;
            if (shard != null) {
                ready.complete(shard);
            }
        }
    }

    private ShardSet(String name, List<Shard.Opener> openers, long[] offsets, int[][] labels, int[] chunkRows,
                     int[] sampleShape, DType dtype, long budgetBytes) {
        this.name = name;
        this.openers = openers;
        this.offsets = offsets;
        this.labels = labels;
        this.chunkRows = chunkRows;
        this.sampleShape = sampleShape;
        this.dtype = dtype;
        this.budgetBytes = budgetBytes;
    }

    /**
     * Opens and checks every shard.
     *
     * @param name        the set, for messages (the configured source)
     * @param shards      the shards in sample order
     * @param numClasses  labels must lie in {@code [0, numClasses)}; 0 checks only {@code >= 0}
     * @param budgetBytes heap the set may keep in open shards (decompressed data, chunk caches)
     * @throws DataFormatException naming the file(s) of the first problem found
     */
    public static ShardSet open(String name, List<Shard.Opener> shards, int numClasses, long budgetBytes) {
        if (shards.isEmpty()) {
            throw new DataFormatException("empty shard set: " + name + " names no data files");
        }
        int n = shards.size();
        long[] offsets = new long[n + 1];
        int[][] labels = new int[n][];
        int[] chunkRows = new int[n];
        int[] sampleShape = null;
        DType dtype = null;
        String first = null;
        ShardSet set = null;
        try {
            for (int s = 0; s < n; s++) {
                Shard.Opener opener = shards.get(s);
                Shard shard = opener.open();
                try {
                    ArrayReader data = shard.data();
                    int[] shape = data.shape();
                    if (shape.length != 3 && shape.length != 4) {
                        throw new DataFormatException(shard.name() + ": data array " + data.source() + " has shape "
                                + Arrays.toString(shape) + "; expected (N, C, H, W) or (N, H, W)");
                    }
                    int[] per = shape.length == 4 ? new int[] {shape[1], shape[2], shape[3]}
                            : new int[] {1, shape[1], shape[2]};
                    if (sampleShape == null) {
                        sampleShape = per;
                        dtype = data.dtype();
                        first = shard.name();
                    } else if (!Arrays.equals(per, sampleShape) || data.dtype() != dtype) {
                        throw new DataFormatException("shards disagree: " + first + " holds samples of "
                                + Arrays.toString(sampleShape) + " " + dtype.numpyName() + " but " + shard.name()
                                + " holds " + Arrays.toString(per) + " " + data.dtype().numpyName());
                    }
                    labels[s] = readLabels(shard, shape[0], numClasses);
                    chunkRows[s] = Math.max(1, data.chunkRows());
                    offsets[s + 1] = offsets[s] + shape[0];
                } catch (RuntimeException e) {
                    shard.close();
                    throw e;
                }
                if (set == null) {
                    // The set shares the arrays this loop fills; making it now lets the shards checked
                    // so far stay open (cached) while they fit the budget.
                    set = new ShardSet(name, List.copyOf(shards), offsets, labels, chunkRows, sampleShape, dtype,
                            budgetBytes);
                }
                set.keepOrClose(s, shard);
            }
            if (offsets[n] == 0) {
                StringBuilder names = new StringBuilder();
                for (int s = 0; s < Math.min(n, 3); s++) {
                    names.append(s == 0 ? "" : ", ").append(shards.get(s).name());
                }
                throw new DataFormatException(name + " holds no samples: every shard is empty (" + names
                        + (n > 3 ? ", ..." : "") + ")");
            }
            if (offsets[n] > Integer.MAX_VALUE) {
                throw new DataFormatException(name + ": " + offsets[n] + " samples; at most 2^31 - 1 are supported");
            }
        } catch (RuntimeException e) {
            if (set != null) {
                set.close();
            }
            throw e;
        }
        return set;
    }

    /**
     * Opens the shard set a config source names (see {@link ShardFiles} for what a source may be).
     * The HDF5 files share one cache of decompressed chunks of half the memory budget, least
     * recently used out whichever file a chunk is from: it holds a whole window of the chunk-aware
     * shuffle ({@link SourceConfig#windowBytes()}, a quarter), so every chunk of a window is
     * decompressed once (see {@link Sampler}). The other half bounds the rest (inflated npz
     * members), shard by shard as {@link #open(String, List, int, long)} describes.
     */
    public static ShardSet open(SourceConfig src) {
        List<ShardFiles.ShardFile> files = ShardFiles.resolve(src.source(), src.dataName(), src.labelName());
        Hdf5ChunkCache chunks = new Hdf5ChunkCache(src.memoryBytes() / 2);
        List<Shard.Opener> openers = files.stream().map(f -> opener(f, src.dataName(), src.labelName(), chunks)).toList();
        ShardSet set = open(src.source(), openers, src.numClasses(), src.memoryBytes() / 2);
        set.chunkCache = chunks;
        return set;
    }

    private static Shard.Opener opener(ShardFiles.ShardFile f, String dataName, String labelName,
                                       Hdf5ChunkCache chunks) {
        return new Shard.Opener() {
            @Override
            public String name() {
                return f.name();
            }

            @Override
            public Shard open() {
                if (f.labels() != null) {
                    NpyFile data = NpyFile.open(f.data());
                    try {
                        return Shard.of(f.name(), data, NpyFile.open(f.labels()));
                    } catch (RuntimeException e) {
                        data.close();
                        throw e;
                    }
                }
                AutoCloseable container;
                ArrayReader data;
                ArrayReader labels;
                if (ShardFiles.isHdf5(f.data())) {
                    Hdf5File h5 = Hdf5File.openShared(f.data(), chunks);
                    container = h5;
                    try {
                        data = h5.array(dataName);
                        labels = h5.array(labelName);
                    } catch (RuntimeException e) {
                        h5.close();
                        throw e;
                    }
                } else {
                    NpzFile npz = NpzFile.open(f.data());
                    container = npz;
                    try {
                        data = npz.array(dataName);
                        labels = npz.array(labelName);
                    } catch (RuntimeException e) {
                        npz.close();
                        throw e;
                    }
                }
                return new Shard() {
                    @Override
                    public String name() {
                        return f.name();
                    }

                    @Override
                    public ArrayReader data() {
                        return data;
                    }

                    @Override
                    public ArrayReader labels() {
                        return labels;
                    }

                    @Override
                    public void close() {
                        try (container; labels) {
                            data.close();
                        } catch (Exception e) {
                            throw new DataFormatException("cannot close " + f.name() + ": " + e.getMessage(), e);
                        }
                    }
                };
            }
        };
    }

    /** Reads and checks the label array of a shard: integers (any dtype) in range. */
    private static int[] readLabels(Shard shard, int rows, int numClasses) {
        ArrayReader lab = shard.labels();
        int[] shape = lab.shape();
        boolean ok = (shape.length == 1 && shape[0] == rows) || (shape.length == 2 && shape[0] == rows && shape[1] == 1);
        if (!ok) {
            throw new DataFormatException(shard.name() + ": label array " + lab.source() + " has shape "
                    + Arrays.toString(shape) + "; expected (" + rows + ") or (" + rows + ", 1) to match " + rows
                    + " data rows");
        }
        int[] out = new int[rows];
        if (rows == 0) {
            return out;
        }
        double[] values = new double[rows];
        lab.dtype().toDouble(lab.rows(0, rows), 0, values, 0, rows);
        for (int i = 0; i < rows; i++) {
            double v = values[i];
            if (v != Math.rint(v) || v < 0 || (numClasses > 0 && v >= numClasses) || v > Integer.MAX_VALUE) {
                String range = numClasses > 0 ? "[0, " + numClasses + ")" : ">= 0";
                throw new DataFormatException(shard.name() + ": label " + fmt(v) + " at row " + i + " of "
                        + lab.source() + " is not a class id " + range);
            }
            out[i] = (int) v;
        }
        return out;
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    public String name() {
        return name;
    }

    public int samples() {
        return (int) offsets[offsets.length - 1];
    }

    public int shards() {
        return openers.size();
    }

    /** The name of shard {@code s} (its file or files). */
    public String shardName(int s) {
        return openers.get(s).name();
    }

    /** Samples in shard {@code s}. */
    public int shardSamples(int s) {
        return (int) (offsets[s + 1] - offsets[s]);
    }

    /** (C, H, W) of one sample. */
    public int[] sampleShape() {
        return sampleShape.clone();
    }

    public int sampleElements() {
        return sampleShape[0] * sampleShape[1] * sampleShape[2];
    }

    public DType dtype() {
        return dtype;
    }

    public int label(long id) {
        int s = shardOf(id);
        return labels[s][(int) (id - offsets[s])];
    }

    /** Count per class id, ascending ids. */
    public Map<Integer, Long> labelCounts() {
        var counts = new java.util.TreeMap<Integer, Long>();
        for (int[] ls : labels) {
            for (int l : ls) {
                counts.merge(l, 1L, Long::sum);
            }
        }
        return counts;
    }

    /**
     * Where rows are read in groups (HDF5 chunks, a whole deflated member): the first sample id of
     * every group, for {@link Sampler#chunked}. A set of memory-mapped files gives every sample.
     */
    public int[] chunkStarts() {
        List<Integer> starts = new ArrayList<>();
        for (int s = 0; s < openers.size(); s++) {
            for (long r = offsets[s]; r < offsets[s + 1]; r += chunkRows[s]) {
                starts.add((int) r);
            }
        }
        return starts.stream().mapToInt(Integer::intValue).toArray();
    }

    /** True when some shard reads rows in groups larger than one (see {@link #chunkStarts()}). */
    public boolean chunked() {
        return Arrays.stream(chunkRows).anyMatch(c -> c > 1);
    }

    /**
     * Reads the given samples into one batch, in the order given. uint8 data stays uint8; any other
     * dtype is converted to float32.
     */
    public RawBatch read(long epoch, int index, long[] ids) {
        int per = sampleElements();
        byte[] bytes = dtype == DType.U1 ? new byte[ids.length * per] : null;
        float[] floats = bytes == null ? new float[ids.length * per] : null;
        int[] labs = new int[ids.length];
        // Visit the ids shard by shard (each shard acquired once), keeping the batch order.
        Integer[] order = new Integer[ids.length];
        for (int i = 0; i < ids.length; i++) {
            order[i] = i;
            checkId(ids[i]);
        }
        Arrays.sort(order, (a, b) -> Long.compare(ids[a], ids[b]));
        int i = 0;
        while (i < order.length) {
            int s = shardOf(ids[order[i]]);
            Shard shard = acquire(s);
            try {
                ArrayReader data = shard.data();
                for (; i < order.length && ids[order[i]] < offsets[s + 1]; i++) {
                    int b = order[i];
                    int row = (int) (ids[b] - offsets[s]);
                    ByteBuffer src = data.rows(row, 1);
                    if (bytes != null) {
                        src.get(0, bytes, b * per, per);
                    } else {
                        dtype.toFloat(src, 0, floats, b * per, per);
                    }
                    labs[b] = labels[s][row];
                }
            } finally {
                release(s);
            }
        }
        return new RawBatch(epoch, index, ids.clone(), labs, sampleShape.clone(), bytes, floats);
    }

    /**
     * Calls {@code visitor} once with rows {@code [start, start + count)} of shard {@code s}: for
     * whole-set passes such as statistics, which read in long runs instead of sample by sample.
     */
    public void scan(int s, int start, int count, RowVisitor visitor) {
        java.util.Objects.checkFromIndexSize(start, count, shardSamples(s));
        Shard shard = acquire(s);
        try {
            visitor.visit(shard.data().rows(start, count), count, Arrays.copyOfRange(labels[s], start, start + count));
        } finally {
            release(s);
        }
    }

    /** Receives raw rows from {@link #scan}: bytes in the set's dtype and the file's byte order. */
    @FunctionalInterface
    public interface RowVisitor {
        void visit(ByteBuffer rows, int count, int[] labels);
    }

    private void checkId(long id) {
        if (id < 0 || id >= samples()) {
            throw new IndexOutOfBoundsException("sample id " + id + " outside " + name + " (" + samples() + " samples)");
        }
    }

    private int shardOf(long id) {
        checkId(id);
        int s = Arrays.binarySearch(offsets, id);
        if (s >= 0) {
            // id starts shard s, unless shards before it are empty: take the last shard starting here.
            while (s + 1 < offsets.length - 1 && offsets[s + 1] == id) {
                s++;
            }
            return s;
        }
        return -s - 2;
    }

    // ---- the open-shard cache -----------------------------------------------------------------

    /**
     * The open shard {@code s}, opened if needed, with one more user (undone by {@link #release}).
     * Single-flight: while one thread opens a shard, other threads asking for it wait for that open.
     */
    private Shard acquire(int s) {
        Open o;
        boolean mine = false;
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException(name + " is closed");
            }
            o = open.get(s);
            if (o == null) {
                o = new Open(null); // pending: this thread opens it, others wait on o.ready
                open.put(s, o);
                mine = true;
            }
            o.users++;
            if (o.shard != null) {
                return o.shard;
            }
        }
        if (!mine) {
            return await(o);
        }
        // Open outside the lock: opening (inflating an npz member) may take a while.
        Shard shard;
        try {
            shard = openers.get(s).open();
        } catch (RuntimeException | Error e) {
            synchronized (this) {
                open.remove(s, o);
            }
            o.ready.completeExceptionally(e);
            throw e;
        }
        synchronized (this) {
            if (closed || open.get(s) != o) { // the set closed meanwhile: close() left this one to us
                shard.close();
                IllegalStateException e = new IllegalStateException(name + " is closed");
                o.ready.completeExceptionally(e);
                throw e;
            }
            o.shard = shard;
            evict();
        }
        o.ready.complete(shard);
        return shard;
    }

    /** Waits for another thread to open a shard; a failure to open is rethrown here. */
    private static Shard await(Open o) {
        try {
            return o.ready.join();
        } catch (CompletionException e) {
            // Rethrown from this thread, so its stack trace shows where this reader asked.
            if (e.getCause() instanceof DataFormatException d) {
                throw new DataFormatException(d.getMessage(), d);
            }
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    private synchronized void release(int s) {
        Open o = open.get(s);
        if (o != null) {
            o.users--;
            evict();
        }
    }

    /** Used during {@link #open}: keeps a freshly checked shard, closing older ones beyond the budget. */
    private synchronized void keepOrClose(int s, Shard shard) {
        open.put(s, new Open(shard));
        evict();
    }

    /**
     * Closes least recently used idle shards while the open ones hold more than the budget. The most
     * recently used shard (the last entry) stays open even when it alone is over the budget: closing
     * it would reopen (re-inflate) it on every read. So the set holds at most the budget plus it.
     */
    private void evict() {
        var it = open.entrySet().iterator();
        while (shardResident() > budgetBytes && it.hasNext()) {
            Open o = it.next().getValue();
            if (o.users == 0 && o.shard != null && it.hasNext()) {
                it.remove();
                o.shard.close();
            }
        }
    }

    /** Heap held by the open shards now, shared chunk cache included. */
    public synchronized long resident() {
        return shardResident() + (chunkCache == null ? 0 : chunkCache.residentBytes());
    }

    /** Heap held by the open shards themselves: what closing idle shards can free. */
    private long shardResident() {
        long sum = 0;
        for (Open o : open.values()) {
            if (o.shard != null) { // else still being opened
                sum += o.shard.data().residentBytes() + o.shard.labels().residentBytes();
            }
        }
        return sum;
    }

    /** Shards open now (for tests and metrics). */
    public synchronized int openShards() {
        return (int) open.values().stream().filter(o -> o.shard != null).count();
    }

    @Override
    public synchronized void close() {
        closed = true;
        for (Open o : open.values()) {
            if (o.shard != null) { // a shard still being opened is closed by its opener (see acquire)
                o.shard.close();
            }
        }
        open.clear();
        if (chunkCache != null) {
            chunkCache.clear();
        }
    }
}
