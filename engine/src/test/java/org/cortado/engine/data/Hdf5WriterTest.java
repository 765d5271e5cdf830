package org.cortado.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.cortado.engine.DataFormatException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hdf5Writer: what it writes, read back by real h5py (jhdf calls its writer alpha) and by our own
 * reader; its checks on names, shapes and options.
 */
class Hdf5WriterTest {
    @TempDir
    Path tmp;

    /** Every dtype, a nested name, a big-endian source, a row count no chunk size divides, a scalar. */
    static LinkedHashMap<String, NdArray> arrays() {
        LinkedHashMap<String, NdArray> m = new LinkedHashMap<>();
        m.put("images", array("u1", DType.U1, ByteOrder.LITTLE_ENDIAN, 1, 13, 1, 4, 5));
        m.put("labels", array("i8", DType.I8, ByteOrder.LITTLE_ENDIAN, 2, 13));
        m.put("i1", array("i1", DType.I1, ByteOrder.LITTLE_ENDIAN, 3, 9, 2));
        m.put("i2", array("i2", DType.I2, ByteOrder.BIG_ENDIAN, 4, 9, 3));
        m.put("i4", array("i4", DType.I4, ByteOrder.LITTLE_ENDIAN, 5, 10, 2, 2));
        m.put("grp/sub/f4", array("f4", DType.F4, ByteOrder.BIG_ENDIAN, 6, 7, 3));
        m.put("grp/f8", array("f8", DType.F8, ByteOrder.LITTLE_ENDIAN, 7, 5, 2));
        m.put("half", array("f2", DType.F2, ByteOrder.LITTLE_ENDIAN, 8, 6));
        m.put("flags", array("b1", DType.BOOL, ByteOrder.LITTLE_ENDIAN, 9, 11));
        m.put("scalar", array("f8", DType.F8, ByteOrder.LITTLE_ENDIAN, 10));
        return m;
    }

    /** An array of the fixture formula's values ({@link Hdf5FileTest#intValue}, {@link Hdf5FileTest#floatValue}). */
    static NdArray array(String code, DType dtype, ByteOrder order, long seed, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        ByteBuffer b = ByteBuffer.allocate(n * dtype.size).order(order);
        for (int k = 0; k < n; k++) {
            switch (dtype) {
                case BOOL, U1, I1 -> b.put(k, (byte) Hdf5FileTest.intValue(code, k, seed));
                case I2 -> b.putShort(2 * k, (short) Hdf5FileTest.intValue(code, k, seed));
                case I4 -> b.putInt(4 * k, (int) Hdf5FileTest.intValue(code, k, seed));
                case I8 -> b.putLong(8 * k, Hdf5FileTest.intValue(code, k, seed));
                case F2 -> b.putShort(2 * k, Float.floatToFloat16((float) Hdf5FileTest.floatValue(code, k, seed)));
                case F4 -> b.putFloat(4 * k, (float) Hdf5FileTest.floatValue(code, k, seed));
                case F8 -> b.putDouble(8 * k, Hdf5FileTest.floatValue(code, k, seed));
            }
        }
        return new NdArray(code, dtype, shape, b);
    }

    /** What the written dataset holds: bool becomes uint8, float16 becomes float32, the rest as is. */
    static DType written(DType d) {
        return switch (d) {
            case BOOL -> DType.U1;
            case F2 -> DType.F4;
            default -> d;
        };
    }

    static Stream<Hdf5Writer.Options> options() {
        return Stream.of(Hdf5Writer.Options.CONTIGUOUS, Hdf5Writer.Options.chunked(4),
                Hdf5Writer.Options.chunked(4).gzip(6).shuffled(), Hdf5Writer.Options.chunked(3).gzip(1),
                Hdf5Writer.Options.chunked(1000).shuffled()); // more rows per chunk than any array has
    }

