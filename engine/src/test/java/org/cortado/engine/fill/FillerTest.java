package org.cortado.engine.fill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.cortado.engine.ConfigException;
import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Fillers: exact values where there are some, sample statistics with stated tolerances on blobs large
 * enough that a wrong scale (fan-in for fan-out, std for variance) is many tolerances away, and the
 * config errors with their exact messages.
 */
class FillerTest {
    /** A convolution weight (out, in, kh, kw): fan_in = 16*3*3 = 144, fan_out = 64*3*3 = 576. */
    private static final int[] CONV = {64, 16, 3, 3};

    /** Reads {@code layers[0].weight_filler} of {@code {"layers": [{"weight_filler": filler}]}}. */
    static Filler parse(String filler) {
        Json layer = Json.parse("{\"layers\": [{\"weight_filler\": " + filler + "}]}", "test").objects("layers").get(0);
        return Filler.parse(layer, "weight_filler", Filler.ZERO);
    }

    static float[] filled(Filler f, long seed, int... shape) {
        Tensor t = new Tensor(shape);
        f.fill(t, new SplittableRandom(seed));
        return t.toArray();
    }

    static double mean(float[] x) {
        double s = 0;
        for (float v : x) {
            s += v;
        }
        return s / x.length;
    }

    static double std(float[] x) {
        double m = mean(x);
        double s = 0;
        for (float v : x) {
            s += (v - m) * (v - m);
        }
        return Math.sqrt(s / x.length);
    }

    static double maxAbs(float[] x) {
        double m = 0;
        for (float v : x) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    @Test
    void constantFillsOnlyTheValidElements() {
        Tensor t = new Tensor(10);
        t.fill(7f);
        t.reshape(2, 2); // storage keeps 10 floats; 4 are valid
        parse("{\"type\": \"constant\", \"value\": 0.5}").fill(t, new SplittableRandom(1));
        assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f, 0.5f, 7f, 7f, 7f, 7f, 7f, 7f}, t.data(), 0f);

