package org.cortado.engine.solver;

import static org.cortado.engine.solver.SolverTest.blob;
import static org.cortado.engine.solver.SolverTest.param;
import static org.cortado.engine.solver.SolverTest.setDiff;
import static org.cortado.engine.solver.SolverTest.solver;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.SplittableRandom;
import org.cortado.engine.ConfigException;
import org.cortado.engine.WeightsException;
import org.cortado.engine.io.Npz;
import org.cortado.engine.io.SolverStateFile;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * AdaGrad, RMSProp, AdaDelta, Adam and AdamW: two steps on 2-element params worked out in the
 * comments, 5 steps against PyTorch (and, for Adam's {@code delta}, Caffe's formula in numpy) from the
 * committed fixture {@code fixtures/solver/adaptive_solvers.npz} (written by
 * {@code make_adaptive_fixtures.py} beside it), and an exact resume through a {@code .solverstate.h5}.
 */
class SolverAdaptiveTest {
    private static final float TOL = 1e-6f;
    private static final float[][] G = {{0.5f, -1f}, {0.25f, 0.5f}};
    private static final Path FIXTURE = Path.of("src/test/resources/fixtures/solver/adaptive_solvers.npz");

    private static void twoSteps(String config, float[][] expected) {
        Solver s = solver(config);
        Blob w = blob("w", 1f, -2f);
        for (int t = 0; t < expected.length; t++) {
            setDiff(w, G[t]);
            s.step(List.of(param(w)), t);
            assertArrayEquals(expected[t], w.x(), TOL, "after step " + (t + 1));
        }
    }

    @Test
    void adaGrad() {
        twoSteps("\"type\": \"AdaGrad\", \"base_lr\": 0.1", new float[][] {
            // h = [0.25, 1]; u = 0.1 * g / sqrt(h) = [0.1, -0.1]
            {0.9f, -1.9f},
            // h = [0.3125, 1.25]; u = 0.1 * [0.25 / 0.559017, 0.5 / 1.118034] = [0.0447214, 0.0447214]
            {0.8552786f, -1.9447214f},
        });
    }

    @Test
    void rmsProp() {
        twoSteps("\"type\": \"RMSProp\", \"base_lr\": 0.01, \"rms_decay\": 0.9", new float[][] {
            // h = 0.1 * [0.25, 1] = [0.025, 0.1]; g / sqrt(h) = [3.162278, -3.162278]
            {0.9683772f, -1.9683772f},
            // h = 0.9 h + 0.1 [0.0625, 0.25] = [0.02875, 0.115]; g / sqrt(h) = [1.474420, 1.474420]
            {0.9536330f, -1.9831214f},
        });
    }

    @Test
    void adaDelta() {
        twoSteps("\"type\": \"AdaDelta\", \"base_lr\": 1, \"momentum\": 0.95, \"delta\": 1e-6", new float[][] {
            // h = 0.05 g^2 = [0.0125, 0.05]; d = g sqrt((0 + 1e-6) / (h + 1e-6)) = [0.00447196, -0.00447209]
            // h2 = 0.05 d^2
            {0.99552804f, -1.99552791f},
            // h = [0.0150, 0.0600]; d = g sqrt((h2 + 1e-6) / (h + 1e-6)) = [0.0028866, 0.0028867]
            {0.99264145f, -1.99841462f},
        });
    }

    @Test
    void adamFirstStepIsTheRateTimesTheSign() {
        // m = 0.1 g, v = 0.001 g^2, correction sqrt(0.001) / 0.1: u = 0.01 * g / |g| (delta 0)
        twoSteps("\"type\": \"Adam\", \"base_lr\": 0.01, \"momentum\": 0.9, \"delta\": 0",
                new float[][] {{0.99f, -1.99f}});
        // AdamW: first w = w - 0.01 * 0.1 * w = [0.999, -1.998], then the same step; g is not decayed.
        twoSteps("\"type\": \"AdamW\", \"base_lr\": 0.01, \"momentum\": 0.9, \"delta\": 0, \"weight_decay\": 0.1",
                new float[][] {{0.989f, -1.988f}});
        // Adam's L2 decay enters g: g = [0.5, -1] + 0.1 [1, -2], still the sign of g.
        twoSteps("\"type\": \"Adam\", \"base_lr\": 0.01, \"momentum\": 0.9, \"delta\": 0, \"weight_decay\": 0.1",
                new float[][] {{0.99f, -1.99f}});
    }