    @ParameterizedTest
    @MethodSource("options")
    void ourReaderReadsBackEveryValue(Hdf5Writer.Options options) {
        Path file = tmp.resolve("back.h5");
        LinkedHashMap<String, NdArray> arrays = arrays();
        Hdf5Writer.write(file, arrays, options);
        try (Hdf5File h5 = Hdf5File.open(file)) {
            List<String> names = new ArrayList<>(arrays.keySet());
            names.sort(null);
            assertEquals(names, h5.datasets());
            for (Map.Entry<String, NdArray> e : arrays.entrySet()) {
                NdArray a = e.getValue();
                try (ArrayReader r = h5.array(e.getKey())) {
                    String where = e.getKey() + " " + options;
                    assertEquals(written(a.dtype()), r.dtype(), where);
                    assertArrayEquals(a.shape(), r.shape(), where);
                    boolean chunked = options.chunkRows() > 0 && a.shape().length > 0;
                    int chunkRows = chunked ? Math.min(options.chunkRows(), a.rows()) : 1;
                    assertEquals(chunkRows, r.chunkRows(), where);
                    ByteBuffer back = r.rows(0, r.rows());
                    for (int i = 0; i < a.rows() * a.rowElements(); i++) {
                        assertEquals(a.dtype().get(a.data(), i), r.dtype().get(back, i), where + " element " + i);
                    }
                }
            }
        }
    }

    @Test
    void h5pyReadsValuesDtypesChunksAndFilters() throws IOException {
        LinkedHashMap<String, NdArray> arrays = arrays();
        List<Hdf5Writer.Options> all = options().toList();
        List<Path> files = new ArrayList<>();
        for (int f = 0; f < all.size(); f++) {
            files.add(tmp.resolve("h5py" + f + ".h5"));
            Hdf5Writer.write(files.get(f), arrays, all.get(f));
        }
        JsonNode perFile = new ObjectMapper().readTree(h5py(files)); // one python start for all files
        for (int f = 0; f < all.size(); f++) {
            Hdf5Writer.Options options = all.get(f);
            JsonNode got = perFile.get(f);
            assertEquals(arrays.size(), got.size(), got.toString());
            for (Map.Entry<String, NdArray> e : arrays.entrySet()) {
                NdArray a = e.getValue();
                JsonNode ds = got.get(e.getKey());
                String where = e.getKey() + " " + options + ": " + ds;
                DType d = written(a.dtype());
                // h5py's dtype.str: '|u1' for uint8 (unsigned, not int8), '<i8' for labels, ...
                assertEquals(d.numpyDescr(ByteOrder.LITTLE_ENDIAN), ds.get("dtype").asText(), where);
                assertEquals(a.shape().length, ds.get("shape").size(), where);
                for (int i = 0; i < a.shape().length; i++) {
                    assertEquals(a.shape()[i], ds.get("shape").get(i).asInt(), where);
                }
                boolean chunked = options.chunkRows() > 0 && a.shape().length > 0;
                if (chunked) {
                    int[] chunk = a.shape();
                    chunk[0] = Math.min(options.chunkRows(), chunk[0]);
                    for (int i = 0; i < chunk.length; i++) {
                        assertEquals(chunk[i], ds.get("chunks").get(i).asInt(), where);
                    }
                    assertEquals(options.gzipLevel() > 0 ? "gzip" : "null", ds.get("compression").asText(), where);
                    if (options.gzipLevel() > 0) {
                        assertEquals(options.gzipLevel(), ds.get("opts").asInt(), where);
                    }
                    assertEquals(options.shuffle(), ds.get("shuffle").asBoolean(), where);
                } else {
                    assertTrue(ds.get("chunks").isNull(), where);
                    assertTrue(ds.get("compression").isNull(), where);
                }
                JsonNode values = ds.get("values");
                assertEquals(a.rows() * a.rowElements(), values.size(), where);
                for (int i = 0; i < values.size(); i++) {
                    double expected = a.dtype() == DType.BOOL ? (a.data().get(i) != 0 ? 1 : 0)
                            : a.dtype().get(a.data(), i);
                    assertEquals(expected, values.get(i).asDouble(), 0.0, where + " element " + i);
                }
                if (a.dtype() == DType.I8) { // beyond 2^53: compare the exact integers too
                    for (int i = 0; i < values.size(); i++) {
                        assertEquals(a.data().getLong(8 * i), values.get(i).asLong(), where + " element " + i);
                    }
                }
            }
        }
    }

    private static final String DUMP = """
            import h5py, json, sys
            import numpy as np
            def visit(name, obj):
                if isinstance(obj, h5py.Dataset):
                    out[name] = dict(dtype=obj.dtype.str, shape=list(obj.shape),
                                     chunks=list(obj.chunks) if obj.chunks else None,
                                     compression=obj.compression, opts=obj.compression_opts, shuffle=obj.shuffle,
                                     values=np.asarray(obj[()]).ravel().tolist())
            files = []
            for path in sys.argv[1:]:
                out = {}
                with h5py.File(path, "r") as f:
                    f.visititems(visit)
                files.append(out)
            print(json.dumps(files))
            """;

