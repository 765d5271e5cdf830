package org.cortado.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.cortado.engine.DataFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** IDX files written by numpy (make_image_fixtures.py). */
class IdxTest {
    static final Path DIR = Path.of("src/test/resources/fixtures/data/idx");

    @Test
    void readsGzippedUint8ImagesAndLabels() {
        NdArray images = Idx.read(DIR.resolve("images-idx3-ubyte.gz"));
        assertEquals(DType.U1, images.dtype());
        assertArrayEquals(new int[] {5, 4, 3}, images.shape());
        float[] v = images.toFloats();
        for (int i = 0; i < 60; i++) {
            assertEquals(i * 7 % 256, v[i], "element " + i);
        }
        assertArrayEquals(new float[] {3, 1, 4, 1, 5}, Idx.read(DIR.resolve("labels-idx1-ubyte.gz")).toFloats());
    }

    @Test
    void readsEveryElementTypeBigEndian() {
        String[] codes = {"09", "0b", "0c", "0d", "0e"};
        DType[] types = {DType.I1, DType.I2, DType.I4, DType.F4, DType.F8};
        for (int k = 0; k < codes.length; k++) {
            NdArray a = Idx.read(DIR.resolve("values-" + codes[k] + ".idx"));
            assertEquals(types[k], a.dtype());
            assertArrayEquals(new int[] {2, 3}, a.shape());
            assertArrayEquals(new float[] {-5, -2, 1, 4, 7, 10}, a.toFloats(), codes[k]);
        }
    }

    @Test
    void damagedFilesNameTheFile(@TempDir Path tmp) throws IOException {
        byte[] good = Files.readAllBytes(DIR.resolve("values-0c.idx"));
        Path truncated = tmp.resolve("t.idx");
        Files.write(truncated, Arrays.copyOf(good, good.length - 3));
        var e = assertThrows(DataFormatException.class, () -> Idx.read(truncated));
        assertTrue(e.getMessage().contains("t.idx") && e.getMessage().contains("truncated"), e.getMessage());

        Path badType = tmp.resolve("b.idx");
        byte[] b = good.clone();
        b[2] = 0x0A;
        Files.write(badType, b);
        e = assertThrows(DataFormatException.class, () -> Idx.read(badType));
        assertTrue(e.getMessage().contains("b.idx") && e.getMessage().contains("0xa"), e.getMessage());

        Path lies = tmp.resolve("l.idx");
        byte[] l = good.clone();
        l[4] = 0x7f; // first dimension becomes huge: must fail as truncated, not allocate
        Files.write(lies, l);
        e = assertThrows(DataFormatException.class, () -> Idx.read(lies));
        assertTrue(e.getMessage().contains("l.idx"), e.getMessage());

        Path notGzip = tmp.resolve("n.gz");
        Files.write(notGzip, good);
        e = assertThrows(DataFormatException.class, () -> Idx.read(notGzip));
        assertTrue(e.getMessage().contains("n.gz") && e.getMessage().contains("gzip"), e.getMessage());

        e = assertThrows(DataFormatException.class, () -> Idx.read(tmp.resolve("missing.idx")));
        assertTrue(e.getMessage().contains("missing.idx"), e.getMessage());
    }

    @Test
    void headerWhoseSizeOverflowsALongIsRefused(@TempDir Path tmp) throws IOException {
        // uint8, 4 dimensions of 2^30: 2^120 elements, which wraps around to 0 in long arithmetic.
        byte[] h = {0, 0, 0x08, 4, 0x40, 0, 0, 0, 0x40, 0, 0, 0, 0x40, 0, 0, 0, 0x40, 0, 0, 0};
        Path huge = tmp.resolve("huge.idx");
        Files.write(huge, h);
        var e = assertThrows(DataFormatException.class, () -> Idx.read(huge));
        assertTrue(e.getMessage().contains("huge.idx") && e.getMessage().contains("2 GiB"), e.getMessage());
    }
}
