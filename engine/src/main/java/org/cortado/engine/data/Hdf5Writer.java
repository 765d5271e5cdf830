package org.cortado.engine.data;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.DatasetCreationOptions;
import io.jhdf.api.WritableGroup;
import java.io.IOException;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SequencedMap;
import java.util.UUID;
import org.cortado.engine.DataFormatException;

/**
 * Writes {@link NdArray}s as the datasets of a new HDF5 file (dataset import, snapshots), through
 * jhdf's writer, which it calls "alpha": {@code Hdf5WriterTest} reads every option back with h5py.
 *
 * <p>Element types: uint8 is written as <em>unsigned</em> 8-bit (numpy's {@code uint8}), int8..int64
 * signed, float32/float64 as IEEE floats, little-endian whatever the array's byte order. Two types
 * jhdf cannot write are stored as the nearest one that holds every value: bool as uint8 (0 or 1), and
 * float16 as float32. Datasets named {@code a/b} go into group {@code a}.
 *
 * <p>Chunked datasets hold whole rows per chunk ({@code chunkRows} x the rest of the shape), which is
 * what {@link Hdf5File} reads fastest; they use HDF5 1.10's chunk index (layout version 4), which
 * h5py and HDF5 1.10+ read and HDF5 1.8 (Caffe's) does not; contiguous datasets are readable by all.
 * jhdf builds each dataset in memory before writing it, about three times its size at peak.
 */
public final class Hdf5Writer {
    private Hdf5Writer() {}

    /**
     * How datasets are stored.
     *
     * @param chunkRows rows per chunk, or 0 for contiguous storage (then no filters); a dataset with
     *     fewer rows gets one chunk of all of them, and a scalar is always contiguous
     * @param gzipLevel deflate level 1..9, or 0 for none
     * @param shuffle   HDF5's byte shuffle before deflate (helps multi-byte types compress)
     */
    public record Options(int chunkRows, int gzipLevel, boolean shuffle) {
        /** Contiguous, unfiltered: the fastest to read, memory-mapped. */
        public static final Options CONTIGUOUS = new Options(0, 0, false);

        public Options {
            if (chunkRows < 0) {
                throw new IllegalArgumentException("chunkRows must be >= 0 (0: contiguous), got " + chunkRows);
            }
            if (gzipLevel < 0 || gzipLevel > 9) {
                throw new IllegalArgumentException("gzipLevel must be in 0..9 (0: no compression), got " + gzipLevel);
            }
            if (chunkRows == 0 && (gzipLevel > 0 || shuffle)) {
                throw new IllegalArgumentException("HDF5 filters (gzip " + gzipLevel + ", shuffle " + shuffle
                        + ") need chunked storage: set chunkRows > 0");
            }
        }

        /** Chunked, {@code chunkRows} whole rows per chunk, unfiltered. */
        public static Options chunked(int chunkRows) {
            if (chunkRows <= 0) {
                throw new IllegalArgumentException("chunkRows must be > 0 for chunked storage, got " + chunkRows);
            }
            return new Options(chunkRows, 0, false);
        }

        /** The same, deflated at {@code level} (1..9). */
        public Options gzip(int level) {
            return new Options(chunkRows, level, shuffle);
        }

        /** The same, byte-shuffled before deflate. */
        public Options shuffled() {
            return new Options(chunkRows, gzipLevel, true);
        }
    }

