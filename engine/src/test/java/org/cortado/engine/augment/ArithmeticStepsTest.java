package org.cortado.engine.augment;

import static org.cortado.engine.augment.AugmentTesting.bytes;
import static org.cortado.engine.augment.AugmentTesting.floats;
import static org.cortado.engine.augment.AugmentTesting.ids;
import static org.cortado.engine.augment.AugmentTesting.one;
import static org.cortado.engine.augment.AugmentTesting.randomBytes;
import static org.cortado.engine.augment.AugmentTesting.toFloats;
import static org.cortado.engine.augment.AugmentTesting.train;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** scale, normalize, color_jitter and random_erasing against their formulas, written out here. */
class ArithmeticStepsTest {

    @Test
    void normalizeIsPerChannelInTheUnitsAfterScale() {
        int[] s = {3, 4, 5};
        byte[] img = randomBytes(1, 60);
        double[] mean = {0.485, 0.456, 0.406};
        double[] std = {0.229, 0.224, 0.225};
        float[] out = one(train("[{'type':'normalize','scale':0.00392156862745098,'mean':[0.485,0.456,0.406],"
                + "'std':[0.229,0.224,0.225]}]", 1, s), 0, 0, img);
        for (int i = 0; i < 60; i++) {
            int c = i / 20;
            double expected = ((img[i] & 0xff) / 255.0 - mean[c]) / std[c];
            assertEquals(expected, out[i], 2e-6 * Math.max(1, Math.abs(expected)), "pixel " + i);
        }
        // One value for all channels, raw units.
        float[] raw = one(train("[{'type':'normalize','mean':72.9,'std':[90]}]", 1, s), 0, 0, img);
        for (int i = 0; i < 60; i++) {
            assertEquals(((img[i] & 0xff) - 72.9) / 90, raw[i], 1e-6);
        }
    }

    @Test
    void scaleMultiplies() {
        int[] s = {1, 2, 3};
        byte[] img = randomBytes(2, 6);
        float[] out = one(train("[{'type':'scale','scale':0.00390625}]", 1, s), 0, 0, img);
        for (int i = 0; i < 6; i++) {
            assertEquals((img[i] & 0xff) / 256f, out[i]); // a power of two: exact
        }
    }

    @Test
    void affineStepsComposeAcrossAnInPlaceStep() {
        // scale, jitter (a no-op range), normalize: the normalize runs after the in-place pass.
        int[] s = {1, 3, 3};
        byte[] img = randomBytes(3, 9);
        float[] out = one(train("[{'type':'scale','scale':0.5},{'type':'color_jitter','brightness':[1,1]},"
                + "{'type':'normalize','mean':10,'std':4},{'type':'scale','scale':3}]", 1, s), 0, 0, img);
        for (int i = 0; i < 9; i++) {
            assertEquals(((img[i] & 0xff) * 0.5 - 10) / 4 * 3, out[i], 1e-5);
        }
    }

    /** torchvision's ColorJitter for brightness b and contrast c in the given order, on a (C, H, W) float image. */
    static float[] jitter(float[] x, int[] s, double b, double c, boolean contrastFirst, double max) {
        float[] y = x.clone();
        if (contrastFirst) {
            contrast(y, s, c, max);
            brightness(y, b, max);
        } else {
            brightness(y, b, max);
            contrast(y, s, c, max);
        }
        return y;
    }

    private static void brightness(float[] y, double b, double max) {
        for (int i = 0; i < y.length; i++) {
            y[i] = (float) Math.min(max, Math.max(0, b * y[i]));
        }
    }

    private static void contrast(float[] y, int[] s, double c, double max) {
        int plane = s[1] * s[2];
        double gray = 0;
        for (int i = 0; i < plane; i++) {
            gray += s[0] == 3 ? 0.2989 * y[i] + 0.587 * y[plane + i] + 0.114 * y[2 * plane + i] : y[i];
        }
        gray /= plane;
        for (int i = 0; i < y.length; i++) {
            y[i] = (float) Math.min(max, Math.max(0, c * y[i] + (1 - c) * gray));
        }
    }

    @Test
    void colorJitterFollowsTorchvisionGivenItsDocumentedDraws() {
        int[] s = {3, 6, 7};
        byte[] img = randomBytes(4, 126);
        Augmenter a = train("[{'type':'flip','p':0},{'type':'color_jitter','brightness':0.4,'contrast':[0.5,1.8]}]", 5, s);
        long phaseSeed = org.cortado.engine.layers.LayerContext.mix(5, "augment/TRAIN");
        int[] orders = new int[2];
        for (long id = 0; id < 50; id++) {
            // The step is number 1 of the list; it draws the order, then b, then c.
            SampleRandom r = new SampleRandom().reset(SampleRandom.stepSeed(SampleRandom.sampleSeed(phaseSeed, 2, id), 1));
            boolean contrastFirst = r.nextInt(2) == 1;
            double b = r.uniform(0.6, 1.4);
            double c = r.uniform(0.5, 1.8);
            orders[contrastFirst ? 1 : 0]++;
            float[] expected = jitter(toFloats(img), s, b, c, contrastFirst, 255);
            float[] out = one(a, 2, id, img);
            for (int i = 0; i < out.length; i++) {
                assertEquals(expected[i], out[i], 2e-4, "sample " + id + " pixel " + i);
            }
        }
        assertTrue(orders[0] > 10 && orders[1] > 10, "both orders drawn");
    }

