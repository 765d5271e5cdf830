package org.cortado.engine.solver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.SequencedMap;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.cortado.engine.ConfigException;
import org.cortado.engine.WeightsException;
import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The update rule on 2-element params whose expected values are worked out by hand in the comments
 * (so an error in the solver's formula cannot hide in the test's), and a cross-check against
 * PyTorch's SGD, which equals Caffe's at a fixed learning rate.
 */
class SolverTest {
    private static final float TOL = 1e-6f;

    /** Gradients of the 3-step examples. */
    private static final float[][] G = {{0.5f, -1f}, {0.25f, 0.5f}, {-1f, 2f}};

    static Solver solver(String fields) {
        return Solver.create(Json.parse("{\"solver\": {" + fields + "}}", "test").object("solver"));
    }

    static Blob blob(String name, float... values) {
        Blob b = new Blob(name, values.length);
        System.arraycopy(values, 0, b.x(), 0, values.length);
        return b;
    }

    static Param param(Blob b) {
        return new Param(b.name(), b, 1f, 1f);
    }

    static void setDiff(Blob b, float... g) {
        System.arraycopy(g, 0, b.dx(), 0, g.length);
    }

    @Test
    void aLiveRateChangeScalesTheScheduleFromThatUpdateOn() {
        Solver s = solver("\"type\": \"SGD\", \"base_lr\": 0.1, \"lr_policy\": \"step\", \"gamma\": 0.5, \"stepsize\": 10");
        assertEquals(0.1, s.rate(3), 1e-12);
        s.setRate(0.02, 5);
        assertEquals(0.02, s.rate(5), 1e-12, "the next update uses the new rate");
        assertEquals(0.01, s.rate(10), 1e-12, "and the schedule keeps stepping from it");
        assertEquals(0.2, s.rateScale(), 1e-12);
        Blob w = new Blob("w", 1);
        w.x()[0] = 1;
        w.dx()[0] = 1;
        s.step(List.of(new Param("w", w, 1, 1)), 5);
        assertEquals(0.02, s.lastRate(), 1e-12);
        assertEquals(1 - 0.02f, w.x()[0], 1e-7f);
        assertThrows(IllegalArgumentException.class, () -> s.setRate(-1, 6));
        assertThrows(IllegalArgumentException.class, () -> s.setRate(Double.NaN, 6));
        assertEquals(0.2, s.rateScale(), 1e-12, "a refused change changes nothing");
    }

    @Test
    void sgdWithMomentumThreeSteps() {
        Solver s = solver("\"base_lr\": 0.1, \"momentum\": 0.9");
        Blob w = blob("w", 1f, -2f);
        float[][] expected = {
            // v = 0.1 * g1 = [0.05, -0.1]
            {0.95f, -1.9f},
            // v = 0.9 * [0.05, -0.1] + 0.1 * [0.25, 0.5] = [0.07, -0.04]
            {0.88f, -1.86f},
            // v = 0.9 * [0.07, -0.04] + 0.1 * [-1, 2] = [-0.037, 0.164]
            {0.917f, -2.024f},
        };
        for (int t = 0; t < 3; t++) {
            setDiff(w, G[t]);
            s.step(List.of(param(w)), t);
            assertArrayEquals(expected[t], w.x(), TOL, "after step " + (t + 1));
        }
        assertEquals(0.1, s.lastRate(), 1e-12);
        assertArrayEquals(new float[] {-0.037f, 0.164f}, s.state().get("w").toArray(), TOL);
    }

