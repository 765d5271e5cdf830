package org.cortado.engine.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.cortado.engine.DataFormatException;
import org.cortado.engine.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Decoding and resizing against PIL's {@code resize(BILINEAR)} (make_image_fixtures.py). */
class ImagesTest {
    static final Path DIR = Path.of("src/test/resources/fixtures/data");

    private static void assertMatchesPil(String name, int tolerance) {
        byte[] ours = Images.load(DIR.resolve("images/" + name), 3, 8, 8);
        float[] pil = Npy.read(DIR.resolve("images-expected/" + name.replace('/', '_') + ".npy")).data();
        int worst = 0;
        for (int i = 0; i < ours.length; i++) {
            worst = Math.max(worst, Math.abs((ours[i] & 0xff) - (int) pil[i]));
        }
        assertTrue(worst <= tolerance, name + ": largest difference from PIL " + worst);
    }

    @Test
    void pngResizeMatchesPilWithinRounding() {
        // PIL rounds to 8 bits between its two passes; we round once: at most 1 apart.
        assertMatchesPil("cat/rgb.png", 1);
        assertMatchesPil("cat/gray.png", 1);
        assertMatchesPil("dog/rgba.png", 1);
    }

    @Test
    void jpegDecodesCloseToLibjpeg() {
        // Different JPEG decoders may differ by a few levels (IDCT and upsampling choices).
        assertMatchesPil("dog/smooth.jpg", 6);
    }

    @Test
    void grayscaleEqualsPilsConvertL() {
        byte[] l = Images.load(DIR.resolve("images/cat/rgb.png"), 1, 13, 17); // native size: no resampling
        float[] pil = Npy.read(DIR.resolve("images-expected/cat_rgb.png.L.npy")).data();
        for (int i = 0; i < l.length; i++) {
            assertEquals(pil[i], l[i] & 0xff, "pixel " + i);
        }
    }

    @Test
    void sameSizeIsIdentityAndUpscaleInterpolates() {
        float[] src = {0, 10, 20, 30};
        float[] same = Images.resize(src, 2, 2, 2, 2);
        for (int i = 0; i < 4; i++) {
            assertEquals(src[i], same[i], 1e-5);
        }
        // 1x2 -> 1x4: PIL's bilinear puts 0, 2.5, 7.5, 10 (edge pixels clamp, centres interpolate).
        float[] up = Images.resize(new float[] {0, 10}, 1, 2, 1, 4);
        assertEquals(0, up[0], 1e-5);
        assertEquals(2.5, up[1], 1e-5);
        assertEquals(7.5, up[2], 1e-5);
        assertEquals(10, up[3], 1e-5);
    }

    @Test
    void undecodableFileIsNamed(@TempDir Path tmp) throws IOException {
        Path bad = tmp.resolve("broken.png");
        Files.writeString(bad, "not an image");
        var e = assertThrows(DataFormatException.class, () -> Images.load(bad, 3, 8, 8));
        assertTrue(e.getMessage().contains("broken.png"), e.getMessage());
    }
}