    @Test
    void colorJitterClampsToTheValueRange() {
        int[] s = {1, 8, 8};
        byte[] img = randomBytes(6, 64);
        // A brightness factor of 3 pushes most pixels past the top: 255 on uint8, 1 on float, 255 * scale after a scale.
        float[] u8 = one(train("[{'type':'color_jitter','brightness':[3,3]}]", 1, s), 0, 0, img);
        float[] scaled = one(train("[{'type':'scale','scale':0.5},{'type':'color_jitter','brightness':[3,3]}]", 1, s), 0, 0, img);
        float[] f = toFloats(img);
        for (int i = 0; i < 64; i++) {
            f[i] /= 255;
        }
        float[] fl = one(train("[{'type':'color_jitter','brightness':[3,3]}]", 1, s), 0, 0, f);
        float[] custom = one(train("[{'type':'color_jitter','brightness':[3,3],'max':100}]", 1, s), 0, 0, img);
        for (int i = 0; i < 64; i++) {
            float v = img[i] & 0xff;
            assertEquals(Math.min(255, 3 * v), u8[i], 1e-4);
            assertEquals(Math.min(127.5, 1.5 * v), scaled[i], 1e-4);
            assertEquals(Math.min(1, 3 * f[i]), fl[i], 1e-6);
            assertEquals(Math.min(100, 3 * v), custom[i], 1e-4);
        }
    }

    @Test
    void contrastOfOneChannelBlendsWithItsMean() {
        int[] s = {1, 5, 5};
        byte[] img = randomBytes(7, 25);
        float[] out = one(train("[{'type':'color_jitter','contrast':[0.3,0.3]}]", 1, s), 0, 0, img);
        assertArrayEquals(jitter(toFloats(img), s, 1, 0.3, false, 255), out, 1e-4f);
    }

    @Test
    void randomErasingBlanksOneBoxOfTheDocumentedSize() {
        int[] s = {2, 20, 30};
        float[] ones = new float[2 * 600];
        java.util.Arrays.fill(ones, 1f);
        Augmenter a = train("[{'type':'random_erasing','p':1,'value':[0,-1]}]", 3, s);
        int erased = 0;
        for (long id = 0; id < 300; id++) {
            float[] out = one(a, 0, id, ones);
            int top = Integer.MAX_VALUE;
            int left = Integer.MAX_VALUE;
            int bottom = -1;
            int right = -1;
            int count = 0;
            for (int y = 0; y < 20; y++) {
                for (int x = 0; x < 30; x++) {
                    float v0 = out[y * 30 + x];
                    float v1 = out[600 + y * 30 + x];
                    if (v0 != 1f) {
                        assertEquals(0f, v0);
                        assertEquals(-1f, v1, "both channels erased together, each with its value");
                        count++;
                        top = Math.min(top, y);
                        bottom = Math.max(bottom, y);
                        left = Math.min(left, x);
                        right = Math.max(right, x);
                    } else {
                        assertEquals(1f, v1);
                    }
                }
            }
            if (count == 0) {
                continue;
            }
            erased++;
            int eh = bottom - top + 1;
            int ew = right - left + 1;
            assertEquals(eh * ew, count, "a box");
            assertTrue(eh < 20 && ew < 30, "smaller than the image");
            // area within scale [0.02, 0.33] of 600, up to rounding of each side
            assertTrue(eh * ew >= 0.02 * 600 - (eh + ew) && eh * ew <= 0.33 * 600 + (eh + ew) + 1, eh + "x" + ew);
        }
        assertTrue(erased > 250, "with p = 1 nearly every sample finds a box in 10 attempts: " + erased);
    }

    @Test
    void randomErasingRateAndRandomValues() {
        int[] s = {1, 16, 16};
        float[] ones = new float[256];
        java.util.Arrays.fill(ones, 1f);
        Augmenter a = train("[{'type':'random_erasing','p':0.25,'value':'random'}]", 4, s);
        int changed = 0;
        for (long id = 0; id < 2000; id++) {
            float[] out = one(a, 0, id, ones);
            int diff = 0;
            for (float v : out) {
                diff += v != 1f ? 1 : 0;
            }
            changed += diff > 0 ? 1 : 0;
        }
        // Binomial(2000, 0.25 * P(a box within 10 attempts) ~ 0.25): sd 19.4; a wide margin below.
        assertEquals(500, changed, 90);
        Augmenter never = train("[{'type':'random_erasing','p':0}]", 4, s);
        assertArrayEquals(ones, one(never, 0, 1, ones));
    }

    @Test
    void uint8AndFloatInputGiveTheSameOutput() {
        int[] s = {3, 16, 16};
        int n = 3 * 256;
        byte[] px = randomBytes(8, 8 * n);
        String steps = "[{'type':'pad','pad':[3,1],'padding_mode':'reflect'},{'type':'random_crop','size':14,'pad':2,'fill':[1,2,3]},"
                + "{'type':'flip'},{'type':'center_crop','size':[13,12]},{'type':'color_jitter','brightness':0.3,'contrast':0.3},"
                + "{'type':'normalize','mean':[120,115,100],'std':[60,61,62]},{'type':'random_erasing','p':0.7,'value':'random'}]";
        Augmenter a = train(steps, 6, s);
        float[] fromBytes = new float[8 * a.outputElements()];
        float[] fromFloats = new float[8 * a.outputElements()];
        a.apply(bytes(4, ids(100, 8), s, px), fromBytes);
        // The float image's color_jitter clamps to 1 by default: say 255, as for uint8.
        Augmenter af = train(steps.replace("'contrast':0.3}", "'contrast':0.3,'max':255}"), 6, s);
        af.apply(floats(4, ids(100, 8), s, toFloats(px)), fromFloats);
        assertArrayEquals(fromBytes, fromFloats);
        assertNotEquals(0, fromBytes[0]);
    }
}
