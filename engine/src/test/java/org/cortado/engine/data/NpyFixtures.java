package org.cortado.engine.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The numpy fixtures of fixtures/data (written by make_npy_fixtures.py) and the formula their
 * elements follow, recomputed here independently of the readers under test.
 */
final class NpyFixtures {
    static final List<String> CODES = List.of("b1", "u1", "i1", "i2", "i4", "i8", "f2", "f4", "f8");
    static final Map<Integer, int[]> SHAPES = Map.of(0, new int[0], 1, new int[] {5}, 2, new int[] {3, 4},
            3, new int[] {3, 2, 2}, 4, new int[] {3, 2, 2, 2});

    private NpyFixtures() {}

    /** One fixture file, its name parsed: {@code [vN_]CODE_ORDER_LAYOUT_rRANK.npy}. */
    record Fixture(String file, int version, String code, String order, boolean fortran, int rank) {
        static Fixture parse(String file) {
            String[] p = file.replace(".npy", "").split("_");
            int version = p[0].startsWith("v") ? Integer.parseInt(p[0].substring(1)) : 1;
            int at = version == 1 ? 0 : 1;
            return new Fixture(file, version, p[at], p[at + 1], p[at + 2].equals("f"),
                    Integer.parseInt(p[at + 3].substring(1)));
        }

        DType dtype() {
            return NpyFixtures.dtype(code);
        }

        ByteOrder byteOrder() {
            return order.equals("be") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        }

        int[] shape() {
            return SHAPES.get(rank).clone();
        }

        @Override
        public String toString() {
            return file;
        }
    }

    /** Every .npy fixture with formula values, as the script lists them. */
    static List<Fixture> all() {
        List<Fixture> out = new ArrayList<>();
        for (int i = 0; i < CODES.size(); i++) {
            String code = CODES.get(i);
            List<String> orders = dtype(code).size == 1 ? List.of("na") : List.of("le", "be");
            for (int j = 0; j < orders.size(); j++) {
                for (String layout : List.of("c", "f")) {
                    int rank = 2 + (i + j + (layout.equals("f") ? 1 : 0)) % 3;
                    out.add(Fixture.parse(code + "_" + orders.get(j) + "_" + layout + "_r" + rank + ".npy"));
                }
            }
        }
        for (String f : List.of("u1_na_c_r1", "i2_be_c_r1", "f4_le_c_r1", "f8_le_c_r0", "i4_be_c_r0",
                "v2_i4_le_c_r2", "v2_u1_na_f_r3", "v3_f8_be_f_r4", "v3_b1_na_c_r2")) {
            out.add(Fixture.parse(f + ".npy"));
        }
        return out;
    }

    static DType dtype(String code) {
        return DType.of(code.charAt(0), code.charAt(1) - '0');
    }

    /** Element {@code k} (C-order flat index) of every fixture of dtype {@code code}. */
    static double expected(String code, long k) {
        long v = k * 7 % 201 - 100;
        return switch (code) {
            case "b1" -> k % 3 == 0 ? 1 : 0;
            case "u1" -> k * 7 % 251;
            case "i1" -> v;
            case "i2" -> v * 300;
            case "i4" -> v * 1_000_000;
            case "i8" -> v * 1_000_000_000_000L;
            case "f2" -> v / 4.0;
            case "f4" -> (float) (v / 3.0);
            case "f8" -> v / 3.0;
            default -> throw new IllegalArgumentException(code);
        };
    }

    /** An in-memory array of the formula's values, as numpy would hold it (for writer tests). */
    static NdArray formulaArray(String code, ByteOrder order, int... shape) {
        DType d = dtype(code);
        int n = 1;
        for (int s : shape) {
            n *= s;
        }
        ByteBuffer b = ByteBuffer.allocate(n * d.size).order(order);
        for (int k = 0; k < n; k++) {
            double x = expected(code, k);
            switch (d) {
                case BOOL, U1, I1 -> b.put((byte) (long) x);
                case I2 -> b.putShort((short) x);
                case I4 -> b.putInt((int) x);
                case I8 -> b.putLong((long) x);
                case F2 -> b.putShort(Float.floatToFloat16((float) x));
                case F4 -> b.putFloat((float) x);
                case F8 -> b.putDouble(x);
            }
        }
        return new NdArray(code + "_formula", d, shape, b.flip());
    }

    /** Asserts that {@code buf} holds elements {@code first, first + 1, ...} of the formula. */
    static void assertElements(String what, String code, ByteBuffer buf, long first, int n) {
        DType d = dtype(code);
        assertEquals((long) n * d.size, buf.remaining(), what + ": bytes");
        for (int i = 0; i < n; i++) {
            assertEquals(expected(code, first + i), d.get(buf, i), what + ": element " + (first + i));
        }
    }

    static Path fixture(String name) {
        URL url = NpyFixtures.class.getResource("/fixtures/data/" + name);
        if (url == null) {
            throw new IllegalStateException("missing test fixture " + name + "; run fixtures/data/make_npy_fixtures.py");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] bytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes {@code bytes} over the file without first truncating it to 0, which on ext4 forces a
     * flush at close (auto_da_alloc): ten times faster for tests that rewrite one file thousands of
     * times.
     */
    static Path overwrite(Path file, byte[] bytes) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(bytes), 0);
            channel.truncate(bytes.length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static Boolean numpyReady;

    /**
     * Runs {@code script} with the system python and asserts it exits 0 (scripts check with
     * {@code assert}). Skips the test when that python or its numpy is missing.
     */
    static void python(String script, Path... args) {
        Assumptions.assumeTrue(hasNumpy(), "skipped: " + PYTHON + " with numpy is not available to cross-check");
        List<String> command = new ArrayList<>(List.of(PYTHON.toString(), "-c", script));
        for (Path a : args) {
            command.add(a.toString());
        }
        String[] result = exec(command);
        assertEquals("0", result[0], "python check failed:\n" + result[1]);
    }

    private static synchronized boolean hasNumpy() {
        if (numpyReady == null) {
            numpyReady = Files.isExecutable(PYTHON) && exec(List.of(PYTHON.toString(), "-c", "import numpy"))[0].equals("0");
        }
        return numpyReady;
    }

    /** {exit code, output}. */
    private static String[] exec(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new String[] {"-1", "timed out\n" + output};
            }
            return new String[] {Integer.toString(p.exitValue()), output};
        } catch (IOException e) {
            return new String[] {"-1", e.toString()};
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new String[] {"-1", e.toString()};
        }
    }
}