    @Test
    void nesterovStepsBackThenOverSteps() {
        Solver s = solver("\"type\": \"Nesterov\", \"base_lr\": 0.1, \"momentum\": 0.9");
        Blob w = blob("w", 1f, -2f);
        float[][] expected = {
            // v = [0.05, -0.1]; u = 1.9 v = [0.095, -0.19]
            {0.905f, -1.81f},
            // v = [0.07, -0.04]; u = 1.9 v - 0.9 [0.05, -0.1] = [0.088, 0.014]
            {0.817f, -1.824f},
            // v = [-0.037, 0.164]; u = 1.9 v - 0.9 [0.07, -0.04] = [-0.1333, 0.3476]
            {0.9503f, -2.1716f},
        };
        for (int t = 0; t < 3; t++) {
            setDiff(w, G[t]);
            s.step(List.of(param(w)), t);
            assertArrayEquals(expected[t], w.x(), TOL, "after step " + (t + 1));
        }
    }

    @Test
    void l2DecayScaledByDecayMult() {
        Solver s = solver("\"base_lr\": 0.1, \"weight_decay\": 0.01");
        Blob w = blob("w", 1f, -2f);
        Blob noDecay = blob("b", 1f, -2f);
        setDiff(w, 0.5f, 0.5f);
        setDiff(noDecay, 0.5f, 0.5f);
        s.step(List.of(new Param("w", w, 1f, 2f), new Param("b", noDecay, 1f, 0f)), 0);
        // g = [0.5, 0.5] + 0.01 * 2 * [1, -2] = [0.52, 0.46]; w -= 0.1 g
        assertArrayEquals(new float[] {0.948f, -2.046f}, w.x(), TOL);
        assertArrayEquals(new float[] {0.95f, -2.05f}, noDecay.x(), TOL);
    }

    @Test
    void l1DecayUsesTheSignOfTheWeight() {
        Solver s = solver("\"base_lr\": 0.1, \"weight_decay\": 0.01, \"regularization_type\": \"L1\"");
        Blob w = blob("w", 1f, -2f, 0f);
        setDiff(w, 0.5f, 0.5f, 0.5f);
        s.step(List.of(new Param("w", w, 1f, 2f)), 0);
        // g = [0.5, 0.5, 0.5] + 0.02 * sign([1, -2, 0]) = [0.52, 0.48, 0.5]
        assertArrayEquals(new float[] {0.948f, -2.048f, -0.05f}, w.x(), TOL);
    }

    @Test
    void lrMultScalesTheRateAndZeroFreezes() {
        Solver s = solver("\"base_lr\": 0.1, \"momentum\": 0.9, \"weight_decay\": 0.1");
        Blob fast = blob("fast", 1f, -2f);
        Blob frozen = blob("frozen", 1f, -2f);
        setDiff(fast, 0.5f, -1f);
        setDiff(frozen, 0.5f, -1f);
        s.step(List.of(new Param("fast", fast, 2f, 0f), new Param("frozen", frozen, 0f, 1f)), 0);
        // a = 0.1 * 2: w -= 0.2 g
        assertArrayEquals(new float[] {0.9f, -1.8f}, fast.x(), TOL);
        assertArrayEquals(new float[] {1f, -2f}, frozen.x(), 0f);
        assertArrayEquals(new float[] {0f, 0f}, frozen.dx(), 0f, "a frozen param's diff is cleared too");
    }

    @Test
    void clipGradientsScalesByTheGlobalNorm() {
        Solver s = solver("\"base_lr\": 1, \"clip_gradients\": 1");
        Blob a = blob("a", 0f);
        Blob b = blob("b", 0f, 0f);
        setDiff(a, 3f);
        setDiff(b, 4f, 0f);
        s.step(List.of(param(a), param(b)), 0);
        // norm 5 > 1: g * 1/5
        assertArrayEquals(new float[] {-0.6f}, a.x(), TOL);
        assertArrayEquals(new float[] {-0.8f, 0f}, b.x(), TOL);

        // A norm below the threshold is left alone.
        setDiff(a, 0.3f);
        setDiff(b, 0.4f, 0f);
        s.step(List.of(param(a), param(b)), 1);
        assertArrayEquals(new float[] {-0.9f}, a.x(), TOL);
        assertArrayEquals(new float[] {-1.2f, 0f}, b.x(), TOL);
    }

