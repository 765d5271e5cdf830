package org.cortado.engine.augment;

import static org.cortado.engine.augment.AugmentTesting.one;
import static org.cortado.engine.augment.AugmentTesting.randomBytes;
import static org.cortado.engine.augment.AugmentTesting.toFloats;
import static org.cortado.engine.augment.AugmentTesting.train;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** random_resized_crop: torchvision's box rules and torch's bilinear resize, written out here. */
class RandomResizedCropTest {

    @Test
    void boxesKeepTheAreaAndAspectRanges() {
        double[] scale = {0.08, 1};
        double[] ratio = {3.0 / 4, 4.0 / 3};
        int[] box = new int[4];
        SampleRandom r = new SampleRandom();
        int fallbacks = 0;
        for (long seed = 0; seed < 3000; seed++) {
            RandomResizedCrop.box(40, 30, scale, ratio, r.reset(seed), box);
            int top = box[0];
            int left = box[1];
            int bh = box[2];
            int bw = box[3];
            assertTrue(top >= 0 && left >= 0 && bh > 0 && bw > 0 && top + bh <= 40 && left + bw <= 30, "in the image");
            if (bh == 40 && bw == 30 && top == 0 && left == 0) {
                fallbacks++;
                continue;
            }
            // Each side is rounded: the area and aspect hold up to half a pixel per side.
            double areaLo = (Math.sqrt(0.08 * 1200 * 0.75) - 0.5) * (Math.sqrt(0.08 * 1200 / (4.0 / 3)) - 0.5);
            assertTrue(bh * bw >= areaLo && bh * bw <= 1200, bh + "x" + bw);
            assertTrue((bw + 0.5) / (bh - 0.5) >= 0.75 && (bw - 0.5) / (bh + 0.5) <= 4.0 / 3, "aspect of " + bh + "x" + bw);
        }
        assertTrue(fallbacks < 30, "fallbacks: " + fallbacks);
    }

    @Test
    void boxDrawsAreTheDocumentedOnes() {
        // Per attempt: the area, then the log-aspect, then top and left once a box fits.
        double[] scale = {0.08, 1};
        double[] ratio = {0.5, 2};
        int[] box = new int[4];
        for (long seed = 0; seed < 500; seed++) {
            RandomResizedCrop.box(17, 23, scale, ratio, new SampleRandom().reset(seed), box);
            SampleRandom r = new SampleRandom().reset(seed);
            int[] expected = null;
            for (int attempt = 0; attempt < 10 && expected == null; attempt++) {
                double area = 17 * 23 * (0.08 + 0.92 * r.nextDouble());
                double aspect = Math.exp(Math.log(0.5) + (Math.log(2) - Math.log(0.5)) * r.nextDouble());
                int w = (int) Math.rint(Math.sqrt(area * aspect));
                int h = (int) Math.rint(Math.sqrt(area / aspect));
                if (w > 0 && w <= 23 && h > 0 && h <= 17) {
                    expected = new int[] {r.nextInt(17 - h + 1), r.nextInt(23 - w + 1), h, w};
                }
            }
            if (expected != null) {
                assertArrayEquals(expected, box, "seed " + seed);
            }
        }
    }

    @Test
    void impossibleScalesFallBackToTheCenteredBox() {
        int[] s = {1, 40, 30};
        byte[] img = randomBytes(1, 1200);
        float[] f = toFloats(img);
        // W / H = 0.75 < 2: bw = 30, bh = round(30 / 2) = 15, top = (40 - 15) / 2 = 12; output of the box's size: no resampling.
        float[] tall = one(train("[{'type':'random_resized_crop','size':[15,30],'scale':[2,3],'ratio':[2,3]}]", 1, s), 0, 0, img);
        assertArrayEquals(GeometricStepsTest.window(f, s, 12, 0, 15, 30, false), tall);
        // W / H = 0.75 > 0.5: bh = 40, bw = round(40 * 0.5) = 20, left = 5.
        float[] wide = one(train("[{'type':'random_resized_crop','size':[40,20],'scale':[2,3],'ratio':[0.25,0.5]}]", 1, s), 0, 0, img);
        assertArrayEquals(GeometricStepsTest.window(f, s, 0, 5, 40, 20, false), wide);
        // Within the ratios: the whole image.
        float[] whole = one(train("[{'type':'random_resized_crop','size':[40,30],'scale':[2,3]}]", 1, s), 0, 0, img);
        assertArrayEquals(f, whole);
    }

    /** torch's upsample_bilinear2d (align_corners=False) for one output pixel, as its CPU kernel computes it. */
    static float torchBilinear(float[] img, int[] s, int c, int top, int left, int bh, int bw, int oh, int ow, int y, int x) {
        float sh = (float) bh / oh;
        float sw = (float) bw / ow;
        float ry = Math.max(0f, (float) (sh * (y + 0.5) - 0.5));
        float rx = Math.max(0f, (float) (sw * (x + 0.5) - 0.5));
        int y0 = (int) ry;
        int x0 = (int) rx;
        int y1 = y0 < bh - 1 ? y0 + 1 : y0;
        int x1 = x0 < bw - 1 ? x0 + 1 : x0;
        float ly = ry - y0;
        float lx = rx - x0;
        float a = img[(c * s[1] + top + y0) * s[2] + left + x0];
        float b = img[(c * s[1] + top + y0) * s[2] + left + x1];
        float d = img[(c * s[1] + top + y1) * s[2] + left + x0];
        float e = img[(c * s[1] + top + y1) * s[2] + left + x1];
        return (1 - ly) * ((1 - lx) * a + lx * b) + ly * ((1 - lx) * d + lx * e);
    }

