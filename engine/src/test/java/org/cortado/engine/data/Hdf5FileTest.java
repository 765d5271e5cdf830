package org.cortado.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.cortado.engine.DataFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hdf5File against files written by h5py ({@code fixtures/data/make_h5_fixtures.py}): every dtype
 * and byte order, every layout and chunk index, every element against the script's formula, every
 * row range; errors for what it cannot or should not read; concurrent readers; the chunk cache.
 */
class Hdf5FileTest {
    @TempDir
    Path tmp;

    // ---- the fixture script's formula, recomputed

    private static final long MUL = 0x9E3779B97F4A7C15L;
    private static final long MUL2 = 0xD1B54A32D192ED03L;

    /** Element {@code k} of an integer dataset of numpy type {@code code} (b1, u1 ... i8) and {@code seed}. */
    static long intValue(String code, long k, long seed) {
        int bits = switch (code) {
            case "b1" -> 1;
            case "u1", "i1" -> 8;
            case "u2", "i2" -> 16;
            case "u4", "i4" -> 32;
            case "u8", "i8" -> 64;
            default -> throw new IllegalArgumentException(code);
        };
        long x = k * MUL + seed * MUL2 + 12345; // mod 2^64, as the script's % M64
        long v = bits == 64 ? x : x >>> (64 - bits);
        if (code.charAt(0) == 'i' && bits < 64 && v >= 1L << (bits - 1)) {
            v -= 1L << bits;
        }
        return v;
    }

    /** Element {@code k} of a float dataset, as the double the script computed before storing it. */
    static double floatValue(String code, long k, long seed) {
        double a = ((k * 13 + seed * 7) % 256 - 128) / 8.0;
        return code.equals("f2") ? a : a * 1.1 + (k % 7) * 0.1;
    }

    /** Asserts element {@code i} of {@code buf} (a reader's {@code dtype}) is element {@code k} of the formula. */
    static void assertElement(String code, long seed, DType dtype, ByteBuffer buf, int i, long k, String where) {
        if (code.charAt(0) == 'f') {
            double v = floatValue(code, k, seed);
            double expected = switch (code) {
                case "f2", "f4" -> (float) v; // f2 values are multiples of 1/8: exact in half and float
                default -> v;
            };
            assertEquals(expected, dtype.get(buf, i), 0.0, where + " element " + k);
            return;
        }
        long actual = switch (dtype) {
            case BOOL, I1 -> buf.get(i);
            case U1 -> buf.get(i) & 0xff;
            case I2 -> buf.getShort(2 * i);
            case I4 -> buf.getInt(4 * i);
            case I8 -> buf.getLong(8 * i);
            default -> throw new AssertionError(where + ": integer data read as " + dtype);
        };
        assertEquals(intValue(code, k, seed), actual, where + " element " + k);
    }