    @Test
    void clipGradientsIgnoresFrozenParams() {
        Solver s = solver("\"base_lr\": 1, \"clip_gradients\": 1");
        Blob a = blob("a", 0f);
        Blob frozen = blob("frozen", 0f);
        setDiff(a, 0.5f);
        setDiff(frozen, 100f); // Caffe computes no gradient for lr_mult 0, so this must not count
        s.step(List.of(param(a), new Param("frozen", frozen, 0f, 1f)), 0);
        assertArrayEquals(new float[] {-0.5f}, a.x(), TOL);
    }

    @Test
    void iterSizeAveragesAfterClipping() {
        Solver s = solver("\"base_lr\": 0.1, \"iter_size\": 4");
        assertEquals(4, s.iterSize());
        Blob w = blob("w", 1f, -2f);
        setDiff(w, 2f, -4f); // accumulated over 4 passes: mean [0.5, -1]
        s.step(List.of(param(w)), 0);
        assertArrayEquals(new float[] {0.95f, -1.9f}, w.x(), TOL);

        // Caffe clips the accumulated sum, then divides: [3, 4] -> [0.6, 0.8] -> [0.3, 0.4].
        // (Dividing first would give [1.5, 2] -> norm 2.5 -> [0.6, 0.8].)
        Solver clipped = solver("\"base_lr\": 1, \"iter_size\": 2, \"clip_gradients\": 1");
        Blob v = blob("v", 0f, 0f);
        setDiff(v, 3f, 4f);
        clipped.step(List.of(param(v)), 0);
        assertArrayEquals(new float[] {-0.3f, -0.4f}, v.x(), TOL);
    }

    @Test
    void diffsAreClearedAndOnlyCountElementsTouched() {
        Solver s = solver("\"base_lr\": 0.1, \"momentum\": 0.9, \"weight_decay\": 0.1");
        Blob w = new Blob("w", 4);
        w.reshape(2); // storage keeps 4 floats; elements 2 and 3 are not part of the blob
        float[] data = {1f, -2f, 7f, 7f};
        float[] diff = {0.5f, -1f, 9f, 9f};
        System.arraycopy(data, 0, w.x(), 0, 4);
        System.arraycopy(diff, 0, w.dx(), 0, 4);
        s.step(List.of(param(w)), 0);
        assertArrayEquals(new float[] {0f, 0f, 9f, 9f}, w.dx(), 0f);
        assertEquals(7f, w.x()[2]);
        assertEquals(7f, w.x()[3]);
        // g = [0.5, -1] + 0.1 * [1, -2] = [0.6, -1.2]; w -= 0.1 g
        assertArrayEquals(new float[] {0.94f, -1.88f}, new float[] {w.x()[0], w.x()[1]}, TOL);
    }

    @Test
    void sharedParamIsUpdatedOnce() {
        Solver s = solver("\"base_lr\": 0.1");
        Blob w = blob("w", 1f, -2f);
        setDiff(w, 0.5f, -1f); // the two sharing layers have already summed into the one diff
        s.step(List.of(new Param("ip1/0", w, 1f, 1f), new Param("ip2/0", w, 1f, 1f)), 0);
        assertArrayEquals(new float[] {0.95f, -1.9f}, w.x(), TOL);
        assertEquals(List.of("ip1/0"), List.copyOf(s.state().keySet()));
    }

