package org.cortado.engine.data;

import static org.cortado.engine.data.NpyFixtures.assertElements;
import static org.cortado.engine.data.NpyFixtures.bytes;
import static org.cortado.engine.data.NpyFixtures.fixture;
import static org.cortado.engine.data.NpyFixtures.formulaArray;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.cortado.engine.DataFormatException;
import org.cortado.engine.data.NpyFixtures.Fixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** NpyFile against files written by numpy (fixtures/data/make_npy_fixtures.py) and numpy itself. */
class NpyFileTest {
    @TempDir
    Path tmp;

    static Stream<Fixture> fixtures() {
        return NpyFixtures.all().stream();
    }

    /** The fixtures np.save wrote (format 1.0, C order): our writer must reproduce them exactly. */
    static Stream<Fixture> npSaveFixtures() {
        return fixtures().filter(f -> f.version() == 1 && !f.fortran());
    }

    // ---- reading ------------------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("fixtures")
    void readsEveryFixtureElementByElement(Fixture f) {
        Path file = fixture(f.file());
        try (NpyFile npy = NpyFile.open(file)) {
            assertEquals(file.toString(), npy.source());
            assertEquals(f.dtype(), npy.dtype());
            assertArrayEquals(f.shape(), npy.shape());
            assertEquals(f.version(), npy.header().version());
            assertEquals(f.fortran(), npy.header().fortranOrder());
            if (f.dtype().size > 1) {
                assertEquals(f.byteOrder(), npy.header().order());
            }
            assertEquals(0, npy.header().dataOffset() % 64, "numpy aligns the data to 64 bytes");
            int n = npy.rows() * npy.rowElements();
            ByteBuffer all = npy.rows(0, npy.rows());
            assertEquals(0, all.position());
            assertEquals(npy.header().order(), all.order());
            assertElements(f.file(), f.code(), all, 0, n);
        }
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void everyRowRangeHoldsItsElements(Fixture f) {
        try (NpyFile npy = NpyFile.open(fixture(f.file()))) {
            int per = npy.rowElements();
            for (int start = 0; start <= npy.rows(); start++) {
                for (int count = 0; start + count <= npy.rows(); count++) {
                    assertElements(f.file() + " rows(" + start + ", " + count + ")", f.code(),
                            npy.rows(start, count), (long) start * per, count * per);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void cOrderRowsAreViewsOfTheMappingFortranRowsAreGathered(Fixture f) {
        try (NpyFile npy = NpyFile.open(fixture(f.file()), 0)) { // 0: map even small files
            ByteBuffer rows = npy.rows(1 % npy.rows(), 1);
            assertEquals(0, npy.residentBytes());
            if (f.fortran()) {
                assertTrue(rows.hasArray(), "Fortran rows are gathered into a heap buffer");
            } else {
                assertInstanceOf(MappedByteBuffer.class, rows, "C-order rows are slices of the mapping");
                assertTrue(rows.isReadOnly());
            }
        }
    }

    @Test
    void smallFilesAreReadIntoMemory() throws java.io.IOException {
        Path small = fixture("i8_le_c_r4.npy");
        try (NpyFile npy = NpyFile.open(small)) {
            assertEquals(java.nio.file.Files.size(small), npy.residentBytes());
            try (NpyFile mapped = NpyFile.open(small, 0)) {
                assertEquals(mapped.rows(0, npy.rows()), npy.rows(0, npy.rows()));
            }
        }
    }

    @Test
    void readsScalarsAndEmptyArrays() {
        try (NpyFile scalar = NpyFile.open(fixture("f8_le_c_r0.npy"))) {
            assertArrayEquals(new int[0], scalar.shape());
            assertEquals(1, scalar.rows());
            assertEquals(1, scalar.rowElements());
            assertEquals(-100 / 3.0, scalar.dtype().get(scalar.rows(0, 1), 0));
        }
        try (NpyFile empty = NpyFile.open(fixture("empty_i8.npy"))) {
            assertArrayEquals(new int[] {0, 3}, empty.shape());
            assertEquals(0, empty.rows());
            assertEquals(3, empty.rowElements());
            assertEquals(0, empty.rows(0, 0).capacity());
        }
    }

    @Test
    void rejectsRowRangesOutsideTheArrayAndUseAfterClose() {
        NpyFile npy = NpyFile.open(fixture("i4_le_c_r3.npy"));
        assertThrows(IndexOutOfBoundsException.class, () -> npy.rows(-1, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> npy.rows(2, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> npy.rows(0, -1));
        npy.close();
        npy.close(); // a second close does nothing
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> npy.rows(0, 1));
        assertTrue(e.getMessage().contains("i4_le_c_r3.npy"), e.getMessage());
    }

    @Test
    void readsConsecutiveArraysFromOneStream() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(bytes(fixture("i2_be_c_r1.npy")));
        out.write(bytes(fixture("f8_le_f_r2.npy")));
        InputStream in = new ByteArrayInputStream(out.toByteArray());
        try (NpyFile first = NpyFile.read("stream", in); NpyFile second = NpyFile.read("stream", in)) {
            assertElements("first", "i2", first.rows(0, 5), 0, 5);
            assertEquals(10, first.residentBytes());
            assertArrayEquals(new int[] {3, 4}, second.shape());
            assertElements("second", "f8", second.rows(0, 3), 0, 12);
        }
        assertEquals(-1, in.read(), "the stream ends right after the second array");
    }

    @Test
    void rejectsTruncatedStreamsWithoutAllocatingTheDeclaredSize() {
        byte[] good = bytes(fixture("f4_le_c_r3.npy"));
        for (int len = 0; len < good.length; len++) {
            InputStream in = new ByteArrayInputStream(Arrays.copyOf(good, len));
            DataFormatException e = assertThrows(DataFormatException.class, () -> NpyFile.read("stream-x", in));
            assertTrue(e.getMessage().startsWith("stream-x: "), e.getMessage());
        }
        byte[] huge = withDict(good, "{'descr': '<f4', 'fortran_order': False, 'shape': (500000000,), }");
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> NpyFile.read("stream-y", new ByteArrayInputStream(huge)));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    // ---- writing ------------------------------------------------------------------------------

    /** An array built from the formula (not read by NpyFile) written by us equals numpy's file. */
    @ParameterizedTest
    @MethodSource("npSaveFixtures")
    void writesTheSameBytesAsNpSave(Fixture f) {
        NdArray array = formulaArray(f.code(), f.byteOrder(), f.shape());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        NpyFile.write(out, array);
        assertArrayEquals(bytes(fixture(f.file())), out.toByteArray(), f.file());
    }

    @Test
    void writesUint8AndInt64ExactlyAsNpSave() {
        // The two dtypes datasets use most: uint8 pixels and int64 labels.
        Path pixels = tmp.resolve("pixels.npy");
        Path labels = tmp.resolve("labels.npy");
        NpyFile.write(pixels, formulaArray("u1", ByteOrder.LITTLE_ENDIAN, 3, 2, 2));
        NpyFile.write(labels, formulaArray("i8", ByteOrder.LITTLE_ENDIAN, 3, 2, 2, 2));
        assertArrayEquals(bytes(fixture("u1_na_c_r3.npy")), bytes(pixels));
        assertArrayEquals(bytes(fixture("i8_le_c_r4.npy")), bytes(labels));
        ByteBuffer none = ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
        NpyFile.write(labels, new NdArray("empty", DType.I8, new int[] {0, 3}, none));
        assertArrayEquals(bytes(fixture("empty_i8.npy")), bytes(labels));
    }

    @Test
    void roundTripsEveryDtypeByteOrderAndShape() {
        Random random = new Random(42);
        List<int[]> shapes = List.of(new int[0], new int[] {4}, new int[] {3, 5}, new int[] {2, 3, 4},
                new int[] {2, 1, 2, 3}, new int[] {0, 3}, new int[] {3, 0});
        Path file = tmp.resolve("round.npy");
        for (DType d : DType.values()) {
            for (ByteOrder order : List.of(ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN)) {
                for (int[] shape : shapes) {
                    int n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
                    byte[] raw = new byte[n * d.size];
                    random.nextBytes(raw);
                    NpyFile.write(file, new NdArray("a", d, shape, ByteBuffer.wrap(raw).order(order)));
                    String what = d + " " + order + " " + Arrays.toString(shape);
                    try (NpyFile back = NpyFile.open(file)) {
                        assertEquals(d, back.dtype(), what);
                        assertArrayEquals(shape, back.shape(), what);
                        if (d.size > 1) {
                            assertEquals(order, back.header().order(), what);
                        }
                        ByteBuffer all = back.rows(0, back.rows());
                        byte[] got = new byte[all.remaining()];
                        all.get(got);
                        assertArrayEquals(raw, got, what);
                    }
                }
            }
        }
    }

    @Test
    void writesAFortranArrayInCOrder() {
        Path file = tmp.resolve("c.npy");
        try (NpyFile fortran = NpyFile.open(fixture("f4_be_f_r2.npy"))) {
            NpyFile.write(file, fortran);
        }
        try (NpyFile c = NpyFile.open(file)) {
            assertFalse(c.header().fortranOrder());
            assertEquals(ByteOrder.BIG_ENDIAN, c.header().order());
            assertElements("rewritten", "f4", c.rows(0, 3), 0, 12);
        }
    }

    @Test
    void numpyReadsWhatWeWrite() {
        for (String code : NpyFixtures.CODES) {
            for (String order : List.of("le", "be")) {
                ByteOrder o = order.equals("le") ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
                NpyFile.write(tmp.resolve(code + "_" + order + ".npy"), formulaArray(code, o, 3, 4));
            }
        }
        NpyFixtures.python("""
                import sys, numpy as np
                from pathlib import Path
                files = sorted(Path(sys.argv[1]).glob("*.npy"))
                assert len(files) == 18, files
                for p in files:
                    code, order = p.stem.split("_")
                    a = np.load(p)
                    want = ("|" if code in ("b1", "u1", "i1") else "<" if order == "le" else ">") + code
                    assert a.dtype.str == want and a.shape == (3, 4), (p, a.dtype.str, a.shape)
                    k = np.arange(12)
                    v = k * 7 % 201 - 100
                    expected = {"b1": k % 3 == 0, "u1": k * 7 % 251, "i1": v, "i2": v * 300, "i4": v * 10**6,
                                "i8": v * 10**12, "f2": v / 4, "f4": (v / 3).astype(np.float32), "f8": v / 3}[code]
                    assert (a.ravel() == expected).all(), (p, a, expected)
                """, tmp);
    }

    @Test
    void headerBytesMatchNumpysLayout() {
        assertHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
                DType.F4, ByteOrder.LITTLE_ENDIAN, false);
        // Room for the growing axis to reach 21 digits: the first, or the last in Fortran order.
        assertHeader("{'descr': '|u1', 'fortran_order': False, 'shape': (7,), }" + " ".repeat(20),
                DType.U1, ByteOrder.BIG_ENDIAN, false, 7);
        assertHeader("{'descr': '>i8', 'fortran_order': True, 'shape': (1000, 2, 30), }" + " ".repeat(19),
                DType.I8, ByteOrder.BIG_ENDIAN, true, 1000, 2, 30);
    }

    /** The header is the dict, spaces up to the 64-byte boundary, and a newline. */
    private static void assertHeader(String dict, DType d, ByteOrder order, boolean fortran, int... shape) {
        byte[] h = NpyFile.headerBytes(d, order, fortran, shape);
        assertEquals(0, h.length % 64, "data starts 64-byte aligned");
        assertArrayEquals(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}, Arrays.copyOf(h, 8));
        assertEquals(h.length - 10, (h[8] & 0xff) | (h[9] & 0xff) << 8, "header length, little-endian");
        String text = new String(h, 10, h.length - 10, StandardCharsets.ISO_8859_1);
        assertEquals(dict + " ".repeat(h.length - 11 - dict.length()) + "\n", text);
        assertTrue(h.length - 11 - dict.length() < 64, "no more padding than the alignment needs");
    }

    @Test
    void switchesToVersion2OnlyWhenTheHeaderNeedsIt() {
        int[] shape = new int[22_000]; // ", 1" per axis: over the 65535 bytes of a 1.0 header
        Arrays.fill(shape, 1);
        Path file = tmp.resolve("rank22000.npy");
        NpyFile.write(file, new NdArray("deep", DType.I2, shape, ByteBuffer.allocate(2).putShort(0, (short) -7)));
        byte[] written = bytes(file);
        assertEquals(2, written[6]);
        assertEquals(0, (written.length - 2) % 64, "data starts 64-byte aligned");
        try (NpyFile back = NpyFile.open(file)) {
            assertEquals(2, back.header().version());
            assertArrayEquals(shape, back.shape());
            assertEquals(-7, back.dtype().get(back.rows(0, 1), 0));
        }
    }

    // ---- bad input ----------------------------------------------------------------------------

    @ParameterizedTest
    @CsvSource({"f4_le_c_r3.npy", "f2_be_f_r4.npy", "v2_i4_le_c_r2.npy", "v3_f8_be_f_r4.npy", "f8_le_c_r0.npy"})
    void rejectsEveryTruncation(String name) {
        byte[] good = bytes(fixture(name));
        for (int len = 0; len < good.length; len++) {
            Path file = write("cut" + len + "_" + name, Arrays.copyOf(good, len));
            assertFails(file, len < 6 ? "" : "truncated");
        }
    }

    @Test
    void rejectsDataBeyondWhatTheHeaderDeclares() {
        byte[] good = bytes(fixture("u1_na_c_r3.npy"));
        assertFails(write("long.npy", Arrays.copyOf(good, good.length + 1)), "1 more bytes follow", "offset 128");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "(3, 5)|truncated: header declares shape (3, 5) of <i4 (60 bytes of data at offset 128) but only 48 bytes follow",
        "(2, 4)|header declares shape (2, 4) of <i4 (32 bytes of data at offset 128) but 16 more bytes follow",
        "(99999999, 99999999, 99999999)|truncated",
        "(2147483647, 2147483647, 0, 5)|48 more bytes follow",
        "()|44 more bytes follow"})
    void rejectsHeadersThatLieAboutTheSize(String shape, String message) {
        byte[] good = bytes(fixture("v2_i4_le_c_r2.npy"));
        Path file = write("lie.npy", withDict(good, "{'descr': '<i4', 'fortran_order': False, 'shape': " + shape + ", }"));
        assertFails(file, message);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "bad_complex.npy|unsupported dtype '<c8'",
        "bad_unicode.npy|unsupported dtype '<U3'",
        "bad_object.npy|unsupported dtype '|O'",
        "bad_structured.npy|structured arrays are not supported",
        "bad_uint16.npy|unsupported dtype '<u2'"})
    void rejectsUnsupportedDtypes(String name, String message) {
        assertFails(fixture(name), message, "offset 10");
    }

    @Test
    void rejectsBadMagicAndVersions() {
        byte[] good = bytes(fixture("i8_le_c_r4.npy"));
        byte[] magic = good.clone();
        magic[3] = 'X';
        assertFails(write("magic.npy", magic), "bad magic at offset 0");
        assertFails(write("text.npy", "hello, world".getBytes(StandardCharsets.US_ASCII)), "bad magic");
        for (int[] version : new int[][] {{0, 0}, {1, 1}, {4, 0}, {255, 0}}) {
            byte[] bytes = good.clone();
            bytes[6] = (byte) version[0];
            bytes[7] = (byte) version[1];
            assertFails(write("version.npy", bytes), "unsupported npy format version " + version[0] + "." + version[1],
                    "offset 6");
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "{'descr': '<i4', 'fortran_order': False, 'shape': [3, 4], }|shape is not a tuple",
        "{'descr': '<i4', 'fortran_order': False, 'shape': (3, -4), }|bad dimension -4",
        "{'descr': '<i4', 'fortran_order': False, 'shape': (3, 2147483648), }|bad dimension 2147483648",
        "{'descr': '<i4', 'fortran_order': False, 'shape': (3, 4.0), }|malformed header",
        "{'descr': '<i4', 'fortran_order': False, 'shape': (3, 99999999999999999999), }|bad int",
        "{'descr': '<i4', 'fortran_order': False, 'shape': (3, True), }|bad dimension True",
        "{'descr': '<i4' 'fortran_order': False, 'shape': (3, 4), }|expected ','",
        "{'descr': '<i4', 'fortran_order': False, 'shape': (3, 4), } x|unexpected text",
        "{'descr': '<i4', 'fortran_order': 0, 'shape': (3, 4), }|fortran_order is not a bool",
        "{'dtype': '<i4', 'fortran_order': False, 'shape': (3, 4), }|'descr', 'fortran_order' and 'shape'",
        "{'descr': '<i4', 'fortran_order': False, 'shape': (3, 4), 'x': 1}|exactly the keys",
        "{'descr': '<i4', 'fortran_order': False}|exactly the keys",
        "{'descr': '<i4, 'fortran_order': False, 'shape': (3, 4), }|malformed header",
        "{'descr': 4, 'fortran_order': False, 'shape': (3, 4), }|unsupported dtype 4",
        "{'descr': '<i4', 'fortran_order': False, 'shape': ((((((((((((((((((((((((((((((((((3)))))))))))))))))))))))))))))))))), }|nested deeper",
        "['descr', 'fortran_order', 'shape']|expected a dict",
        "|unexpected end"})
    void rejectsMalformedHeaderDicts(String dict, String message) {
        byte[] good = bytes(fixture("v2_i4_le_c_r2.npy"));
        assertFails(write("dict.npy", withDict(good, dict == null ? "" : dict)), message, "offset 12");
    }

    @Test
    void readsWhatNumpyAcceptsBeyondWhatItWrites() {
        // Python 2 longs, other quotes and spacing, '=' (native) order, a parenthesized dimension.
        byte[] good = bytes(fixture("i4_le_c_r3.npy"));
        byte[] data = Arrays.copyOfRange(good, 128, good.length);
        byte[] v1 = withDict(good, "{\"shape\":(3L,(2),2) ,'descr':'=i4','fortran_order':False}");
        Path file = write("odd.npy", v1);
        try (NpyFile npy = NpyFile.open(file)) {
            assertArrayEquals(new int[] {3, 2, 2}, npy.shape());
            assertEquals(ByteOrder.LITTLE_ENDIAN, npy.header().order());
            ByteBuffer all = npy.rows(0, 3);
            byte[] got = new byte[all.remaining()];
            all.get(got);
            assertArrayEquals(data, got);
        }
    }

    @Test
    void rejectsMissingFilesAndDirectories() throws IOException {
        assertFails(tmp.resolve("missing.npy"), "does not exist");
        assertFails(Files.createDirectory(tmp.resolve("dir.npy")), "cannot read");
    }

    // ---- helpers ------------------------------------------------------------------------------

    private Path write(String name, byte[] bytes) {
        try {
            return Files.write(tmp.resolve(name), bytes);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * {@code npy} with its header dict replaced by {@code dict}, padded as numpy pads it; the
     * format version and the data are kept.
     */
    static byte[] withDict(byte[] npy, String dict) {
        int version = npy[6];
        int lengthBytes = version == 1 ? 2 : 4;
        int headerLength = lengthBytes == 2
                ? ByteBuffer.wrap(npy, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xffff
                : ByteBuffer.wrap(npy, 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        byte[] data = Arrays.copyOfRange(npy, 8 + lengthBytes + headerLength, npy.length);
        byte[] text = dict.getBytes(StandardCharsets.UTF_8);
        int pad = 64 - (8 + lengthBytes + text.length + 1) % 64;
        ByteBuffer out = ByteBuffer.allocate(8 + lengthBytes + text.length + pad + 1 + data.length)
                .order(ByteOrder.LITTLE_ENDIAN);
        out.put(npy, 0, 8);
        if (lengthBytes == 2) {
            out.putShort((short) (text.length + pad + 1));
        } else {
            out.putInt(text.length + pad + 1);
        }
        out.put(text).put(" ".repeat(pad).getBytes(StandardCharsets.US_ASCII)).put((byte) '\n').put(data);
        return out.array();
    }

    private static void assertFails(Path file, String... fragments) {
        DataFormatException e = assertThrows(DataFormatException.class, () -> NpyFile.open(file).close());
        assertTrue(e.getMessage().contains(file.toString()), "message should name the file: " + e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message should say '" + f + "': " + e.getMessage());
        }
    }
}