    @Test
    void adamBiasCorrectionFollowsTheIteration() {
        // Caffe's t = iter + 1: a first update at iter 9 uses sqrt(1 - 0.999^10) / (1 - 0.9^10).
        Solver s = solver("\"type\": \"Adam\", \"base_lr\": 0.01, \"momentum\": 0.9, \"delta\": 0");
        Blob w = blob("w", 1f, -2f);
        setDiff(w, G[0]);
        s.step(List.of(param(w)), 9);
        double c = Math.sqrt(1 - Math.pow(0.999, 10)) / (1 - Math.pow(0.9, 10));
        // m / sqrt(v) = 0.1 g / (sqrt(0.001) |g|)
        double u = 0.01 * c * 0.1 / Math.sqrt(0.001);
        assertArrayEquals(new float[] {(float) (1 - u), (float) (-2 + u)}, w.x(), TOL);
    }

    @Test
    void lrMultAndClipAndIterSizeApplyToAdaptiveTypes() {
        // AdaGrad's first step is a * sign(g) whatever the scale of g, so clipping and iter_size can
        // only show through the history: clip [3, 4] to [0.6, 0.8], halve to [0.3, 0.4]; h = g^2.
        Solver s = solver("\"type\": \"AdaGrad\", \"base_lr\": 0.1, \"clip_gradients\": 1, \"iter_size\": 2,"
                + " \"delta\": 0");
        Blob w = blob("w", 0f, 0f);
        setDiff(w, 3f, 4f);
        s.step(List.of(new Param("w", w, 2f, 1f)), 0);
        assertArrayEquals(new float[] {-0.2f, -0.2f}, w.x(), TOL, "a = 0.1 * lr_mult 2");
        assertArrayEquals(new float[] {0.09f, 0.16f}, s.state().get("w").toArray(), TOL);
    }

    // ---- PyTorch / Caffe-formula cross-check ---------------------------------------------------------