    @Test
    void restoredStateReproducesTheNextStep() {
        String config = "\"base_lr\": 0.1, \"momentum\": 0.9";
        Solver original = solver(config);
        Blob w = blob("w", 1f, -2f);
        for (int t = 0; t < 2; t++) {
            setDiff(w, G[t]);
            original.step(List.of(param(w)), t);
        }
        SequencedMap<String, Tensor> saved = original.state();
        float[] savedWeights = w.x().clone();
        setDiff(w, G[2]);
        original.step(List.of(param(w)), 2);
        float[] next = w.x().clone();

        // Restored before the first step (the usual resume): kept and applied at that step.
        Solver resumed = solver(config);
        resumed.restore(saved);
        assertArrayEquals(saved.get("w").toArray(), resumed.state().get("w").toArray(), 0f);
        Blob w2 = blob("w", savedWeights);
        setDiff(w2, G[2]);
        resumed.step(List.of(param(w2)), 2);
        assertArrayEquals(next, w2.x(), 0f);

        // Restored after a step: replaces the live history.
        Solver later = solver(config);
        Blob w3 = blob("w", 5f, 5f);
        later.step(List.of(param(w3)), 0);
        later.restore(saved);
        System.arraycopy(savedWeights, 0, w3.x(), 0, 2);
        setDiff(w3, G[2]);
        later.step(List.of(param(w3)), 2);
        assertArrayEquals(next, w3.x(), 0f);

        // Without the history the step differs, so the comparisons above can fail.
        Solver fresh = solver(config);
        Blob w4 = blob("w", savedWeights);
        setDiff(w4, G[2]);
        fresh.step(List.of(param(w4)), 2);
        assertNotEquals(next[0], w4.x()[0]);
    }

    @Test
    void stateIsACopy() {
        Solver s = solver("\"base_lr\": 0.1, \"momentum\": 0.9");
        Blob w = blob("w", 1f, -2f);
        setDiff(w, G[0]);
        s.step(List.of(param(w)), 0);
        s.state().get("w").fill(100f);
        assertArrayEquals(new float[] {0.05f, -0.1f}, s.state().get("w").toArray(), TOL);
    }

    @Test
    void restoreNamesTheMismatchedParam() {
        Solver s = solver("\"base_lr\": 0.1, \"momentum\": 0.9");
        Blob w = blob("conv1/0", 1f, -2f);
        s.step(List.of(param(w)), 0);

        SequencedMap<String, Tensor> missing = new LinkedHashMap<>();
        missing.put("conv2/0", new Tensor(2));
        WeightsException e = assertThrows(WeightsException.class, () -> s.restore(missing));
        assertEquals("solver state has no SGD history 'conv1/0' for param 'conv1/0' [2]", e.getMessage());

        SequencedMap<String, Tensor> misshapen = new LinkedHashMap<>();
        misshapen.put("conv1/0", new Tensor(1, 2));
        e = assertThrows(WeightsException.class, () -> s.restore(misshapen));
        assertEquals("solver state: history 'conv1/0' has shape [1,2], the param 'conv1/0' has [2]",
                e.getMessage());

        SequencedMap<String, Tensor> extra = new LinkedHashMap<>();
        extra.put("conv1/0", new Tensor(2));
        extra.put("fc9/1", new Tensor(3));
        e = assertThrows(WeightsException.class, () -> s.restore(extra));
        assertEquals("solver state has history 'fc9/1', which is not a SGD history of a learnable param of this net",
                e.getMessage());

        // A restore before the first step is checked at that step.
        Solver early = solver("\"base_lr\": 0.1");
        early.restore(misshapen);
        Blob w2 = blob("conv1/0", 1f, -2f);
        e = assertThrows(WeightsException.class, () -> early.step(List.of(param(w2)), 0));
        assertTrue(e.getMessage().contains("'conv1/0'"), e.getMessage());
    }

    // ---- config ------------------------------------------------------------------------------------

    @Test
    void defaultsAreCaffes() {
        SolverConfig c = solver("\"base_lr\": 0.01").config();
        assertEquals(SolverConfig.Type.SGD, c.type());
        assertEquals(0f, c.momentum());
        assertEquals(0f, c.weightDecay());
        assertEquals(SolverConfig.Regularization.L2, c.regularization());
        assertEquals(-1f, c.clipGradients());
        assertEquals(1, c.iterSize());
        assertEquals(LrPolicy.Policy.FIXED, c.lrPolicy().policy());
        assertEquals(Double.NaN, solver("\"base_lr\": 0.01").lastRate());
    }

