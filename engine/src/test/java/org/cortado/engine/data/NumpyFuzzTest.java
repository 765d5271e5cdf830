package org.cortado.engine.data;

import static org.cortado.engine.data.NpyFixtures.bytes;
import static org.cortado.engine.data.NpyFixtures.fixture;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.cortado.engine.DataFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deterministic mutations of valid .npy and .npz files (bit flips, overwritten bytes and length
 * fields, truncation, inserted and deleted bytes, headers that lie about the shape), each opened and
 * read to the last row: the only exception allowed out is a {@link DataFormatException} naming the
 * file. A failure names the round; rerunning reproduces it, as the seed is fixed.
 */
class NumpyFuzzTest {
    private static final long SEED = 20_251_122;
    private static final int ROUNDS = 3000;
    private static final List<String> SEEDS = List.of("f4_le_c_r3.npy", "f2_be_f_r4.npy", "i8_be_c_r2.npy",
            "b1_na_f_r3.npy", "v2_u1_na_f_r3.npy", "v3_f8_be_f_r4.npy", "i4_be_c_r0.npy", "empty_i8.npy",
            "stored.npz", "deflated.npz");
    private static final byte[] INTERESTING = "\0\u00ff\u007f\u0080(),. 09-+L\n'\"{}[]TFN<>|=cOx_:".getBytes(
            StandardCharsets.ISO_8859_1);
    private static final List<String> SHAPES = List.of("()", "(0,)", "(1,)", "(3, 4)", "(4, 3)", "(2, 2, 3)",
            "(12,)", "(13,)", "(-1, 12)", "(2147483647, 2147483647)", "(4294967296,)", "(0, 2147483647, 2147483647)",
            "(3, 4, 0)", "(3 4)", "(3,,4)", "[3, 4]", "(3, 4", "3, 4)", "(99999999999999999999999,)", "(3L, 4L)",
            "(True, 4)", "(3, 'a')");

    @TempDir
    Path tmp;

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void mutatedFilesFailOnlyWithADataFormatExceptionNamingTheFile() {
        Random random = new Random(SEED);
        byte[][] seeds = SEEDS.stream().map(name -> bytes(fixture(name))).toArray(byte[][]::new);
        int rejected = 0;
        int read = 0;
        for (int round = 0; round < ROUNDS; round++) {
            int s = random.nextInt(SEEDS.size());
            String name = SEEDS.get(s);
            byte[] bytes = mutate(seeds[s], random);
            Path file = NpyFixtures.overwrite(tmp.resolve("fuzz-" + name), bytes);
            try {
                if (name.endsWith(".npz")) {
                    readNpz(file);
                } else {
                    try (NpyFile npy = NpyFile.open(file)) {
                        readAll(npy);
                    }
                }
                read++;
            } catch (DataFormatException e) {
                if (!e.getMessage().contains(file.toString())) {
                    fail("round " + round + ": message does not name " + file + ": " + e.getMessage(), e);
                }
                rejected++;
            } catch (Throwable t) {
                fail("round " + round + " (" + name + ", seed " + SEED + "): " + t, t);
            }
            if (name.endsWith(".npy")) { // the stream reader, on the same bytes
                String source = "stream of " + file;
                try (NpyFile npy = NpyFile.read(source, new ByteArrayInputStream(bytes))) {
                    readAll(npy);
                } catch (DataFormatException e) {
                    if (!e.getMessage().contains(source)) {
                        fail("round " + round + ": message does not name " + source + ": " + e.getMessage(), e);
                    }
                } catch (Throwable t) {
                    fail("round " + round + " (" + name + " as a stream, seed " + SEED + "): " + t, t);
                }
            }
        }
        // Both outcomes must be common, or the mutations are too tame (or too wild) to test much.
        assertTrue(rejected > ROUNDS / 4, rejected + " of " + ROUNDS + " rejected");
        assertTrue(read > ROUNDS / 20, read + " of " + ROUNDS + " read");
    }

    private static void readNpz(Path file) {
        try (NpzFile npz = NpzFile.open(file)) {
            for (String member : npz.members()) {
                readAll(npz.array(member));
            }
        }
    }

    /** Every row, in chunks and one by one, every element converted. */
    private static void readAll(NpyFile npy) {
        int rowBytes = npy.rowElements() * npy.dtype().size;
        int perChunk = rowBytes == 0 ? Math.max(1, npy.rows()) : Math.max(1, 4096 / rowBytes);
        for (int start = 0; start < npy.rows(); start += perChunk) {
            int n = Math.min(perChunk, npy.rows() - start);
            ByteBuffer b = npy.rows(start, n);
            for (int i = 0; i < n * npy.rowElements(); i++) {
                npy.dtype().get(b, i);
            }
        }
        for (int r = 0; r < Math.min(npy.rows(), 64); r++) {
            npy.rows(r, 1);
        }
    }