    /**
     * Writes {@code arrays} (dataset name to array, in this order) to a new file at {@code file},
     * replacing it if present. The file is written beside the target and renamed over it, so a crash
     * never leaves a half-written file under the target's name.
     *
     * @throws IllegalArgumentException if a name is empty, has an empty, {@code .} or {@code ..}
     *     part, or is both a dataset and a group of another name; or an array has no elements (jhdf
     *     0.13 cannot write empty datasets)
     * @throws DataFormatException naming the file and dataset if writing fails
     */
    public static void write(Path file, SequencedMap<String, NdArray> arrays, Options options) {
        Map<String, String> kinds = new HashMap<>(); // path -> "group" or "dataset"
        for (Map.Entry<String, NdArray> e : arrays.entrySet()) {
            checkName(e.getKey(), kinds);
            NdArray a = e.getValue();
            long count = 1;
            for (int d : a.shape()) {
                count *= d;
            }
            if (count == 0) {
                throw new IllegalArgumentException("cannot write dataset '" + e.getKey() + "' to " + file + ": shape "
                        + Arrays.toString(a.shape()) + " has no elements, and jhdf 0.13 cannot write empty datasets");
            }
            long bytes = count * (a.dtype() == DType.F2 ? 4 : a.dtype().size);
            if (bytes > Hdf5File.MAX_ARRAY_BYTES) { // jhdf encodes a dataset into one byte array
                throw new IllegalArgumentException("cannot write dataset '" + e.getKey() + "' to " + file + ": "
                        + bytes + " bytes, more than jhdf 0.13 writes in one dataset; split it into several files");
            }
        }
        Path target = file.toAbsolutePath();
        // Not Files.createTempFile: that makes the file owner-only, and the rename would keep it so.
        Path tmp = target.resolveSibling(target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        String current = null;
        try {
            try (WritableHdfFile h5 = HdfFile.write(tmp)) {
                Map<String, WritableGroup> groups = new HashMap<>();
                for (Map.Entry<String, NdArray> e : arrays.entrySet()) {
                    current = e.getKey();
                    String name = strip(e.getKey());
                    int slash = name.lastIndexOf('/');
                    WritableGroup parent = slash < 0 ? h5 : group(h5, groups, name.substring(0, slash));
                    NdArray a = e.getValue();
                    parent.putDataset(name.substring(slash + 1), toJavaArray(a), creationOptions(a, options));
                }
                current = null; // jhdf writes the datasets on close
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            throw new DataFormatException("cannot write HDF5 file " + file
                    + (current == null ? "" : " (dataset /" + strip(current) + ")") + ": " + Hdf5File.describe(e), e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // Best effort: the temp file only exists if the write failed.
            }
        }
    }

    private static String strip(String name) {
        return name.startsWith("/") ? name.substring(1) : name;
    }

    private static void checkName(String name, Map<String, String> kinds) {
        String path = strip(name);
        String[] parts = path.split("/", -1);
        for (String p : parts) {
            if (p.isEmpty() || p.equals(".") || p.equals("..")) {
                throw new IllegalArgumentException("dataset name '" + name + "' is not a valid HDF5 path");
            }
        }
        String prefix = "";
        for (int i = 0; i < parts.length; i++) {
            prefix = i == 0 ? parts[0] : prefix + "/" + parts[i];
            String kind = i == parts.length - 1 ? "dataset" : "group";
            String before = kinds.putIfAbsent(prefix, kind);
            if (before != null && (kind.equals("dataset") || before.equals("dataset"))) {
                throw new IllegalArgumentException("dataset name '" + name + "' clashes with another: /" + prefix
                        + " would be both a " + before + " and a " + kind);
            }
        }
    }

    private static WritableGroup group(WritableHdfFile h5, Map<String, WritableGroup> groups, String path) {
        WritableGroup g = groups.get(path);
        if (g == null) {
            int slash = path.lastIndexOf('/');
            WritableGroup parent = slash < 0 ? h5 : group(h5, groups, path.substring(0, slash));
            g = parent.putGroup(path.substring(slash + 1));
            groups.put(path, g);
        }
        return g;
    }

    private static DatasetCreationOptions creationOptions(NdArray a, Options options) {
        DatasetCreationOptions.Builder b = DatasetCreationOptions.builder();
        if (a.dtype() == DType.U1 || a.dtype() == DType.BOOL) {
            b.unsigned();
        }
        int[] shape = a.shape();
        if (options.chunkRows() > 0 && shape.length > 0) {
            int[] chunk = shape.clone();
            chunk[0] = Math.min(options.chunkRows(), shape[0]);
            b.chunkDimensions(chunk);
            // Shuffle first: it regroups the bytes that deflate then compresses.
            if (options.shuffle()) {
                b.shuffle();
            }
            if (options.gzipLevel() > 0) {
                b.deflate(options.gzipLevel());
            }
        }
        return b.build();
    }

    /**
     * The array as jhdf takes it: a nested Java array of the element type ({@code byte[][][]} for a
     * rank-3 uint8 array), or a boxed scalar for rank 0.
     */
    static Object toJavaArray(NdArray a) {
        int[] shape = a.shape();
        ByteBuffer data = a.data();
        Class<?> type = switch (a.dtype()) {
            case BOOL, U1, I1 -> byte.class;
            case I2 -> short.class;
            case I4 -> int.class;
            case I8 -> long.class;
            case F2, F4 -> float.class;
            case F8 -> double.class;
        };
        if (shape.length == 0) {
            Object one = Array.newInstance(type, 1);
            fillLeaf(one, a.dtype(), data, 0);
            return Array.get(one, 0);
        }
        Object array = Array.newInstance(type, shape);
        fill(array, shape.length, a.dtype(), data, 0);
        return array;
    }

    /** Fills the innermost arrays of {@code array} from element {@code index} on; returns the next index. */
    private static int fill(Object array, int depth, DType dtype, ByteBuffer data, int index) {
        if (depth == 1) {
            return index + fillLeaf(array, dtype, data, index);
        }
        for (int i = 0, n = Array.getLength(array); i < n; i++) {
            index = fill(Array.get(array, i), depth - 1, dtype, data, index);
        }
        return index;
    }

    private static int fillLeaf(Object leaf, DType dtype, ByteBuffer data, int index) {
        int n = Array.getLength(leaf);
        int at = index * dtype.size;
        switch (dtype) {
            case U1, I1 -> data.get(at, (byte[]) leaf);
            case BOOL -> {
                byte[] b = (byte[]) leaf;
                for (int i = 0; i < n; i++) {
                    b[i] = (byte) (data.get(at + i) != 0 ? 1 : 0);
                }
            }
            case I2 -> data.slice(at, 2 * n).order(data.order()).asShortBuffer().get((short[]) leaf);
            case I4 -> data.slice(at, 4 * n).order(data.order()).asIntBuffer().get((int[]) leaf);
            case I8 -> data.slice(at, 8 * n).order(data.order()).asLongBuffer().get((long[]) leaf);
            case F2, F4 -> dtype.toFloat(data, index, (float[]) leaf, 0, n);
            case F8 -> data.slice(at, 8 * n).order(data.order()).asDoubleBuffer().get((double[]) leaf);
        }
        return n;
    }
}
