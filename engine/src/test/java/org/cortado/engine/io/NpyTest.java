package org.cortado.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.cortado.engine.DataFormatException;
import org.cortado.engine.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Npy against files written by numpy (fixtures/make_io_fixtures.py) and against numpy itself. */
class NpyTest {
    /** Values of the 2x3 fixtures: np.arange(6) * 3 + 1. */
    private static final float[] BASE = {1, 4, 7, 10, 13, 16};

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"f4_v1", "f8_v1", "u1_v1", "i4_v1", "i8_v1", "f4_v2", "f4_v3"})
    void readsEachDtypeAndVersion(String name) {
        Tensor t = Npy.read(fixture(name + ".npy"));
        assertArrayEquals(new int[] {2, 3}, t.shape());
        assertArrayEquals(BASE, t.toArray());
    }

    @Test
    void transposesFortranOrder() {
        Tensor t = Npy.read(fixture("fortran_f4.npy"));
        assertArrayEquals(new int[] {2, 3, 4}, t.shape());
        float[] expected = new float[24];
        for (int i = 0; i < 24; i++) {
            expected[i] = i;
        }
        assertArrayEquals(expected, t.toArray());
    }

    @Test
    void readsZeroDimAndEmptyArrays() {
        Tensor scalar = Npy.read(fixture("scalar_f8.npy"));
        assertArrayEquals(new int[0], scalar.shape());
        assertEquals(1, scalar.count());
        assertEquals(2.5f, scalar.get(0));

        Tensor empty = Npy.read(fixture("empty_f4.npy"));
        assertArrayEquals(new int[] {0, 3}, empty.shape());
        assertEquals(0, empty.count());
    }

    @Test
    void writesTheSameBytesAsNpSave() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Npy.write(out, new Tensor(BASE.clone(), 2, 3));
        assertArrayEquals(Files.readAllBytes(fixture("f4_v1.npy")), out.toByteArray());
    }

    @Test
    void roundTripsShapesAndOnlyValidElements() {
        Tensor big = new Tensor(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 8);
        big.reshape(2, 2); // storage keeps 8 floats; only 4 are valid
        List<Tensor> tensors = List.of(Tensor.scalar(-1.5f), new Tensor(new float[] {1, 2, 3}, 3), big,
                new Tensor(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 1, 2, 3, 2), new Tensor(0, 4));
        for (Tensor t : tensors) {
            Path file = tmp.resolve("t.npy");
            Npy.write(file, t);
            Tensor back = Npy.read(file);
            assertArrayEquals(t.shape(), back.shape(), t.toString());
            assertArrayEquals(t.toArray(), back.toArray(), t.toString());
        }
    }

    @Test
    void readsConsecutiveArraysFromOneStream() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Npy.write(out, new Tensor(new float[] {1, 2}, 2));
        Npy.write(out, Tensor.scalar(3));
        ByteArrayInputStream in = new ByteArrayInputStream(out.toByteArray());
        assertArrayEquals(new float[] {1, 2}, Npy.read(in, "stream").toArray());
        assertArrayEquals(new float[] {3}, Npy.read(in, "stream").toArray());
    }

    @Test
    void switchesToVersion2OnlyForHugeHeaders() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Npy.write(out, new Tensor(2, 3));
        assertEquals(1, out.toByteArray()[6]);

        int[] shape = new int[22_000]; // ", 1" per axis: over the 65535 bytes of a 1.0 header
        Arrays.fill(shape, 1);
        Path file = tmp.resolve("rank22000.npy");
        Npy.write(file, new Tensor(new float[] {7}, shape));
        byte[] bytes = readAll(file);
        assertEquals(2, bytes[6]);
        assertEquals(0, (bytes.length - 4) % 64, "data starts 64-byte aligned");
        Tensor back = Npy.read(file);
        assertArrayEquals(shape, back.shape());
        assertEquals(7f, back.get(0));
    }

    // ---- bad input --------------------------------------------------------------------------

    @Test
    void rejectsTruncatedData() {
        byte[] good = readAll(fixture("f4_v1.npy"));
        Path file = write("truncated.npy", Arrays.copyOf(good, good.length - 5));
        assertFails(file, "truncated");
    }

    @Test
    void rejectsTruncatedHeaderAndEmptyFile() {
        byte[] good = readAll(fixture("f4_v1.npy"));
        assertFails(write("short_header.npy", Arrays.copyOf(good, 40)), "truncated");
        assertFails(write("magic_only.npy", Arrays.copyOf(good, 4)), "truncated");
        assertFails(write("empty.npy", new byte[0]), "truncated");
    }

    @Test
    void rejectsBadMagic() {
        byte[] bytes = readAll(fixture("f4_v1.npy"));
        bytes[1] = 'X';
        assertFails(write("bad_magic.npy", bytes), "magic");
        assertFails(write("text.npy", "hello, world".getBytes(StandardCharsets.US_ASCII)), "magic");
    }

    @Test
    void rejectsHeaderShapeThatDoesNotMatchTheData() {
        // Same header length, different shape: more elements than stored, then fewer.
        assertFails(write("too_big.npy", withHeader("(2, 3)", "(2, 4)")), "(2, 4)");
        assertFails(write("huge.npy", withHeader("(2, 3)", "(9999999, 99)")), "truncated");
        assertFails(write("too_small.npy", withHeader("(2, 3)", "(1, 3)")), "more bytes follow");
        assertFails(write("bad_dim.npy", withHeader("(2, 3)", "(2,-3)")), "dimension");
    }

    @Test
    void rejectsMalformedHeaderDict() {
        assertFails(write("bad_dict.npy", withHeader("'shape': (2, 3)", "'shape': [2, 3")), "malformed header");
        assertFails(write("no_descr.npy", withHeader("'descr'", "'dtype'")), "descr");
    }

    @Test
    void rejectsUnsupportedDtype() {
        Path file = fixture("complex_c8.npy");
        DataFormatException e = assertThrows(DataFormatException.class, () -> Npy.read(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("'<c8'"), e.getMessage());
    }

    @Test
    void rejectsMissingFile() {
        assertFails(tmp.resolve("missing.npy"), "does not exist");
    }

    // ---- numpy reads what we write -----------------------------------------------------------

    @Test
    void numpyReadsWhatJavaWrites() {
        Path matrix = tmp.resolve("matrix.npy");
        Path scalar = tmp.resolve("scalar.npy");
        Path cube = tmp.resolve("cube.npy");
        Npy.write(matrix, new Tensor(BASE.clone(), 2, 3));
        Npy.write(scalar, Tensor.scalar(0.1f));
        float[] values = new float[24];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.5f - 3;
        }
        Npy.write(cube, new Tensor(values, 2, 3, 4));
        python("""
                import sys, numpy as np
                m, s, c = (np.load(p) for p in sys.argv[1:4])
                assert m.dtype == np.float32 and m.shape == (2, 3), (m.dtype, m.shape)
                assert (m == np.arange(6).reshape(2, 3) * 3 + 1).all(), m
                assert s.shape == () and s == np.float32(0.1), s
                assert c.shape == (2, 3, 4) and c.flags.c_contiguous, c.shape
                assert (c == np.arange(24, dtype=np.float32).reshape(2, 3, 4) * 0.5 - 3).all(), c
                """, matrix, scalar, cube);
    }

    // ---- helpers shared by the io tests -------------------------------------------------------

    /** A fixture from src/test/resources/fixtures, as a file. */
    static Path fixture(String name) {
        URL url = NpyTest.class.getResource("/fixtures/" + name);
        if (url == null) {
            throw new IllegalStateException("missing test fixture " + name + "; run fixtures/make_io_fixtures.py");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static Boolean pythonReady;

    /**
     * Runs {@code script} with the system python and asserts it exits 0 (scripts check values with
     * {@code assert}). Skips the test when that python or its numpy/h5py is missing.
     */
    static void python(String script, Path... args) {
        Assumptions.assumeTrue(pythonHasNumpyAndH5py(),
                "skipped: " + PYTHON + " with numpy and h5py is not available to cross-check the files");
        List<String> command = new ArrayList<>(List.of(PYTHON.toString(), "-c", script));
        for (Path a : args) {
            command.add(a.toString());
        }
        Result r = exec(command);
        assertEquals(0, r.exitCode, "python check failed:\n" + r.output);
    }

    private static synchronized boolean pythonHasNumpyAndH5py() {
        if (pythonReady == null) {
            pythonReady = Files.isExecutable(PYTHON)
                    && exec(List.of(PYTHON.toString(), "-c", "import numpy, h5py")).exitCode == 0;
        }
        return pythonReady;
    }

    private record Result(int exitCode, String output) {}

    private static Result exec(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timed out\n" + output);
            }
            return new Result(p.exitValue(), output);
        } catch (IOException e) {
            return new Result(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, e.toString());
        }
    }

    private static void assertFails(Path file, String what) {
        DataFormatException e = assertThrows(DataFormatException.class, () -> Npy.read(file));
        assertTrue(e.getMessage().contains(file.toString()), "message should name the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(what), "message should say '" + what + "': " + e.getMessage());
    }

    /** The f4_v1 fixture with part of its header replaced by text of the same length. */
    private static byte[] withHeader(String from, String to) {
        String text = new String(readAll(fixture("f4_v1.npy")), StandardCharsets.ISO_8859_1);
        assertTrue(text.contains(from), from);
        // Keep the header length unchanged by trimming the space padding.
        String padded = to + " ".repeat(Math.max(0, from.length() - to.length()));
        String replaced = text.replace(from, padded);
        int grow = padded.length() - from.length();
        replaced = replaced.replaceFirst(" {" + grow + "}\n", "\n");
        return replaced.getBytes(StandardCharsets.ISO_8859_1);
    }

    private Path write(String name, byte[] bytes) {
        try {
            return Files.write(tmp.resolve(name), bytes);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] readAll(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