    static Path fixture(String name) {
        URL url = Hdf5FileTest.class.getResource("/fixtures/data/" + name);
        if (url == null) {
            throw new IllegalStateException("missing test fixture " + name + "; run fixtures/data/make_h5_fixtures.py");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A dataset of a fixture file, as the script wrote it.
     *
     * @param code      numpy type code of the values written
     * @param dtype     the dtype the reader hands out
     * @param order     byte order of the rows handed out (single bytes: either)
     * @param chunkRows chunk extent on axis 0; 1 for contiguous and compact
     */
    record Fixture(String file, String name, String code, DType dtype, ByteOrder order, int[] shape, long seed,
            int chunkRows) {
        @Override
        public String toString() {
            return file + ":" + name;
        }
    }

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;

    static List<Fixture> fixtures() {
        List<Fixture> f = new ArrayList<>();
        // h5_dtypes.h5: seeds count up from 1 in the script's loop order
        int[] s65 = {6, 5};
        long seed = 1;
        for (String code : List.of("u1", "i1", "i2", "i4", "i8", "f2", "f4", "f8", "u2", "u4")) {
            DType dtype = switch (code) {
                case "u2" -> DType.I4;
                case "u4" -> DType.I8;
                default -> DType.of(code.charAt(0), code.charAt(1) - '0');
            };
            boolean widened = code.startsWith("u") && !code.equals("u1");
            if (code.equals("u1") || code.equals("i1")) {
                f.add(new Fixture("h5_dtypes.h5", code, code, dtype, null, s65, seed++, 1));
            } else {
                f.add(new Fixture("h5_dtypes.h5", "le_" + code, code, dtype, LE, s65, seed++, 1));
                f.add(new Fixture("h5_dtypes.h5", "be_" + code, code, dtype, widened ? LE : BE, s65, seed++, 1));
            }
        }
        f.add(new Fixture("h5_dtypes.h5", "be_i2_shuffle", "i2", DType.I2, BE, new int[] {9, 5}, 30, 4));
        f.add(new Fixture("h5_dtypes.h5", "be_f8_gzip", "f8", DType.F8, BE, new int[] {9, 5}, 31, 2));

        String l = "h5_layouts.h5";
        f.add(new Fixture(l, "contig_r1", "f4", DType.F4, LE, new int[] {23}, 40, 1));
        f.add(new Fixture(l, "chunk_r1", "f4", DType.F4, LE, new int[] {23}, 41, 5));
        f.add(new Fixture(l, "chunk_r2", "i4", DType.I4, LE, new int[] {17, 6}, 42, 4));
        f.add(new Fixture(l, "gzip_r3", "f4", DType.F4, LE, new int[] {13, 4, 6}, 43, 5));
        f.add(new Fixture(l, "shuffle_gzip_r3", "i2", DType.I2, LE, new int[] {13, 4, 6}, 44, 3));
        f.add(new Fixture(l, "split_r3", "f4", DType.F4, LE, new int[] {11, 7, 5}, 45, 4));
        f.add(new Fixture(l, "split_gzip_r4", "i4", DType.I4, LE, new int[] {9, 3, 5, 4}, 46, 2));
        f.add(new Fixture(l, "contig_r4", "u1", DType.U1, null, new int[] {3, 2, 4, 5}, 47, 1));
        f.add(new Fixture(l, "fletcher_r2", "f8", DType.F8, LE, new int[] {10, 3}, 48, 4));
        f.add(new Fixture(l, "lzf_r2", "f4", DType.F4, LE, new int[] {12, 5}, 49, 5));
        f.add(new Fixture(l, "bool_r1", "b1", DType.BOOL, null, new int[] {9}, 50, 1));
        f.add(new Fixture(l, "scalar", "f8", DType.F8, LE, new int[] {}, 51, 1));
        f.add(new Fixture(l, "empty", "f4", DType.F4, LE, new int[] {0, 3}, 52, 1));
        f.add(new Fixture(l, "grp/x", "f4", DType.F4, LE, new int[] {7, 2}, 53, 1));
        f.add(new Fixture(l, "grp/sub/y", "i8", DType.I8, LE, new int[] {5}, 54, 2));
        f.add(new Fixture(l, "compact_r2", "i2", DType.I2, LE, new int[] {4, 3}, 55, 1));

        String v4 = "h5_latest.h5";
        f.add(new Fixture(v4, "fixed", "f4", DType.F4, LE, new int[] {13, 6}, 60, 4));
        f.add(new Fixture(v4, "extensible", "i2", DType.I2, LE, new int[] {13, 6}, 61, 4));
        f.add(new Fixture(v4, "btree2", "f8", DType.F8, LE, new int[] {13, 6}, 62, 4));
        f.add(new Fixture(v4, "single", "u1", DType.U1, null, new int[] {5, 6}, 63, 5));
        f.add(new Fixture(v4, "implicit", "i4", DType.I4, LE, new int[] {13, 6}, 64, 4));

        f.add(new Fixture("h5_fuzz_chunked.h5", "data", "f4", DType.F4, LE, new int[] {24, 3, 4}, 80, 6));
        f.add(new Fixture("h5_fuzz_chunked.h5", "labels", "i8", DType.I8, LE, new int[] {24}, 81, 8));
        f.add(new Fixture("h5_fuzz_contiguous.h5", "data", "u1", DType.U1, null, new int[] {24, 3, 4}, 82, 1));
        f.add(new Fixture("h5_fuzz_contiguous.h5", "labels", "i8", DType.I8, LE, new int[] {24}, 83, 1));
        return f;
    }

    /** How a test opens a file: mapped whole (files up to 2 GiB) or through a channel (larger ones). */
    enum Access {
        MAPPED(Hdf5File.MAX_ARRAY_BYTES),
        CHANNEL(0);

        final long wholeFileBytes;

        Access(long wholeFileBytes) {
            this.wholeFileBytes = wholeFileBytes;
        }

        Hdf5File open(Path file, long chunkCacheBytes) {
            return Hdf5File.open(file, chunkCacheBytes, Hdf5File.MAX_ARRAY_BYTES, wholeFileBytes);
        }
    }

    static Stream<Arguments> allFixtures() {
        return fixtures().stream().flatMap(f -> Stream.of(Access.values()).map(a -> Arguments.of(f, a)));
    }

    /** Asserts every element of {@code buf}, rows [start, start + count) of {@code f}. */
    static void assertRows(Fixture f, DType dtype, ByteBuffer buf, int start, int count, String where) {
        int per = 1;
        for (int i = 1; i < f.shape().length; i++) {
            per *= f.shape()[i];
        }
        assertEquals((long) count * per * dtype.size, buf.remaining(), where + ": bytes");
        for (int i = 0; i < count * per; i++) {
            assertElement(f.code(), f.seed(), dtype, buf, i, (long) start * per + i, where);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("allFixtures")
    void everyElementOfEveryRowRangeMatchesTheFormula(Fixture f, Access access) {
        try (Hdf5File h5 = access.open(fixture(f.file()), Hdf5File.DEFAULT_CHUNK_CACHE_BYTES);
                ArrayReader a = h5.array(f.name())) {
            assertEquals(f.dtype(), a.dtype(), "dtype");
            assertArrayEquals(f.shape(), a.shape(), "shape");
            assertEquals(f.chunkRows(), a.chunkRows(), "chunkRows");
            assertTrue(a.source().contains(f.file()) && a.source().contains("/" + f.name()), a.source());
            int rows = a.rows();
            ByteBuffer all = a.rows(0, rows);
            assertEquals(0, all.position());
            if (f.order() != null) {
                assertEquals(f.order(), all.order(), "byte order");
            }
            assertRows(f, a.dtype(), all, 0, rows, f + " rows [0, " + rows + ")");
            // Every range, so every way a range can cross chunk boundaries is covered.
            for (int start = 0; start <= rows; start++) {
                for (int count = 0; start + count <= rows; count++) {
                    ByteBuffer part = a.rows(start, count);
                    assertRows(f, a.dtype(), part, start, count, f + " rows [" + start + ", " + (start + count) + ")");
                }
            }
            assertThrows(IndexOutOfBoundsException.class, () -> a.rows(rows, 1));
            assertThrows(IndexOutOfBoundsException.class, () -> a.rows(-1, 1));
        }
    }

    @Test
    void listsDatasetsSortedWithGroupPaths() {
        try (Hdf5File h5 = Hdf5File.open(fixture("h5_layouts.h5"))) {
            List<String> expected = new ArrayList<>();
            for (Fixture f : fixtures()) {
                if (f.file().equals("h5_layouts.h5")) {
                    expected.add(f.name());
                }
            }
            expected.addAll(List.of("sparse", "unwritten"));
            expected.sort(null);
            assertEquals(expected, h5.datasets());
            // A leading slash is accepted, as h5py's paths have one.
            try (ArrayReader x = h5.array("/grp/x")) {
                assertArrayEquals(new int[] {7, 2}, x.shape());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Access.class)
    void followsSoftLinksButNotExternalOnesAndSurvivesGroupCycles(Access access) {
        // h5_layouts.h5 also holds link_to_x -> /grp/x, dangling -> /nowhere, an external link, and
        // grp/sub/loop, a hard link back to /grp: none of them is listed.
        try (Hdf5File h5 = access.open(fixture("h5_layouts.h5"), 0)) {
            List<String> listed = h5.datasets();
            assertTrue(listed.stream().noneMatch(d -> d.contains("link") || d.contains("loop") || d.equals("external")),
                    listed.toString());
            try (ArrayReader x = h5.array("link_to_x")) {
                Fixture gx = new Fixture("", "grp/x", "f4", DType.F4, LE, new int[] {7, 2}, 53, 1);
                assertRows(gx, DType.F4, x.rows(0, 7), 0, 7, "link");
            }
            try (ArrayReader y = h5.array("grp/sub/loop/sub/y")) { // through the cycle, as HDF5 allows
                assertArrayEquals(new int[] {5}, y.shape());
            }
            for (String name : List.of("dangling", "external")) {
                DataFormatException e = assertThrows(DataFormatException.class, () -> h5.array(name));
                assertTrue(e.getMessage().contains("h5_layouts.h5") && e.getMessage().contains("/" + name),
                        e.getMessage());
            }
        }
        try (Hdf5File h5 = Hdf5File.open(fixture("h5_fuzz_chunked.h5"))) {
            assertEquals(List.of("data", "labels"), h5.datasets());
        }
    }

    @Test
    void missingDatasetNamesTheFileAndListsTheDatasets() {
        try (Hdf5File h5 = Hdf5File.open(fixture("h5_fuzz_chunked.h5"))) {
            DataFormatException e = assertThrows(DataFormatException.class, () -> h5.array("images"));
            assertTrue(e.getMessage().contains("h5_fuzz_chunked.h5") && e.getMessage().contains("/images")
                    && e.getMessage().contains("data, labels"), e.getMessage());
        }
        try (Hdf5File h5 = Hdf5File.open(fixture("h5_layouts.h5"))) {
            DataFormatException e = assertThrows(DataFormatException.class, () -> h5.array("grp"));
            assertTrue(e.getMessage().contains("/grp is a group"), e.getMessage());
            assertThrows(DataFormatException.class, () -> h5.array("grp/nope/x"));
            assertThrows(DataFormatException.class, () -> h5.array(""));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"string", "vlen_string", "vlen_int", "compound", "enum", "reference", "array", "bitfield"})
    void unsupportedTypesNameTheFileDatasetAndType(String name) {
        try (Hdf5File h5 = Hdf5File.open(fixture("h5_unsupported.h5"))) {
            DataFormatException e = assertThrows(DataFormatException.class, () -> h5.array(name));
            String m = e.getMessage();
            assertTrue(m.contains("h5_unsupported.h5") && m.contains("/" + name) && m.contains("unsupported element type"),
                    m);
            String type = switch (name) {
                case "vlen_string" -> "string"; // jhdf reports a variable-length string as a string
                case "vlen_int" -> "variable-length";
                default -> name;
            };
            assertTrue(m.contains(type), m);
            // The file's good datasets still read.
            try (ArrayReader good = h5.array("good")) {
                Fixture g = new Fixture("", "good", "f4", DType.F4, LE, new int[] {3, 2}, 70, 1);
                assertRows(g, DType.F4, good.rows(0, 3), 0, 3, "good");
            }
        }
    }

    @Test
    void aFileJhdfCannotParseIsADataFormatErrorAtOpen() {
        // jhdf 0.13 cannot parse h5py's opaque type and loads a group's children all at once, so the
        // good dataset beside it is lost too: the error says which file.
        DataFormatException e = assertThrows(DataFormatException.class, () -> Hdf5File.open(fixture("h5_opaque.h5")));
        assertTrue(e.getMessage().contains("h5_opaque.h5") && e.getMessage().contains("not readable"), e.getMessage());
    }

    @Test
    void unsupportedFilterNamesTheFileAndDataset() {
        try (Hdf5File h5 = Hdf5File.open(fixture("h5_unsupported.h5"))) {
            DataFormatException e = assertThrows(DataFormatException.class, () -> {
                try (ArrayReader a = h5.array("scaleoffset")) {
                    a.rows(0, a.rows());
                }
            });
            assertTrue(e.getMessage().contains("h5_unsupported.h5") && e.getMessage().contains("/scaleoffset"),
                    e.getMessage());
        }
    }

    @Test
    void uint64IsRejected() {
        try (Hdf5File h5 = Hdf5File.open(fixture("h5_dtypes.h5"))) {
            for (String name : List.of("le_u8", "be_u8")) {
                DataFormatException e = assertThrows(DataFormatException.class, () -> h5.array(name));
                assertTrue(e.getMessage().contains("/" + name) && e.getMessage().contains("uint64"), e.getMessage());
            }
        }
    }

    @Test
    void chunksNeverWrittenAreErrorsNotFillValues() {
        try (Hdf5File h5 = Hdf5File.open(fixture("h5_layouts.h5")); ArrayReader a = h5.array("sparse")) {
            // Rows 0..2 (the first chunk) were written.
            Fixture written = new Fixture("", "sparse", "i4", DType.I4, LE, new int[] {3, 4}, 56, 3);
            assertRows(written, DType.I4, a.rows(0, 3), 0, 3, "sparse rows 0..2");
            DataFormatException e = assertThrows(DataFormatException.class, () -> a.rows(2, 2));
            assertTrue(e.getMessage().contains("h5_layouts.h5") && e.getMessage().contains("/sparse")
                    && e.getMessage().contains("chunk at offset [3, 0]") && e.getMessage().contains("never written"),
                    e.getMessage());
        }
        try (Hdf5File h5 = Hdf5File.open(fixture("h5_layouts.h5"))) {
            DataFormatException e = assertThrows(DataFormatException.class, () -> h5.array("unwritten"));
            assertTrue(e.getMessage().contains("/unwritten") && e.getMessage().contains("never written"), e.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"bad_gzip", "short_gzip", "bad_fletcher"})
    void aDamagedChunkNamesTheFileDatasetAndChunkOffset(String name) {
        long seed = switch (name) {
            case "bad_gzip" -> 90;
            case "short_gzip" -> 91;
            default -> 92;
        };
        Fixture f = new Fixture("h5_bad_chunks.h5", name, "f4", DType.F4, LE, new int[] {8, 4}, seed, 2);
        try (Hdf5File h5 = Hdf5File.open(fixture(f.file())); ArrayReader a = h5.array(name)) {
            assertRows(f, DType.F4, a.rows(0, 4), 0, 4, name + " rows 0..3");
            assertRows(f, DType.F4, a.rows(6, 2), 6, 2, name + " rows 6..7");
            for (int attempt = 0; attempt < 2; attempt++) { // a failed chunk is not cached
                DataFormatException e = assertThrows(DataFormatException.class, () -> a.rows(3, 3));
                assertTrue(e.getMessage().contains("h5_bad_chunks.h5") && e.getMessage().contains("/" + name)
                        && e.getMessage().contains("chunk at offset [4, 0]"), e.getMessage());
            }
        }
    }

    @Test
    void missingTruncatedAndForeignFilesAreDataFormatErrors() throws IOException {
        Path missing = tmp.resolve("missing.h5");
        DataFormatException e = assertThrows(DataFormatException.class, () -> Hdf5File.open(missing));
        assertTrue(e.getMessage().contains("missing.h5"), e.getMessage());

        Path text = Files.writeString(tmp.resolve("text.h5"), "not an HDF5 file at all\n".repeat(40));
        e = assertThrows(DataFormatException.class, () -> Hdf5File.open(text));
        assertTrue(e.getMessage().contains("text.h5"), e.getMessage());

        // Cut the contiguous fixture just before its labels' data (the last thing in the file).
        byte[] whole = Files.readAllBytes(fixture("h5_fuzz_contiguous.h5"));
        Path cut = Files.write(tmp.resolve("cut.h5"), Arrays.copyOf(whole, whole.length - 8));
        try (Hdf5File h5 = Hdf5File.open(cut)) {
            e = assertThrows(DataFormatException.class, () -> h5.array("labels"));
            assertTrue(e.getMessage().contains("cut.h5") && e.getMessage().contains("/labels")
                    && e.getMessage().contains("past the end of the file"), e.getMessage());
        }
    }

    @Test
    void closedFileRefusesReads() {
        try (Hdf5File other = Hdf5File.open(fixture("h5_fuzz_contiguous.h5"))) {
            Hdf5File h5 = Hdf5File.open(fixture("h5_fuzz_chunked.h5"));
            ArrayReader data = h5.array("data");
            ArrayReader labels = other.array("labels");
            h5.close();
            h5.close(); // idempotent
            assertThrows(IllegalStateException.class, () -> data.rows(0, 1));
            assertThrows(IllegalStateException.class, () -> h5.array("data"));
            assertEquals(24, labels.rows(0, 24).remaining() / 8); // another file's reader is unaffected
        }
    }

    @Test
    void contiguousRowsAreViewsOfTheMappedFileAndChunkRowsOfTheCachedChunk() {
        try (Hdf5File h5 = Hdf5File.open(fixture("h5_fuzz_contiguous.h5")); ArrayReader a = h5.array("data")) {
            ByteBuffer row = a.rows(5, 2);
            assertTrue(row.isDirect() && row.isReadOnly(), "a slice of jhdf's read-only mapping");
            assertEquals(0, a.residentBytes());
        }
        try (Hdf5File h5 = Hdf5File.open(fixture("h5_fuzz_chunked.h5")); ArrayReader a = h5.array("data")) {
            ByteBuffer inOneChunk = a.rows(7, 3);
            assertTrue(inOneChunk.isReadOnly(), "a read-only view of the cached chunk");
            assertEquals(LE, inOneChunk.order());
            assertEquals(6 * 3 * 4 * 4, a.residentBytes());
        }
    }

    @ParameterizedTest
    @EnumSource(Access.class)
    void contiguousDatasetsMapInSegmentsWhenLarge(Access access) {
        // 12-byte rows, 50-byte segments: 4 rows per segment, 6 segments; ranges cross them.
        Fixture f = fixtures().stream().filter(x -> x.file().equals("h5_fuzz_contiguous.h5") && x.name().equals("data"))
                .findFirst().orElseThrow();
        try (Hdf5File h5 = Hdf5File.open(fixture(f.file()), Hdf5File.DEFAULT_CHUNK_CACHE_BYTES, 50,
                        access.wholeFileBytes);
                ArrayReader a = h5.array("data")) {
            for (int start = 0; start <= 24; start++) {
                for (int count = 0; start + count <= 24; count++) {
                    String where = "segmented [" + start + ", +" + count + ")";
                    assertRows(f, DType.U1, a.rows(start, count), start, count, where);
                }
            }
        }
    }

    /** A chunked float32 dataset of {@code rows} x 6 x 7 written by Hdf5Writer, and its values. */
    private NdArray writeChunked(Path file, int rows, int chunkRows, int gzip) {
        float[] values = new float[rows * 6 * 7];
        Random random = new Random(7);
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextFloat() * 100 - 50;
        }
        NdArray a = NdArray.ofFloats("x", values, rows, 6, 7);
        LinkedHashMap<String, NdArray> arrays = new LinkedHashMap<>();
        arrays.put("x", a);
        Hdf5Writer.Options options = Hdf5Writer.Options.chunked(chunkRows);
        Hdf5Writer.write(file, arrays, gzip > 0 ? options.gzip(gzip) : options);
        return a;
    }

    @Test
    void theCacheIsBoundedAndRowsReadInChunkOrderDecompressEachChunkOnce() {
        Path file = tmp.resolve("cache.h5");
        NdArray expected = writeChunked(file, 100, 10, 1);
        int chunkBytes = 10 * 6 * 7 * 4;
        try (Hdf5File h5 = Hdf5File.open(file, 2L * chunkBytes)) {
            Hdf5ChunkedArray a = (Hdf5ChunkedArray) h5.array("x");
            assertEquals(10, a.chunkRows());
            for (int r = 0; r < 100; r++) {
                assertEquals(expected.rows(r, 1), a.rows(r, 1), "row " + r);
                assertTrue(a.residentBytes() <= 2L * chunkBytes, "resident " + a.residentBytes());
            }
            assertEquals(10, a.decompressed.get(), "each chunk once");
            assertEquals(2L * chunkBytes, a.residentBytes());
            // Rows of the two most recent chunks are still there; older ones come back decompressed again.
            a.rows(95, 1);
            a.rows(85, 1);
            assertEquals(10, a.decompressed.get());
            a.rows(5, 1);
            assertEquals(11, a.decompressed.get());
            a.close();
            assertEquals(0, a.residentBytes());
        }
        try (Hdf5File h5 = Hdf5File.open(file, 0)) {
            Hdf5ChunkedArray a = (Hdf5ChunkedArray) h5.array("x");
            assertEquals(expected.rows(0, 100), a.rows(0, 100));
            a.rows(0, 1);
            a.rows(0, 1);
            assertEquals(12, a.decompressed.get(), "nothing cached: every read decompresses");
            assertEquals(0, a.residentBytes());
        }
        try (Hdf5File h5 = Hdf5File.open(file, chunkBytes - 1)) { // smaller than one chunk
            ArrayReader a = h5.array("x");
            assertEquals(expected.rows(33, 40), a.rows(33, 40));
            assertEquals(0, a.residentBytes());
        }
    }

    @Test
    void concurrentReadersGetTheSameBytes() throws Exception {
        Path file = tmp.resolve("concurrent.h5");
        NdArray expected = writeChunked(file, 2000, 16, 1);
        int chunkBytes = 16 * 6 * 7 * 4;
        long capacity = 5L * chunkBytes; // far less than the file: chunks are evicted and reloaded
        Fixture split = fixtures().stream().filter(x -> x.name().equals("split_gzip_r4")).findFirst().orElseThrow();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try (Hdf5File h5 = Access.MAPPED.open(file, capacity);
                Hdf5File small = Access.CHANNEL.open(fixture(split.file()), 3L * 2 * 2 * 3 * 3 * 4)) {
            ArrayReader a = h5.array("x");
            ArrayReader s = small.array(split.name());
            AtomicLong maxResident = new AtomicLong();
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                long seed = t;
                done.add(pool.submit(() -> {
                    Random random = new Random(seed);
                    for (int i = 0; i < 200; i++) {
                        int start = random.nextInt(2000);
                        int count = 1 + random.nextInt(Math.min(40, 2000 - start));
                        assertEquals(expected.rows(start, count), a.rows(start, count), "rows " + start + " +" + count);
                        maxResident.accumulateAndGet(a.residentBytes(), Math::max);
                        int sStart = random.nextInt(9);
                        int sCount = random.nextInt(9 - sStart + 1);
                        assertRows(split, DType.I4, s.rows(sStart, sCount), sStart, sCount, "split");
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
            assertTrue(maxResident.get() <= capacity, "resident " + maxResident.get() + " > " + capacity);
            assertTrue(s.residentBytes() <= 3L * 2 * 2 * 3 * 3 * 4);
        } finally {
            pool.shutdownNow();
        }
    }
}