    // ---- mutations ----------------------------------------------------------------------------

    static byte[] mutate(byte[] in, Random r) {
        byte[] b = in.clone();
        int n = 1 + r.nextInt(3);
        for (int k = 0; k < n; k++) {
            b = switch (r.nextInt(7)) {
                case 0 -> flipBit(b, r);
                case 1 -> overwriteByte(b, r);
                case 2 -> Arrays.copyOf(b, b.length == 0 ? 0 : r.nextInt(b.length));
                case 3 -> insertJunk(b, r);
                case 4 -> deleteRange(b, r);
                case 5 -> lieAboutShape(b, r);
                default -> overwriteField(b, r);
            };
        }
        return b;
    }

    /** A position biased to the start (npy header, local zip header) and the end (zip directory). */
    private static int position(byte[] b, Random r) {
        return switch (r.nextInt(3)) {
            case 0 -> r.nextInt(Math.min(b.length, 160));
            case 1 -> Math.max(0, b.length - 1 - r.nextInt(Math.min(b.length, 120)));
            default -> r.nextInt(b.length);
        };
    }

    private static byte[] flipBit(byte[] b, Random r) {
        if (b.length > 0) {
            b[position(b, r)] ^= (byte) (1 << r.nextInt(8));
        }
        return b;
    }

    private static byte[] overwriteByte(byte[] b, Random r) {
        if (b.length > 0) {
            b[position(b, r)] = r.nextBoolean() ? INTERESTING[r.nextInt(INTERESTING.length)] : (byte) r.nextInt();
        }
        return b;
    }

    private static byte[] insertJunk(byte[] b, Random r) {
        int at = b.length == 0 ? 0 : position(b, r);
        byte[] junk = new byte[1 + r.nextInt(8)];
        r.nextBytes(junk);
        byte[] out = new byte[b.length + junk.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(junk, 0, out, at, junk.length);
        System.arraycopy(b, at, out, at + junk.length, b.length - at);
        return out;
    }

    private static byte[] deleteRange(byte[] b, Random r) {
        if (b.length == 0) {
            return b;
        }
        int at = position(b, r);
        int len = Math.min(b.length - at, 1 + r.nextInt(16));
        byte[] out = new byte[b.length - len];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(b, at + len, out, at, b.length - at - len);
        return out;
    }

    /** Overwrites 2 or 4 bytes with a boundary value: header lengths, zip sizes and offsets. */
    private static byte[] overwriteField(byte[] b, Random r) {
        int width = r.nextBoolean() ? 2 : 4;
        if (b.length < width) {
            return b;
        }
        int at = Math.min(position(b, r), b.length - width);
        long[] values = {0, 1, -1, 0x7fff, 0xffff, 0x7fffffff, 0x80000000L, b.length, b.length + 1, b.length - 1, 64};
        long v = values[r.nextInt(values.length)];
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (width == 2) {
            buf.putShort(at, (short) v);
        } else {
            buf.putInt(at, (int) v);
        }
        return b;
    }

    /**
     * Replaces the shape in a plain-text header (npy files, stored npz members). Half the time the
     * header keeps its length (the padding absorbs the change), so the lie reaches the size checks.
     */
    private static byte[] lieAboutShape(byte[] b, Random r) {
        String text = new String(b, StandardCharsets.ISO_8859_1);
        int key = text.indexOf("'shape': ");
        if (key < 0) {
            return flipBit(b, r);
        }
        int from = key + "'shape': ".length();
        int to = text.indexOf("), ", from);
        if (to < 0) {
            return flipBit(b, r);
        }
        to++;
        String shape = r.nextInt(4) == 0
                ? "(" + r.nextInt() + ", " + r.nextInt(20) + ")"
                : SHAPES.get(r.nextInt(SHAPES.size()));
        String replaced = text.substring(0, from) + shape + text.substring(to);
        int grow = shape.length() - (to - from);
        int newline = replaced.indexOf('\n', from);
        if (r.nextBoolean() && newline > 0 && grow != 0) { // keep the length: take from or give to the padding
            int spaces = 0;
            while (spaces < newline && replaced.charAt(newline - 1 - spaces) == ' ') {
                spaces++;
            }
            if (grow > 0 && spaces >= grow) {
                replaced = replaced.substring(0, newline - grow) + replaced.substring(newline);
            } else if (grow < 0) {
                replaced = replaced.substring(0, newline) + " ".repeat(-grow) + replaced.substring(newline);
            }
        }
        return replaced.getBytes(StandardCharsets.ISO_8859_1);
    }
}