        assertArrayEquals(new float[6], filled(parse("{}"), 1, 2, 3), 0f, "constant 0 is the default");
    }

    @Test
    void uniformStaysWithinItsBounds() {
        Filler f = parse("{\"type\": \"uniform\", \"min\": -0.5, \"max\": 2}");
        float[] x = filled(f, 7, 20_000);
        double lo = Double.MAX_VALUE;
        double hi = -Double.MAX_VALUE;
        for (float v : x) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        assertTrue(lo >= -0.5 && hi <= 2, "range [" + lo + ", " + hi + "]");
        assertTrue(lo < -0.49 && hi > 1.99, "the bounds are reached: [" + lo + ", " + hi + "]");
        // U(a, b): mean (a+b)/2 = 0.75, std (b-a)/sqrt(12) = 0.7217; 5 standard errors on the mean.
        assertEquals(0.75, mean(x), 5 * 0.7217 / Math.sqrt(x.length));
        assertEquals(2.5 / Math.sqrt(12), std(x), 0.01 * 2.5 / Math.sqrt(12));
    }

    @Test
    void gaussianHasItsMeanAndStd() {
        float[] x = filled(parse("{\"type\": \"gaussian\", \"mean\": 1.5, \"std\": 0.2}"), 11, 100_000);
        // Standard error of the mean 0.2/sqrt(1e5) = 6.3e-4; of the std about 0.2/sqrt(2e5) = 4.5e-4.
        assertEquals(1.5, mean(x), 5 * 0.2 / Math.sqrt(x.length));
        assertEquals(0.2, std(x), 0.01 * 0.2);
    }

    @ParameterizedTest
    @EnumSource(Filler.VarianceNorm.class)
    void xavierBoundFollowsVarianceNorm(Filler.VarianceNorm norm) {
        double n = switch (norm) {
            case FAN_IN -> 16 * 3 * 3;
            case FAN_OUT -> 64 * 3 * 3;
            case AVERAGE -> (16 * 3 * 3 + 64 * 3 * 3) / 2.0;
        };
        double a = Math.sqrt(3 / n);
        float[] x = filled(parse("{\"type\": \"xavier\", \"variance_norm\": \"" + norm + "\"}"), 3, CONV);
        assertTrue(maxAbs(x) <= a, "|x| <= " + a + ", got " + maxAbs(x));
        assertTrue(maxAbs(x) > 0.99 * a, "the bound " + a + " is reached, max |x| " + maxAbs(x));
        // U(-a, a) has variance a^2/3 = 1/n; 9216 samples estimate it within about 1%.
        assertEquals(1 / n, std(x) * std(x), 0.05 / n);
    }

    @ParameterizedTest
    @EnumSource(Filler.VarianceNorm.class)
    void msraStdFollowsVarianceNorm(Filler.VarianceNorm norm) {
        double n = switch (norm) {
            case FAN_IN -> 144;
            case FAN_OUT -> 576;
            case AVERAGE -> 360;
        };
        float[] x = filled(parse("{\"type\": \"msra\", \"variance_norm\": \"" + norm.name().toLowerCase() + "\"}"), 5,
                CONV);
        double std = Math.sqrt(2 / n);
        // 9216 samples: standard error of the std about 0.74%.
        assertEquals(std, std(x), 0.03 * std);
        assertEquals(0, mean(x), 5 * std / Math.sqrt(x.length));
    }

    @Test
    void sameSeedSameValues() {
        for (String type : new String[] {"uniform", "gaussian", "xavier", "msra"}) {
            Filler f = parse("{\"type\": \"" + type + "\"}");
            float[] a = filled(f, 42, CONV);
            assertArrayEquals(a, filled(f, 42, CONV), 0f, type);
            assertFalse(Arrays.equals(a, filled(f, 43, CONV)), type + ": another seed gives other values");
        }
    }

    @Test
    void parsesCaffeFieldsAndDefaults() {
        assertEquals(new Filler(Filler.Type.GAUSSIAN, 0, 0, 1, 0, 0.01, Filler.VarianceNorm.FAN_IN, -1),
                parse("{\"type\": \"gaussian\", \"std\": 0.01}"));
        assertEquals(new Filler(Filler.Type.XAVIER, 0, 0, 1, 0, 1, Filler.VarianceNorm.AVERAGE, -1),
                parse("{\"type\": \"XAVIER\", \"variance_norm\": \"average\"}"));
        Json layer = Json.parse("{\"name\": \"ip\"}", "test");
        assertSame(Filler.ZERO, Filler.parse(layer, "bias_filler", Filler.ZERO));
    }

    // ---- config errors ---------------------------------------------------------------------------

    @Test
    void uniformMaxBelowMin() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> parse("{\"type\": \"uniform\", \"min\": 1, \"max\": 0.5}"));
        assertEquals("layers[0].weight_filler.max: must be >= min (1.0), got 0.5", e.getMessage());
    }

    @Test
    void negativeStd() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("{\"type\": \"gaussian\", \"std\": -1}"));
        assertEquals("layers[0].weight_filler.std: must be >= 0, got -1.0", e.getMessage());
    }

    @Test
    void unknownField() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("{\"type\": \"gaussian\", \"sdt\": 0.1}"));
        assertEquals("layers[0].weight_filler.sdt: unknown field", e.getMessage());
    }

    @Test
    void unknownType() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("{\"type\": \"lanczos\"}"));
        assertEquals("layers[0].weight_filler.type: expected one of [CONSTANT, UNIFORM, GAUSSIAN, XAVIER, MSRA,"
                + " POSITIVE_UNITBALL, BILINEAR], got \"lanczos\"", e.getMessage());
    }

    @Test
    void unknownVarianceNorm() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> parse("{\"type\": \"xavier\", \"variance_norm\": \"fan\"}"));
        assertEquals("layers[0].weight_filler.variance_norm: expected one of [FAN_IN, FAN_OUT, AVERAGE], got \"fan\"",
                e.getMessage());
    }

    @Test
    void fillerThatIsNotAnObject() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("\"xavier\""));
        assertEquals("layers[0].weight_filler: expected an object, got string \"xavier\"", e.getMessage());
    }

    @Test
    void xavierNeedsANonEmptyBlob() {
        Filler f = parse("{\"type\": \"xavier\"}");
        ConfigException e = assertThrows(ConfigException.class, () -> f.fill(new Tensor(0, 3), new SplittableRandom(1)));
        assertEquals("xavier filler needs a non-empty blob, got Tensor[0,3]", e.getMessage());
    }

    // ---- positive_unitball, bilinear, sparse gaussian ----------------------------------------------

    @Test
    void positiveUnitballRowsArePositiveAndSumToOne() {
        float[] x = filled(parse("{\"type\": \"positive_unitball\"}"), 9, 4, 2, 3); // 4 rows of 6
        for (int r = 0; r < 4; r++) {
            double sum = 0;
            for (int j = 0; j < 6; j++) {
                assertTrue(x[r * 6 + j] >= 0, "row " + r);
                sum += x[r * 6 + j];
            }
            assertEquals(1, sum, 1e-6, "row " + r);
        }
        // The normalized rows are U(0,1) / sum, not all equal.
        assertFalse(x[0] == x[1] && x[1] == x[2]);
    }

    @Test
    void bilinearIsCaffesKernel() {
        // k = 4: f = 2, c = 3/4; 1 - |x/2 - 3/4| for x = 0..3 is [0.25, 0.75, 0.75, 0.25].
        float[] r4 = {0.25f, 0.75f, 0.75f, 0.25f};
        float[] x = filled(parse("{\"type\": \"bilinear\"}"), 1, 2, 1, 4, 4);
        for (int slice = 0; slice < 2; slice++) {
            for (int y = 0; y < 4; y++) {
                for (int i = 0; i < 4; i++) {
                    assertEquals(r4[y] * r4[i], x[slice * 16 + y * 4 + i], 1e-7, "slice " + slice + " (" + y + "," + i + ")");
                }
            }
        }
        // k = 3: f = 2, c = 1/2: [0.5, 1, 0.5].
        float[] r3 = {0.5f, 1f, 0.5f};
        x = filled(parse("{\"type\": \"bilinear\"}"), 1, 1, 1, 3, 3);
        for (int y = 0; y < 3; y++) {
            for (int i = 0; i < 3; i++) {
                assertEquals(r3[y] * r3[i], x[y * 3 + i], 1e-7);
            }
        }
    }

    @Test
    void bilinearNeedsASquare4dKernel() {
        Filler f = parse("{\"type\": \"bilinear\"}");
        ConfigException e = assertThrows(ConfigException.class, () -> f.fill(new Tensor(1, 1, 3, 4), new SplittableRandom(1)));
        assertEquals("bilinear filler needs a 4-d blob (out, in, k, k) with a square kernel, got Tensor[1,1,3,4]",
                e.getMessage());
        assertThrows(ConfigException.class, () -> f.fill(new Tensor(3, 3), new SplittableRandom(1)));
    }

    @Test
    void sparseGaussianKeepsSparseOverNumOutputs() {
        // (20, 500): p = 5 / 20 = 0.25 of 10000 values kept; standard error sqrt(.25 .75 / 1e4) = 0.0043.
        float[] x = filled(parse("{\"type\": \"gaussian\", \"std\": 1, \"sparse\": 5}"), 3, 20, 500);
        int kept = 0;
        for (float v : x) {
            kept += v != 0 ? 1 : 0;
        }
        assertEquals(0.25, kept / 10000.0, 5 * 0.0043);
        assertArrayEquals(new float[40], filled(parse("{\"type\": \"gaussian\", \"sparse\": 0}"), 3, 4, 10), 0f,
                "sparse 0 keeps nothing");
        float[] all = filled(parse("{\"type\": \"gaussian\", \"sparse\": 4}"), 3, 4, 10);
        assertArrayEquals(filled(parse("{\"type\": \"gaussian\"}"), 3, 4, 10), all, 0f,
                "sparse = num_outputs keeps every value");
    }

    @Test
    void badSparseValues() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("{\"type\": \"gaussian\", \"sparse\": -2}"));
        assertEquals("layers[0].weight_filler.sparse: must be >= -1 (-1: off), got -2", e.getMessage());
        e = assertThrows(ConfigException.class, () -> parse("{\"type\": \"xavier\", \"sparse\": 3}"));
        assertEquals("layers[0].weight_filler.sparse: only the gaussian filler supports sparse, got 3 for xavier",
                e.getMessage());
        Filler f = parse("{\"type\": \"gaussian\", \"sparse\": 5}");
        e = assertThrows(ConfigException.class, () -> f.fill(new Tensor(4, 2), new SplittableRandom(1)));
        assertTrue(e.getMessage().startsWith("gaussian filler: sparse 5 exceeds num_outputs 4"), e.getMessage());
    }
}