    /**
     * Runs 5 steps of {@code config} (with weight_decay 0.01) on the fixture's params, lr_mult
     * [1, 2], decay_mult [1, 0], and compares with {@code NAME_p0}, {@code NAME_p1}.
     */
    private static void matchesFixture(String config, String name, double relTol) {
        Map<String, Tensor> fx = Npz.read(FIXTURE);
        Blob[] blobs = new Blob[2];
        List<Param> params = new ArrayList<>();
        float[] lrMult = {1f, 2f};
        float[] decayMult = {1f, 0f};
        for (int p = 0; p < 2; p++) {
            Tensor init = fx.get("p" + p);
            blobs[p] = new Blob("p" + p, init.shape());
            System.arraycopy(init.toArray(), 0, blobs[p].x(), 0, init.count());
            params.add(new Param("p" + p, blobs[p], lrMult[p], decayMult[p]));
        }
        Solver s = solver(config + ", \"weight_decay\": 0.01");
        for (int t = 0; t < 5; t++) {
            for (int p = 0; p < 2; p++) {
                float[] g = fx.get("g" + p).toArray();
                int n = blobs[p].count();
                System.arraycopy(g, t * n, blobs[p].dx(), 0, n);
            }
            s.step(params, t);
        }
        for (int p = 0; p < 2; p++) {
            float[] expected = fx.get(name + "_p" + p).toArray();
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], blobs[p].x()[i], relTol * Math.max(1, Math.abs(expected[i])),
                        name + " p" + p + "[" + i + "]");
            }
        }
    }

    // Tolerance: float32 here against float32 torch (or float64 numpy) after 5 steps of |u| <= ~0.1 on
    // weights of order 1: relative 1e-5, about 100 float ulps at 1 (rounding of the squares, square roots
    // and divisions differs between the implementations; a wrong formula is off by far more).

    @Test
    void adaGradMatchesTorch() {
        matchesFixture("\"type\": \"AdaGrad\", \"base_lr\": 0.1, \"delta\": 1e-8", "adagrad", 1e-5);
    }

    @Test
    void rmsPropMatchesTorch() {
        matchesFixture("\"type\": \"RMSProp\", \"base_lr\": 0.01, \"rms_decay\": 0.9, \"delta\": 1e-8", "rmsprop", 1e-5);
    }

    @Test
    void adaDeltaMatchesTorch() {
        matchesFixture("\"type\": \"AdaDelta\", \"base_lr\": 1, \"momentum\": 0.95, \"delta\": 1e-6", "adadelta", 1e-5);
    }

    /** torch's eps sits after the bias correction, Caffe's delta before: they coincide at 0. */
    @Test
    void adamMatchesTorchAtZeroDelta() {
        matchesFixture("\"type\": \"Adam\", \"base_lr\": 0.01, \"momentum\": 0.9, \"delta\": 0", "adam_torch", 1e-5);
        matchesFixture("\"type\": \"AdamW\", \"base_lr\": 0.01, \"momentum\": 0.9, \"delta\": 0", "adamw_torch", 1e-5);
    }

    @Test
    void adamMatchesCaffesFormula() {
        matchesFixture("\"type\": \"Adam\", \"base_lr\": 0.01, \"momentum\": 0.9", "adam_caffe", 1e-5);
        matchesFixture("\"type\": \"AdamW\", \"base_lr\": 0.01, \"momentum\": 0.9", "adamw_caffe", 1e-5);
    }

    // ---- state --------------------------------------------------------------------------------------

    /** Caffe's order: the first history of every param, then the second of every param. */
    @Test
    void twoHistoriesPerParamInCaffesOrder() {
        Solver s = solver("\"type\": \"Adam\", \"base_lr\": 0.01, \"momentum\": 0.9");
        Blob a = blob("a", 1f, 2f);
        Blob b = blob("b", 3f);
        setDiff(a, 1f, -1f);
        setDiff(b, 2f);
        s.step(List.of(param(a), param(b)), 0);
        assertEquals(List.of("a", "b", "a#2", "b#2"), List.copyOf(s.state().keySet()));
        assertEquals(List.of("a", "b", "a#2", "b#2"), s.historyNames(List.of("a", "b")));
        assertArrayEquals(new float[] {0.1f, -0.1f}, s.state().get("a").toArray(), TOL, "m = 0.1 g");
        assertArrayEquals(new float[] {0.004f}, s.state().get("b#2").toArray(), TOL, "v = 0.001 g^2");
        assertEquals(List.of("a", "b"), solver("\"type\": \"RMSProp\", \"base_lr\": 1").historyNames(List.of("a", "b")));
    }

    /** N steps straight equal N/2 steps, a .solverstate.h5 written and read back, N/2 more steps. */
    @ParameterizedTest
    @ValueSource(strings = {"\"type\": \"AdaGrad\"", "\"type\": \"RMSProp\"", "\"type\": \"AdaDelta\", \"momentum\": 0.95",
        "\"type\": \"Adam\", \"momentum\": 0.9", "\"type\": \"AdamW\", \"momentum\": 0.9",
        "\"type\": \"Nesterov\", \"momentum\": 0.9"})
    void resumesExactlyThroughASolverStateFile(String type, @TempDir Path dir) {
        String config = type + ", \"base_lr\": 0.01, \"weight_decay\": 0.01, \"lr_policy\": \"step\", \"gamma\": 0.5,"
                + " \"stepsize\": 2";
        int steps = 6;
        SplittableRandom rng = new SplittableRandom(7);
        float[][][] grads = new float[steps][2][];
        for (int t = 0; t < steps; t++) {
            grads[t][0] = gaussian(rng, 4);
            grads[t][1] = gaussian(rng, 3);
        }
        float[] w0 = gaussian(rng, 4);
        float[] w1 = gaussian(rng, 3);

        Blob[] straight = {blob("ip/0", w0.clone()), blob("ip/1", w1.clone())};
        run(solver(config), straight, grads, 0, steps);

        Blob[] first = {blob("ip/0", w0.clone()), blob("ip/1", w1.clone())};
        Solver before = solver(config);
        run(before, first, grads, 0, steps / 2);
        Path file = dir.resolve("run_iter_3.solverstate.h5");
        SolverStateFile.write(file, new SolverStateFile.State(steps / 2, "run_iter_3.caffemodel.h5", 0,
                List.copyOf(before.state().values())));

        SolverStateFile.State read = SolverStateFile.read(file);
        Solver after = solver(config);
        List<String> keys = after.historyNames(List.of("ip/0", "ip/1"));
        assertEquals(keys.size(), read.history().size());
        SequencedMap<String, Tensor> history = new LinkedHashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            history.put(keys.get(i), read.history().get(i));
        }
        after.restore(history);
        Blob[] second = {blob("ip/0", first[0].x().clone()), blob("ip/1", first[1].x().clone())};
        run(after, second, grads, (int) read.iter(), steps);

        for (int p = 0; p < 2; p++) {
            assertArrayEquals(straight[p].x(), second[p].x(), 0f, "param " + p);
        }
    }

    private static void run(Solver s, Blob[] blobs, float[][][] grads, int from, int to) {
        List<Param> params = List.of(param(blobs[0]), param(blobs[1]));
        for (int t = from; t < to; t++) {
            setDiff(blobs[0], grads[t][0]);
            setDiff(blobs[1], grads[t][1]);
            s.step(params, t);
        }
    }

    private static float[] gaussian(SplittableRandom rng, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rng.nextGaussian();
        }
        return x;
    }

    @Test
    void restoreNamesTheMissingSecondHistory() {
        Solver s = solver("\"type\": \"AdaDelta\", \"base_lr\": 1, \"momentum\": 0.95");
        SequencedMap<String, Tensor> onlyFirst = new LinkedHashMap<>();
        onlyFirst.put("conv1/0", new Tensor(2));
        s.restore(onlyFirst);
        Blob w = blob("conv1/0", 1f, -2f);
        WeightsException e = assertThrows(WeightsException.class, () -> s.step(List.of(param(w)), 0));
        assertEquals("solver state has no AdaDelta history 'conv1/0#2' for param 'conv1/0' [2]", e.getMessage());
    }

    // ---- config -------------------------------------------------------------------------------------

    @Test
    void parsesTheAdaptiveFieldsWithCaffesDefaults() {
        SolverConfig c = solver("\"type\": \"adam\", \"base_lr\": 0.001").config();
        assertEquals(SolverConfig.Type.ADAM, c.type());
        assertEquals(0.999f, c.momentum2());
        assertEquals(0.99f, c.rmsDecay());
        assertEquals(1e-8f, c.delta());
        c = solver("\"type\": \"RMSProp\", \"base_lr\": 0.001, \"rms_decay\": 0.9, \"delta\": 1e-6").config();
        assertEquals(0.9f, c.rmsDecay());
        assertEquals(1e-6f, c.delta());
    }

    @Test
    void unknownTypeListsTheKnownOnes() {
        ConfigException e = assertThrows(ConfigException.class, () -> solver("\"type\": \"Lion\", \"base_lr\": 0.01"));
        assertEquals("solver.type: unknown solver type \"Lion\", expected one of"
                + " [SGD, Nesterov, AdaGrad, RMSProp, AdaDelta, Adam, AdamW]", e.getMessage());
    }

    @Test
    void badAdaptiveValuesAreReportedWithTheirPaths() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> solver("\"type\": \"AdaGrad\", \"base_lr\": 0.01, \"momentum\": 0.9, \"delta\": -1"));
        assertEquals(List.of("solver.momentum: must be 0 for type \"AdaGrad\", got 0.9",
                "solver.delta: must be a finite number >= 0, got -1.0"), e.problems());
        e = assertThrows(ConfigException.class, () -> solver("\"type\": \"Adam\", \"base_lr\": 0.01, \"momentum\": 1,"
                + " \"momentum2\": 1, \"rms_decay\": 1.5"));
        assertEquals(List.of("solver.momentum: must be in [0, 1) for type \"Adam\" (beta1), got 1.0",
                "solver.momentum2: must be in [0, 1), got 1.0", "solver.rms_decay: must be in [0, 1], got 1.5"),
                e.problems());
        e = assertThrows(ConfigException.class,
                () -> solver("\"type\": \"AdamW\", \"base_lr\": 0.01, \"regularization_type\": \"L1\""));
        assertTrue(e.getMessage().startsWith("solver.regularization_type: AdamW decays the weights directly"),
                e.getMessage());
    }
}