    @Test
    void solverTypeIsCaseInsensitive() {
        assertEquals(SolverConfig.Type.NESTEROV, solver("\"type\": \"nesterov\", \"base_lr\": 1").config().type());
        assertEquals(SolverConfig.Type.ADAGRAD, solver("\"type\": \"ADAGRAD\", \"base_lr\": 1").config().type());
    }

    @Test
    void badValuesAreAllReportedWithTheirPaths() {
        ConfigException e = assertThrows(ConfigException.class, () -> solver(
                "\"base_lr\": 0.01, \"lr_policy\": \"step\", \"gamma\": 0.1, \"momentum\": -0.9, \"iter_size\": 0,"
                        + " \"regularization_type\": \"L3\""));
        assertEquals(List.of("solver.stepsize: required by lr_policy \"step\"",
                "solver.regularization_type: expected one of [L2, L1], got \"L3\"",
                "solver.momentum: must be >= 0, got -0.9",
                "solver.iter_size: must be >= 1, got 0"), e.problems());
    }

    @Test
    void keysAreExactlyWhatTheSolverReads() {
        // Every key in KEYS, plus one of the trainer's: after parsing, only the trainer's is unread.
        String fields = "\"type\": \"SGD\", \"base_lr\": 0.1, \"lr_policy\": \"multistep\", \"gamma\": 0.1,"
                + " \"power\": 1, \"stepsize\": 10, \"stepvalue\": [5], \"max_iter\": 100, \"min_lr\": 0,"
                + " \"warmup_iter\": 0, \"warmup_start_factor\": 0.5, \"momentum\": 0.9, \"weight_decay\": 0,"
                + " \"regularization_type\": \"L2\", \"clip_gradients\": -1, \"iter_size\": 1, \"momentum2\": 0.999,"
                + " \"rms_decay\": 0.99, \"delta\": 1e-8, \"display\": 100";
        Json j = Json.parse("{\"solver\": {" + fields + "}}", "test").object("solver");
        Solver.create(j);
        ConfigException e = assertThrows(ConfigException.class, j::rejectUnknown);
        assertEquals("solver.display: unknown field", e.getMessage());

        Set<String> given = new HashSet<>();
        j.node().fieldNames().forEachRemaining(given::add);
        given.remove("display");
        assertEquals(given, Solver.KEYS);
    }

    // ---- PyTorch cross-check --------------------------------------------------------------------------

    private static final Path PYTHON = Path.of("/usr/bin/python3");