    private static final Path PYTHON = Path.of("/usr/bin/python3");

    /**
     * h5py's view of {@code files} as a JSON list (per file: dataset path to dtype, shape, chunks,
     * filters and values); skips the test where that python or its h5py is missing.
     */
    private static String h5py(List<Path> files) throws IOException {
        boolean ready = Files.isExecutable(PYTHON)
                && run(List.of(PYTHON.toString(), "-c", "import numpy, h5py")).exit == 0;
        Assumptions.assumeTrue(ready,
                "skipped: " + PYTHON + " with numpy and h5py is not available to read what we write");
        List<String> command = new ArrayList<>(List.of(PYTHON.toString(), "-c", DUMP));
        files.forEach(f -> command.add(f.toString()));
        Result r = run(command);
        assertEquals(0, r.exit, "h5py could not read " + files + ":\n" + r.output);
        return r.output;
    }

    private record Result(int exit, String output) {}

    private static Result run(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timed out\n" + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, e.toString());
        }
        return new Result(p.exitValue(), out);
    }

    @Test
    void replacesAnExistingFileAndLeavesNoTemporaries() throws IOException {
        Path file = Files.writeString(tmp.resolve("replace.h5"), "old contents");
        LinkedHashMap<String, NdArray> one = new LinkedHashMap<>();
        one.put("x", NdArray.ofFloats("x", new float[] {1, 2, 3, 4}, 2, 2));
        Hdf5Writer.write(file, one, Hdf5Writer.Options.CONTIGUOUS);
        try (Hdf5File h5 = Hdf5File.open(file)) {
            assertEquals(List.of("x"), h5.datasets());
        }
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @Test
    void rejectsBadNamesEmptyArraysAndBadOptions() {
        Path file = tmp.resolve("bad.h5");
        NdArray x = NdArray.ofFloats("x", new float[] {1, 2}, 2);
        for (String name : List.of("", "/", "a//b", "a/", "a/./b", "..", "a/../b")) {
            LinkedHashMap<String, NdArray> m = new LinkedHashMap<>();
            m.put(name, x);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Hdf5Writer.write(file, m, Hdf5Writer.Options.CONTIGUOUS), name);
            assertTrue(e.getMessage().contains("'" + name + "'"), e.getMessage());
        }
        LinkedHashMap<String, NdArray> clash = new LinkedHashMap<>();
        clash.put("a", x);
        clash.put("a/b", x);
        assertThrows(IllegalArgumentException.class, () -> Hdf5Writer.write(file, clash, Hdf5Writer.Options.CONTIGUOUS));
        LinkedHashMap<String, NdArray> sameTwice = new LinkedHashMap<>();
        sameTwice.put("a", x);
        sameTwice.put("/a", x);
        assertThrows(IllegalArgumentException.class,
                () -> Hdf5Writer.write(file, sameTwice, Hdf5Writer.Options.CONTIGUOUS));

        LinkedHashMap<String, NdArray> empty = new LinkedHashMap<>();
        empty.put("e", new NdArray("e", DType.F4, new int[] {0, 3}, ByteBuffer.allocate(0)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Hdf5Writer.write(file, empty, Hdf5Writer.Options.CONTIGUOUS));
        assertTrue(e.getMessage().contains("'e'") && e.getMessage().contains("no elements"), e.getMessage());
        assertTrue(Files.notExists(file));

        assertThrows(IllegalArgumentException.class, () -> Hdf5Writer.Options.chunked(0));
        assertThrows(IllegalArgumentException.class, () -> Hdf5Writer.Options.chunked(4).gzip(10));
        assertThrows(IllegalArgumentException.class, () -> new Hdf5Writer.Options(0, 4, false));
        assertThrows(IllegalArgumentException.class, () -> new Hdf5Writer.Options(0, 0, true));
        assertThrows(IllegalArgumentException.class, () -> new Hdf5Writer.Options(-1, 0, false));
    }

    @Test
    void aWriteFailureNamesTheFile() {
        Path file = tmp.resolve("no-such-folder").resolve("x.h5");
        LinkedHashMap<String, NdArray> one = new LinkedHashMap<>();
        one.put("x", NdArray.ofFloats("x", new float[] {1}, 1));
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> Hdf5Writer.write(file, one, Hdf5Writer.Options.CONTIGUOUS));
        assertTrue(e.getMessage().contains("x.h5"), e.getMessage());
    }
}
