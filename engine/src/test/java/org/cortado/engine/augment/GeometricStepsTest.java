package org.cortado.engine.augment;

import static org.cortado.engine.augment.AugmentTesting.one;
import static org.cortado.engine.augment.AugmentTesting.randomBytes;
import static org.cortado.engine.augment.AugmentTesting.toFloats;
import static org.cortado.engine.augment.AugmentTesting.train;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** pad, random_crop, center_crop and flip against images built pixel by pixel in the test. */
class GeometricStepsTest {

    /** Independent padding: each mode's source index found by stepping, not by the period formula. */
    static float[] pad(float[] img, int[] s, int top, int bottom, int left, int right, String mode, double... fill) {
        int oh = s[1] + top + bottom;
        int ow = s[2] + left + right;
        float[] out = new float[s[0] * oh * ow];
        for (int c = 0; c < s[0]; c++) {
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    int sy = source(y - top, s[1], mode);
                    int sx = source(x - left, s[2], mode);
                    out[(c * oh + y) * ow + x] = sy < 0 || sx < 0 ? (float) fill[fill.length == 1 ? 0 : c]
                            : img[(c * s[1] + sy) * s[2] + sx];
                }
            }
        }
        return out;
    }

    private static int source(int p, int n, String mode) {
        while (p < 0 || p >= n) {
            switch (mode) {
                case "constant" -> {
                    return -1;
                }
                case "edge" -> p = p < 0 ? 0 : n - 1;
                case "reflect" -> p = p < 0 ? -p : 2 * (n - 1) - p;
                case "symmetric" -> p = p < 0 ? -p - 1 : 2 * n - 1 - p;
                default -> throw new IllegalArgumentException(mode);
            }
        }
        return p;
    }

    /** The {@code h x w} window of a (C, H, W) image at (top, left), flipped horizontally when asked. */
    static float[] window(float[] img, int[] s, int top, int left, int h, int w, boolean flip) {
        float[] out = new float[s[0] * h * w];
        for (int c = 0; c < s[0]; c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int sx = flip ? left + w - 1 - x : left + x;
                    out[(c * h + y) * w + x] = img[(c * s[1] + top + y) * s[2] + sx];
                }
            }
        }
        return out;
    }

    /** The offset {top, left, flipped} of the window of {@code img} that {@code out} equals, or null. */
    static int[] findWindow(float[] img, int[] s, float[] out, int h, int w, boolean flips) {
        for (int top = 0; top + h <= s[1]; top++) {
            for (int left = 0; left + w <= s[2]; left++) {
                for (int f = 0; f < (flips ? 2 : 1); f++) {
                    if (java.util.Arrays.equals(window(img, s, top, left, h, w, f == 1), out)) {
                        return new int[] {top, left, f};
                    }
                }
            }
        }
        return null;
    }

    private static float[] sequence(int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = i + 1;
        }
        return f;
    }

    private static byte[] bytesOf(float[] f) {
        byte[] b = new byte[f.length];
        for (int i = 0; i < f.length; i++) {
            b[i] = (byte) f[i];
        }
        return b;
    }

    @Test
    void padTakesOneTwoOrFourValuesInTorchvisionsOrder() {
        int[] s = {1, 3, 4};
        byte[] img = bytesOf(sequence(12));
        float[] f = toFloats(img);
        assertArrayEquals(pad(f, s, 2, 2, 2, 2, "constant", 7),
                one(train("[{'type':'pad','pad':2,'fill':7}]", 1, s), 0, 0, img));
        // [left/right, top/bottom]
        assertArrayEquals(pad(f, s, 2, 2, 1, 1, "constant", 0), one(train("[{'type':'pad','pad':[1,2]}]", 1, s), 0, 0, img));
        // [left, top, right, bottom]
        Augmenter a = train("[{'type':'pad','pad':[1,2,3,4]}]", 1, s);
        assertArrayEquals(new int[] {1, 3 + 2 + 4, 4 + 1 + 3}, a.outputShape());
        assertArrayEquals(pad(f, s, 2, 4, 1, 3, "constant", 0), one(a, 0, 0, img));
    }

    @Test
    void padModesMatchStepwiseReflection() {
        int[] s = {2, 4, 5};
        byte[] img = randomBytes(3, 40);
        for (String mode : new String[] {"edge", "reflect", "symmetric"}) {
            // left 3 (< 5), top 2, right 1, bottom 3 (< 4): the largest reflect allows on the rows.
            Augmenter a = train("[{'type':'pad','pad':[3,2,1,3],'padding_mode':'" + mode + "'}]", 1, s);
            assertArrayEquals(pad(toFloats(img), s, 2, 3, 3, 1, mode), one(a, 0, 0, img), mode);
        }
        Augmenter sym = train("[{'type':'pad','pad':[5,4],'padding_mode':'symmetric'}]", 1, s);
        assertArrayEquals(pad(toFloats(img), s, 4, 4, 5, 5, "symmetric"), one(sym, 0, 0, img), "symmetric up to n");
    }

    @Test
    void fillIsPerChannelAndRoundedOnUint8() {
        int[] s = {3, 2, 2};
        byte[] img = randomBytes(4, 12);
        Augmenter a = train("[{'type':'pad','pad':1,'fill':[3.6, 300, -2]}]", 1, s);
        assertArrayEquals(pad(toFloats(img), s, 1, 1, 1, 1, "constant", 4, 255, 0), one(a, 0, 0, img));
        // A float image keeps the fill as given.
        float[] f = toFloats(img);
        assertArrayEquals(pad(f, s, 1, 1, 1, 1, "constant", 3.6, 300, -2), one(a, 0, 0, f));
    }

    @Test
    void laterPaddingSurroundsTheEarlierOne() {
        int[] s = {1, 3, 3};
        byte[] img = bytesOf(sequence(9));
        float[] f = toFloats(img);
        Augmenter a = train("[{'type':'pad','pad':1,'fill':10},{'type':'pad','pad':[2,1],'fill':20},"
                + "{'type':'pad','pad':[0,1,1,0],'padding_mode':'reflect'}]", 1, s);
        float[] p1 = pad(f, s, 1, 1, 1, 1, "constant", 10);
        int[] s1 = {1, 5, 5};
        float[] p2 = pad(p1, s1, 1, 1, 2, 2, "constant", 20);
        int[] s2 = {1, 7, 9};
        float[] p3 = pad(p2, s2, 1, 0, 0, 1, "reflect");
        assertArrayEquals(new int[] {1, 8, 10}, a.outputShape());
        assertArrayEquals(p3, one(a, 0, 0, img));
    }

    @Test
    void randomCropIsAWindowOfThePaddedImageAndReachesEveryOffset() {
        int[] s = {1, 10, 10};
        byte[] img = randomBytes(5, 100);
        float[] padded = pad(toFloats(img), s, 2, 2, 2, 2, "constant", 0);
        int[] ps = {1, 14, 14};
        Augmenter a = train("[{'type':'pad','pad':2},{'type':'random_crop','size':10}]", 9, s);
        Set<Integer> seen = new HashSet<>();
        for (long id = 0; id < 1000; id++) {
            int[] at = findWindow(padded, ps, one(a, 0, id, img), 10, 10, false);
            assertNotNull(at, "sample " + id + " is not a 10x10 window of the padded image");
            seen.add(at[0] * 100 + at[1]);
        }
        // 25 offsets, 1000 samples: all seen (a fixed seed, so this cannot flake).
        assertEquals(25, seen.size());
    }

    @Test
    void randomCropPadsWithItsOwnFields() {
        int[] s = {1, 6, 7};
        byte[] img = randomBytes(6, 42);
        float[] padded = pad(toFloats(img), s, 3, 3, 2, 2, "reflect");
        Augmenter a = train("[{'type':'random_crop','size_h':5,'size_w':8,'pad':[2,3],'padding_mode':'reflect'}]", 2, s);
        assertArrayEquals(new int[] {1, 5, 8}, a.outputShape());
        for (long id = 0; id < 50; id++) {
            assertNotNull(findWindow(padded, new int[] {1, 12, 11}, one(a, 0, id, img), 5, 8, false), "sample " + id);
        }
    }

    @Test
    void centerCropRoundsHalfToEvenAsTorchvision() {
        int[] s = {2, 28, 28};
        byte[] img = randomBytes(7, 2 * 28 * 28);
        float[] f = toFloats(img);
        // (28 - 25) / 2 = 1.5 -> 2; (28 - 23) / 2 = 2.5 -> 2; (28 - 21) / 2 = 3.5 -> 4; (28 - 26) / 2 = 1.
        assertArrayEquals(window(f, s, 2, 2, 25, 25, false), one(train("[{'type':'center_crop','size':25}]", 1, s), 0, 0, img));
        assertArrayEquals(window(f, s, 2, 2, 23, 23, false), one(train("[{'type':'center_crop','size':23}]", 1, s), 0, 0, img));
        assertArrayEquals(window(f, s, 1, 4, 26, 21, false),
                one(train("[{'type':'center_crop','size':[26,21]}]", 1, s), 0, 0, img));
    }

    @Test
    void flipHappensWithProbabilityP() {
        int[] s = {1, 4, 6};
        byte[] img = randomBytes(8, 24);
        float[] f = toFloats(img);
        float[] mirrored = window(f, s, 0, 0, 4, 6, true);
        Augmenter a = train("[{'type':'flip','p':0.3}]", 11, s);
        int flipped = 0;
        for (long id = 0; id < 2000; id++) {
            float[] out = one(a, 0, id, img);
            if (java.util.Arrays.equals(out, mirrored)) {
                flipped++;
            } else {
                assertArrayEquals(f, out);
            }
        }
        // Binomial(2000, 0.3): mean 600, sd 20.5; 4.5 sd.
        assertEquals(600, flipped, 92);
        Augmenter never = train("[{'type':'flip','p':0}]", 11, s);
        Augmenter always = train("[{'type':'flip','p':1}]", 11, s);
        for (long id = 0; id < 100; id++) {
            assertArrayEquals(f, one(never, 0, id, img));
            assertArrayEquals(mirrored, one(always, 0, id, img));
        }
    }

    @Test
    void verticalFlipReversesRows() {
        int[] s = {2, 3, 2};
        byte[] img = bytesOf(sequence(12));
        float[] out = one(train("[{'type':'flip','p':1,'horizontal':false}]", 1, s), 0, 0, img);
        assertArrayEquals(new float[] {5, 6, 3, 4, 1, 2, 11, 12, 9, 10, 7, 8}, out);
    }

    @Test
    void fusedPadCropFlipNormalizeEqualsTheStepsOneByOne() {
        int[] s = {3, 12, 12};
        byte[] img = randomBytes(9, 3 * 144);
        float[] padded = pad(toFloats(img), s, 4, 4, 4, 4, "constant", 0);
        int[] ps = {3, 20, 20};
        double[] mean = {120.5, 110, 100.25};
        double[] std = {60, 55.5, 70};
        Augmenter a = train("[{'type':'pad','pad':4},{'type':'random_crop','size':12},{'type':'flip'},"
                + "{'type':'normalize','mean':[120.5,110,100.25],'std':[60,55.5,70]}]", 4, s);
        int flips = 0;
        for (long id = 0; id < 200; id++) {
            float[] out = one(a, 3, id, img);
            // Undo the normalization (exactly invertible on integers to well within 0.5), then find the window.
            float[] raw = new float[out.length];
            for (int i = 0; i < out.length; i++) {
                int c = i / 144;
                raw[i] = Math.round(out[i] * std[c] + mean[c]);
            }
            int[] at = findWindow(padded, ps, raw, 12, 12, true);
            assertNotNull(at, "sample " + id);
            flips += at[2];
            float[] expect = window(padded, ps, at[0], at[1], 12, 12, at[2] == 1);
            for (int i = 0; i < out.length; i++) {
                int c = i / 144;
                assertEquals((expect[i] - mean[c]) / std[c], out[i], 1e-6, "sample " + id + " pixel " + i);
            }
        }
        assertEquals(100, flips, 32);
    }
}