    /**
     * torch.optim.SGD keeps {@code buf = m buf + (g + wd w)} and steps {@code w -= lr buf}; Caffe keeps
     * {@code v = m v + lr (g + wd w)} and steps {@code w -= v}. At a fixed rate {@code v = lr buf}, so
     * 5 steps must agree to float rounding. lr_mult and decay_mult become per-group lr and
     * weight_decay.
     */
    @Test
    void matchesTorchSgdAtAFixedRate() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(PYTHON), "skipped: " + PYTHON + " is not available for the cross-check");

        SplittableRandom rng = new SplittableRandom(20240611);
        int[] sizes = {12, 5};
        float[] lrMult = {1f, 2f};
        float[] decayMult = {1f, 0f};
        int steps = 5;
        Blob[] blobs = new Blob[sizes.length];
        for (int p = 0; p < sizes.length; p++) {
            blobs[p] = new Blob("p" + p, sizes[p]);
            for (int i = 0; i < sizes[p]; i++) {
                blobs[p].x()[i] = (float) rng.nextGaussian();
            }
        }
        float[][][] grads = new float[steps][sizes.length][];
        for (int t = 0; t < steps; t++) {
            for (int p = 0; p < sizes.length; p++) {
                grads[t][p] = new float[sizes[p]];
                for (int i = 0; i < sizes[p]; i++) {
                    grads[t][p][i] = (float) rng.nextGaussian();
                }
            }
        }

        ObjectMapper mapper = new ObjectMapper();
        ObjectNode in = mapper.createObjectNode();
        in.put("lr", 0.01).put("momentum", 0.9).put("weight_decay", 5e-4);
        ArrayNode params = in.putArray("params");
        for (Blob b : blobs) {
            ArrayNode a = params.addArray();
            for (int i = 0; i < b.count(); i++) {
                a.add(b.x()[i]);
            }
        }
        ArrayNode lrs = in.putArray("lr_mult");
        ArrayNode decays = in.putArray("decay_mult");
        for (int p = 0; p < sizes.length; p++) {
            lrs.add(lrMult[p]);
            decays.add(decayMult[p]);
        }
        ArrayNode gs = in.putArray("grads");
        for (float[][] step : grads) {
            ArrayNode s = gs.addArray();
            for (float[] g : step) {
                ArrayNode a = s.addArray();
                for (float v : g) {
                    a.add(v);
                }
            }
        }
        String script = """
                import json, sys
                try:
                    import torch
                except ImportError:
                    sys.exit(77)
                cfg = json.load(sys.stdin)
                ps = [torch.tensor(p, dtype=torch.float32, requires_grad=True) for p in cfg["params"]]
                groups = [{"params": [p], "lr": cfg["lr"] * m, "weight_decay": cfg["weight_decay"] * d}
                          for p, m, d in zip(ps, cfg["lr_mult"], cfg["decay_mult"])]
                opt = torch.optim.SGD(groups, lr=cfg["lr"], momentum=cfg["momentum"])
                for grads in cfg["grads"]:
                    for p, g in zip(ps, grads):
                        p.grad = torch.tensor(g, dtype=torch.float32)
                    opt.step()
                print(json.dumps([[float(x) for x in p.detach()] for p in ps]))
                """;
        Result r = run(List.of(PYTHON.toString(), "-c", script), mapper.writeValueAsString(in));
        Assumptions.assumeTrue(r.exitCode != 77, "skipped: " + PYTHON + " has no torch for the cross-check");
        assertEquals(0, r.exitCode, "torch script failed:\n" + r.output + r.errors);
        JsonNode torch = mapper.readTree(r.output);

        Solver s = solver("\"base_lr\": 0.01, \"momentum\": 0.9, \"weight_decay\": 5e-4");
        List<Param> list = List.of(new Param("p0", blobs[0], lrMult[0], decayMult[0]),
                new Param("p1", blobs[1], lrMult[1], decayMult[1]));
        for (int t = 0; t < steps; t++) {
            for (int p = 0; p < sizes.length; p++) {
                setDiff(blobs[p], grads[t][p]);
            }
            s.step(list, t);
        }
        for (int p = 0; p < sizes.length; p++) {
            for (int i = 0; i < sizes[p]; i++) {
                double expected = torch.get(p).get(i).asDouble();
                double actual = blobs[p].x()[i];
                // Relative 1e-6; the largest seen with this seed is 1.1e-7 (one float ulp).
                assertEquals(expected, actual, 1e-6 * Math.abs(expected), "param " + p + "[" + i + "]");
            }
        }
    }

    private record Result(int exitCode, String output, String errors) {}

    /** Runs {@code command} with {@code stdin} as its input; stdout and stderr are kept apart. */
    private static Result run(List<String> command, String stdin) {
        try {
            Path err = Files.createTempFile("solver-test", ".stderr");
            try {
                Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
                try (OutputStream os = p.getOutputStream()) {
                    os.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
                String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return new Result(-1, output, "timed out");
                }
                return new Result(p.exitValue(), output, Files.readString(err));
            } finally {
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            return new Result(-1, "", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "", e.toString());
        }
    }
}