    @Test
    void plainBilinearMatchesTorchsFormula() {
        int[] s = {2, 13, 17};
        SplittableRandom rng = new SplittableRandom(3);
        float[] img = new float[2 * 13 * 17];
        for (int i = 0; i < img.length; i++) {
            img[i] = (float) (rng.nextDouble() * 255);
        }
        int[][] cases = {{1, 2, 9, 11, 20, 25}, {0, 0, 13, 17, 5, 6}, {3, 4, 7, 7, 7, 7}, {2, 1, 10, 15, 10, 4}, {0, 0, 1, 1, 3, 3}};
        for (int[] k : cases) {
            int oh = k[4];
            int ow = k[5];
            float[] out = new float[2 * oh * ow];
            Resample.resize(null, img, 0, s, k[0], k[1], k[2], k[3], oh, ow, false, null, out, 0,
                    new Resample.Scratch(s, oh, ow));
            for (int c = 0; c < 2; c++) {
                for (int y = 0; y < oh; y++) {
                    for (int x = 0; x < ow; x++) {
                        float expected = torchBilinear(img, s, c, k[0], k[1], k[2], k[3], oh, ow, y, x);
                        assertEquals(expected, out[(c * oh + y) * ow + x], 1e-4, java.util.Arrays.toString(k));
                    }
                }
            }
        }
    }

    @Test
    void antialiasOnlyChangesShrinking() {
        int[] s = {1, 9, 9};
        float[] img = toFloats(randomBytes(4, 81));
        float[] plain = new float[20 * 20];
        float[] aa = new float[20 * 20];
        Resample.resize(null, img, 0, s, 0, 0, 9, 9, 20, 20, false, null, plain, 0, new Resample.Scratch(s, 20, 20));
        Resample.resize(null, img, 0, s, 0, 0, 9, 9, 20, 20, true, null, aa, 0, new Resample.Scratch(s, 20, 20));
        assertArrayEquals(plain, aa);
        // Shrinking 9 -> 3 with antialias: each output averages a 3-pixel-wide triangle, so a constant stays constant
        // and weights sum to one.
        float[] flat = new float[81];
        java.util.Arrays.fill(flat, 77f);
        float[] small = new float[9];
        Resample.resize(null, flat, 0, s, 0, 0, 9, 9, 3, 3, true, null, small, 0, new Resample.Scratch(s, 3, 3));
        for (float v : small) {
            assertEquals(77f, v, 1e-4);
        }
    }

    @Test
    void uint8ResultIsTheFloatResultRounded() {
        int[] s = {3, 20, 24};
        byte[] img = randomBytes(5, 3 * 480);
        String steps = "[{'type':'random_resized_crop','size':[11,13]}]";
        Augmenter a = train(steps, 2, s);
        int ties = 0;
        for (long id = 0; id < 40; id++) {
            float[] fromBytes = one(a, 0, id, img);
            float[] fromFloats = one(a, 0, id, toFloats(img));
            for (int i = 0; i < fromBytes.length; i++) {
                float f = fromFloats[i];
                double frac = f - Math.floor(f);
                if (frac != 0.5 && Math.abs(frac - 0.5) < 1e-3) {
                    ties++; // float error may put a true tie on either side
                    assertEquals(f, fromBytes[i], 0.5001);
                } else {
                    // exact halves included: both round half to even
                    assertEquals(Math.rint(f), fromBytes[i], "sample " + id + " pixel " + i);
                }
            }
        }
        assertTrue(ties < 100, "near-ties: " + ties);
    }

    @Test
    void wholeSquareBoxAtItsOwnSizeIsTheIdentity() {
        int[] s = {2, 12, 12};
        byte[] img = randomBytes(6, 288);
        Augmenter a = train("[{'type':'random_resized_crop','size':12,'scale':[1,1],'ratio':[1,1]}]", 1, s);
        for (long id = 0; id < 10; id++) {
            assertArrayEquals(toFloats(img), one(a, 0, id, img));
        }
    }

    @Test
    void geometryBeforeAndAfterTheResize() {
        // pad (uint8 into uint8), a box that is the whole padded image at its own size, then a flip of the result.
        int[] s = {2, 6, 6};
        byte[] img = randomBytes(7, 72);
        float[] expected = GeometricStepsTest.window(GeometricStepsTest.pad(toFloats(img), s, 1, 1, 1, 1, "constant", 7),
                new int[] {2, 8, 8}, 0, 0, 8, 8, true);
        Augmenter a = train("[{'type':'pad','pad':1,'fill':7},{'type':'random_resized_crop','size':8,'scale':[1,1],"
                + "'ratio':[1,1]},{'type':'flip','p':1}]", 1, s);
        assertArrayEquals(expected, one(a, 0, 0, img));
        assertArrayEquals(expected, one(a, 0, 0, toFloats(img)));
    }
}
