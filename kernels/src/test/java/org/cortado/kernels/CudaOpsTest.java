package org.cortado.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.cortado.engine.ShapeException;
import org.cortado.engine.config.Json;
import org.cortado.engine.layers.Layer;
import org.cortado.engine.layers.MVN;
import org.cortado.engine.layers.Reduction;
import org.cortado.engine.net.Net;
import org.cortado.engine.net.Phase;
import org.cortado.engine.ops.Activations;
import org.cortado.engine.ops.Conv;
import org.cortado.engine.ops.ConvGeom;
import org.cortado.engine.ops.Elementwise;
import org.cortado.engine.ops.Gemm;
import org.cortado.engine.ops.Im2col;
import org.cortado.engine.ops.Parallel;
import org.cortado.engine.ops.Pooling;
import org.cortado.engine.ops.Softmax;
import org.cortado.engine.ops.Updates;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every kernel against the CPU op it names, on fresh random inputs. Outputs that a kernel overwrites are
 * poisoned with NaN first, so an element it forgets fails the comparison. Tolerances: float32 1e-5
 * relative to the largest reference value, TF32 1e-3. Skips without a GPU (see {@link Gpu}).
 */
class CudaOpsTest {
    private static final float F32 = 1e-5f;
    private static final float TF32 = 1e-3f;
    private static CudaDevice device;
    private static CudaOps ops;
    private static Parallel par;
    private final SplittableRandom rng = new SplittableRandom(42);

    @BeforeAll
    static void open() {
        device = Gpu.openOrNull();
        if (device != null) {
            ops = device.call(() -> new CudaOps(device));
            par = new Parallel(2);
        }
    }

    @BeforeEach
    void gpu() {
        Gpu.assumeOpen(device);
    }

    @AfterAll
    static void close() {
        if (device != null) {
            device.close();
        }
        if (par != null) {
            par.close();
        }
    }

    private float[] random(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rng.nextDouble(-1, 1);
        }
        return x;
    }

    /** No NaN (an unwritten element) and every element within {@code tol * max(1, max|expected|)}. */
    static void assertClose(String what, float[] expected, float[] actual, float tol) {
        assertEquals(expected.length, actual.length, what + ": length");
        double scale = 1;
        for (float e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < expected.length; i++) {
            if (Float.isNaN(actual[i]) && !Float.isNaN(expected[i])) {
                fail(what + ": element " + i + " was not written (still NaN), expected " + expected[i]);
            }
            if (Math.abs(expected[i] - actual[i]) > tol * scale) {
                fail(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i] + " (tolerance "
                        + tol * scale + ")");
            }
        }
    }

    private <T> T gpu(java.util.concurrent.Callable<T> work) {
        return device.call(work);
    }

    private float[] run(int outLength, java.util.function.Consumer<DeviceArray> work) {
        return gpu(() -> {
            try (DeviceArray out = device.floats(outLength).poison()) {
                work.accept(out);
                return out.download();
            }
        });
    }

    // ---- GEMM ----

    private void checkGemm(CudaOps.Precision p, boolean ta, boolean tb, int m, int n, int k, float alpha, float beta,
                           int pad, float tol) {
        checkGemm(p, ta, tb, m, n, k, alpha, beta, pad, tol, 3, 5, 7);
    }

    private void checkGemm(CudaOps.Precision p, boolean ta, boolean tb, int m, int n, int k, float alpha, float beta,
                           int pad, float tol, int aOff, int bOff, int cOff) {
        int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
        float[] a = random(aOff + (ta ? k : m) * lda);
        float[] b = random(bOff + (tb ? n : k) * ldb);
        float[] c = random(cOff + m * ldc);
        float[] expected = c.clone();
        Gemm.reference(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, expected, cOff, ldc);
        float[] actual = gpu(() -> {
            try (DeviceArray da = device.upload(a); DeviceArray db = device.upload(b); DeviceArray dc = device.upload(c)) {
                ops.gemm(p, ta, tb, m, n, k, alpha, da, aOff, lda, db, bOff, ldb, beta, dc, cOff, ldc);
                return dc.download();
            }
        });
        assertClose(p + " gemm " + (ta ? "T" : "N") + (tb ? "T" : "N") + " " + m + "x" + n + "x" + k, expected, actual, tol);
    }

    @Test
    void gemmF32MatchesTheReferenceForEveryTransposeAndOddSizes() {
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                checkGemm(CudaOps.Precision.F32, ta, tb, 67, 131, 45, 1f, 0f, 3, F32);
                checkGemm(CudaOps.Precision.F32, ta, tb, 130, 9, 300, 0.5f, 0.75f, 0, F32);
                checkGemm(CudaOps.Precision.F32, ta, tb, 1, 1, 1, 2f, 0f, 0, F32);
                // 64-row tiles (m <= 64): a full tile, and a part tile with k split over blocks
                checkGemm(CudaOps.Precision.F32, ta, tb, 64, 200, 70, 1f, 0.5f, 1, F32);
                checkGemm(CudaOps.Precision.F32, ta, tb, 37, 129, 300, 1f, 0f, 2, F32);
            }
        }
        checkGemm(CudaOps.Precision.F32, false, false, 300, 260, 517, 1f, 1f, 1, F32);
        checkGemm(CudaOps.Precision.F32, false, false, 5, 7, 0, 1f, 0.5f, 0, F32); // k = 0: C = beta * C
        // split k: a small C over a long k, as a convolution's weight gradient
        checkGemm(CudaOps.Precision.F32, false, true, 20, 25, 36_871, 1f, 1f, 0, F32);
        checkGemm(CudaOps.Precision.F32, true, false, 33, 17, 5_000, 0.5f, 0f, 2, F32);
        checkGemm(CudaOps.Precision.TF32, false, true, 20, 25, 36_871, 1f, 1f, 0, 2 * TF32);
    }

    @Test
    void gemmTf32MatchesTheReferenceWithinTf32Rounding() {
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                checkGemm(CudaOps.Precision.TF32, ta, tb, 67, 131, 45, 1f, 0f, 3, TF32);
                checkGemm(CudaOps.Precision.TF32, ta, tb, 257, 130, 200, 0.5f, 0.75f, 0, TF32);
                // 16-byte aligned operands: whole tiles are read a float4 at a time, the last k tile and
                // the tiles past row or column 128 element by element
                checkGemm(CudaOps.Precision.TF32, ta, tb, 256, 128, 40, 1f, 0f, 0, TF32, 4, 8, 12);
                checkGemm(CudaOps.Precision.TF32, ta, tb, 200, 136, 48, 1f, 0.5f, 4, TF32, 0, 4, 0);
            }
        }
    }

    @Test
    void batchedGemmSharesAZeroStrideOperand() {
        int m = 20, n = 50, k = 25, batch = 3;
        float[] a = random(m * k);
        float[] b = random(batch * k * n);
        float[] expected = new float[batch * m * n];
        for (int i = 0; i < batch; i++) {
            Gemm.reference(false, false, m, n, k, 1f, a, 0, k, b, i * k * n, n, 0f, expected, i * m * n, n);
        }
        float[] actual = run(batch * m * n, c -> {
            try (DeviceArray da = device.upload(a); DeviceArray db = device.upload(b)) {
                ops.gemmBatched(CudaOps.Precision.F32, false, false, m, n, k, 1f, da, 0, k, 0, db, 0, n, (long) k * n,
                        0f, c, 0, n, (long) m * n, batch);
            }
        });
        assertClose("batched gemm", expected, actual, F32);
    }

    @Test
    void gemmChecksItsArgumentsBeforeLaunching() {
        ShapeException e = assertThrows(ShapeException.class, () -> gpu(() -> {
            try (DeviceArray a = device.floats(10); DeviceArray b = device.floats(10); DeviceArray c = device.floats(10)) {
                ops.gemm(CudaOps.Precision.F32, false, false, 4, 4, 4, 1f, a, 0, 4, b, 0, 4, 0f, c, 0, 4);
            }
            return null;
        }));
        assertTrue(e.getMessage().startsWith("gemm: A"), e.getMessage());
    }

    // ---- convolution ----

    private void checkConv(int n, ConvGeom g, int outC, int group, boolean bias, CudaOps.Precision p, float tol) {
        float[] x = random(n * g.imageSize());
        float[] w = random(outC * g.colRows() / group);
        float[] b = bias ? random(outC) : null;
        float[] dy = random(n * outC * g.colCols());
        float[] dw0 = random(w.length), db0 = bias ? random(outC) : null;
        float[] y = new float[n * outC * g.colCols()];
        float[] dx = new float[x.length];
        float[] dw = dw0.clone(), db = bias ? db0.clone() : null;
        Conv.Workspace ws = new Conv.Workspace();
        Conv.forward(par, n, g, outC, group, x, w, b, y, ws);
        Conv.backward(par, n, g, outC, group, x, w, dy, dw, db, dx, ws);
        float[][] got = gpu(() -> {
            try (DeviceArray dX = device.upload(x); DeviceArray dW = device.upload(w);
                 DeviceArray dB = bias ? device.upload(b) : null; DeviceArray dY = device.floats(y.length).poison();
                 DeviceArray dDy = device.upload(dy); DeviceArray dDw = device.upload(dw0);
                 DeviceArray dDb = bias ? device.upload(db0) : null; DeviceArray dDx = device.floats(x.length).poison();
                 CudaOps.ConvWorkspace cws = new CudaOps.ConvWorkspace()) {
                ops.convForward(p, n, g, outC, group, dX, dW, dB, dY, cws);
                ops.convBackward(p, n, g, outC, group, dX, dW, dDy, dDw, dDb, dDx, cws);
                return new float[][] {dY.download(), dDx.download(), dDw.download(), bias ? dDb.download() : null};
            }
        });
        String what = "conv " + g + " outC " + outC + " group " + group + " " + p;
        assertClose(what + " y", y, got[0], tol);
        assertClose(what + " dx", dx, got[1], tol);
        assertClose(what + " dw", dw, got[2], tol);
        if (bias) {
            assertClose(what + " db", db, got[3], tol);
        }
    }

    @Test
    void convolutionMatchesTheCpuOpForwardAndBackward() {
        // LeNet's conv1 and conv2
        checkConv(4, new ConvGeom(1, 28, 28, 5, 5, 1, 1, 0, 0, 1, 1), 20, 1, true, CudaOps.Precision.F32, F32);
        checkConv(3, new ConvGeom(20, 12, 12, 5, 5, 1, 1, 0, 0, 1, 1), 50, 1, true, CudaOps.Precision.F32, F32);
        // cifar10_quick's conv1: padded
        checkConv(2, new ConvGeom(3, 32, 32, 5, 5, 1, 1, 2, 2, 1, 1), 32, 1, true, CudaOps.Precision.F32, F32);
        // strided, dilated, grouped, rectangular, no bias
        checkConv(3, new ConvGeom(4, 11, 9, 3, 2, 2, 1, 1, 2, 2, 1), 6, 2, false, CudaOps.Precision.F32, F32);
        // depthwise
        checkConv(2, new ConvGeom(8, 10, 10, 3, 3, 1, 1, 1, 1, 1, 1), 8, 8, true, CudaOps.Precision.F32, F32);
        checkConv(2, new ConvGeom(3, 32, 32, 5, 5, 1, 1, 2, 2, 1, 1), 32, 1, true, CudaOps.Precision.TF32, 5e-3f);
    }

    @Test
    void im2colAndCol2imMatchTheReferencePerImage() {
        ConvGeom g = new ConvGeom(3, 9, 7, 3, 3, 2, 1, 1, 2, 1, 2);
        int n = 3, p = g.colCols(), np = n * p;
        float[] x = random(n * g.imageSize());
        float[] col = new float[g.colRows() * np];
        float[] one = new float[g.colRows() * p];
        for (int i = 0; i < n; i++) {
            Im2col.im2colReference(g, x, i * g.imageSize(), one, 0);
            for (int r = 0; r < g.colRows(); r++) {
                System.arraycopy(one, r * p, col, r * np + i * p, p);
            }
        }
        float[] gotCol = run(col.length, c -> {
            try (DeviceArray dx = device.upload(x)) {
                ops.im2col(g, n, dx, c);
            }
        });
        assertClose("im2col", col, gotCol, 0f);
        float[] dcol = random(col.length);
        float[] expected = new float[x.length];
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < g.colRows(); r++) {
                System.arraycopy(dcol, r * np + i * p, one, r * p, p);
            }
            Im2col.col2imReference(g, one, 0, expected, i * g.imageSize());
        }
        float[] got = run(x.length, dx -> {
            try (DeviceArray dc = device.upload(dcol)) {
                ops.col2im(g, n, dc, dx);
            }
        });
        assertClose("col2im", expected, got, F32);
    }

    // ---- pooling ----

    private void checkPool(Pooling.Geom g, int planes) {
        float[] x = random(planes * g.inSize());
        x[5] = x[6]; // a tie: the first in row-major order wins
        float[] y = new float[planes * g.outSize()];
        int[] mask = new int[y.length];
        Pooling.maxForwardReference(g, planes, x, y, mask);
        float[] dy = random(y.length);
        float[] dx = new float[x.length];
        Pooling.maxBackwardReference(g, planes, dy, mask, dx);
        float[] ay = new float[y.length];
        Pooling.aveForwardReference(g, planes, x, ay);
        float[] adx = new float[x.length];
        Pooling.aveBackwardReference(g, planes, dy, adx);
        Object[] got = gpu(() -> {
            try (DeviceArray dX = device.upload(x); DeviceArray dY = device.floats(y.length).poison();
                 DeviceArray dM = device.ints(y.length).poison(); DeviceArray dDy = device.upload(dy);
                 DeviceArray dDx = device.floats(x.length).poison(); DeviceArray aY = device.floats(y.length).poison();
                 DeviceArray aDx = device.floats(x.length).poison()) {
                ops.maxPoolForward(g, planes, dX, dY, dM);
                ops.maxPoolBackward(g, planes, dDy, dM, dDx);
                ops.avePoolForward(g, planes, dX, aY);
                ops.avePoolBackward(g, planes, dDy, aDx);
                return new Object[] {dY.download(), dM.downloadInts(), dDx.download(), aY.download(), aDx.download()};
            }
        });
        assertClose("max pool " + g, y, (float[]) got[0], 0f);
        assertArrayEquals(mask, (int[]) got[1], "max pool mask " + g);
        assertClose("max pool backward " + g, dx, (float[]) got[2], F32);
        assertClose("ave pool " + g, ay, (float[]) got[3], F32);
        assertClose("ave pool backward " + g, adx, (float[]) got[4], F32);
    }

    @Test
    void poolingMatchesTheReference() {
        checkPool(new Pooling.Geom(24, 24, 2, 2, 2, 2, 0, 0, true), 20 * 3);     // LeNet
        checkPool(new Pooling.Geom(32, 32, 3, 3, 2, 2, 0, 0, true), 32 * 2);     // cifar10_quick, ceil
        checkPool(new Pooling.Geom(7, 9, 3, 2, 2, 3, 1, 1, true), 5);            // padded, rectangular
        checkPool(new Pooling.Geom(8, 8, 3, 3, 1, 1, 1, 1, false), 3);           // overlapping, floor
    }

    // ---- activations ----

    @Test
    void activationsMatchTheCpuOps() {
        int n = 10_007;
        float[] x = random(n);
        x[0] = 0f;
        float[] dy = random(n);
        for (CudaOps.Activation a : CudaOps.Activation.values()) {
            float slope = a == CudaOps.Activation.RELU ? 0.1f : 0f;
            float[] y = new float[n], dx = new float[n];
            switch (a) {
                case RELU -> {
                    Activations.reluForward(slope, x, y, 0, n);
                    Activations.reluBackward(slope, x, dy, dx, 0, n);
                }
                case SIGMOID -> {
                    Activations.sigmoidForward(x, y, 0, n);
                    Activations.sigmoidBackward(y, dy, dx, 0, n);
                }
                case TANH -> {
                    Activations.tanhForward(x, y, 0, n);
                    Activations.tanhBackward(y, dy, dx, 0, n);
                }
            }
            float[][] got = gpu(() -> {
                try (DeviceArray dX = device.upload(x); DeviceArray dY = device.floats(n).poison();
                     DeviceArray dDy = device.upload(dy); DeviceArray dDx = device.floats(n).poison()) {
                    ops.activationForward(a, slope, n, dX, dY);
                    ops.activationBackward(a, slope, n, a == CudaOps.Activation.RELU ? dX : dY, dDy, dDx);
                    return new float[][] {dY.download(), dDx.download()};
                }
            });
            assertClose(a + " forward", y, got[0], F32);
            assertClose(a + " backward", dx, got[1], F32);
        }
    }

    // ---- softmax and the loss ----

    @Test
    void softmaxMatchesTheReference() {
        int outer = 5, channels = 11, inner = 7, n = outer * channels * inner;
        float[] x = random(n);
        for (int i = 0; i < n; i++) {
            x[i] *= 20;
        }
        float[] y = new float[n], dy = random(n), dx = new float[n];
        Softmax.forwardReference(outer, channels, inner, x, y);
        Softmax.backwardReference(outer, channels, inner, y, dy, dx);
        float[][] got = gpu(() -> {
            try (DeviceArray dX = device.upload(x); DeviceArray dY = device.floats(n).poison();
                 DeviceArray dDy = device.upload(dy); DeviceArray dDx = device.floats(n).poison()) {
                ops.softmaxForward(outer, channels, inner, dX, dY);
                ops.softmaxBackward(outer, channels, inner, dY, dDy, dDx);
                return new float[][] {dY.download(), dDx.download()};
            }
        });
        assertClose("softmax", y, got[0], F32);
        assertClose("softmax backward", dx, got[1], F32);
    }

    /** A TRAIN net of an Input with these blob shapes and one more layer, from JSON. */
    private static Net net(String shapes, String tops, String layer) {
        return Net.build(Json.parse("{\"name\": \"t\", \"layers\": [{\"name\": \"in\", \"type\": \"Input\", \"top\": "
                + tops + ", \"shape\": " + shapes + "}, " + layer + "]}", "test net"), Phase.TRAIN, par, 1);
    }

    /** Runs layer {@code l}'s backward with every bottom's gradient asked for. */
    private static void backward(Net net, int l) {
        boolean[] down = new boolean[net.bottomsOf(l).size()];
        down[0] = true;
        net.layers().get(l).backward(net.topsOf(l), down, net.bottomsOf(l));
    }

    @Test
    void softmaxLossMatchesTheSoftmaxWithLossLayerWithAnIgnoreLabel() {
        int outer = 6, channels = 10, inner = 3, positions = outer * inner, n = outer * channels * inner;
        Net net = net("[{\"dim\": [6, 10, 3]}, {\"dim\": [6, 3]}]", "[\"x\", \"label\"]",
                "{\"name\": \"loss\", \"type\": \"SoftmaxWithLoss\", \"bottom\": [\"x\", \"label\"], \"top\": \"loss\","
                        + " \"ignore_label\": 255}");
        float[] x = random(n);
        float[] label = new float[positions];
        for (int i = 0; i < positions; i++) {
            label[i] = rng.nextInt(channels);
        }
        label[4] = 255;
        label[9] = 255;
        System.arraycopy(x, 0, net.blob("x").x(), 0, n);
        System.arraycopy(label, 0, net.blob("label").x(), 0, positions);
        double loss = net.forward();
        net.blob("loss").dx()[0] = 1f; // the loss weight
        backward(net, 1);
        float[] dx = net.blob("x").diff().toArray();
        float[] got = gpu(() -> {
            try (DeviceArray dX = device.upload(x); DeviceArray dP = device.floats(n).poison();
                 DeviceArray dL = device.upload(label); DeviceArray s = device.floats(2L * positions + 1);
                 DeviceArray dDx = device.floats(n).poison()) {
                ops.softmaxForward(outer, channels, inner, dX, dP);
                CudaOps.LossSum sum = ops.softmaxLoss(outer, channels, inner, dP, dL, true, 255, s);
                assertEquals(positions - 2, sum.valid());
                // the layer's default normalization, VALID: divided by the positions that counted
                assertEquals(loss, sum.loss() / sum.valid(), 1e-5 * Math.abs(loss));
                ops.softmaxLossBackward(outer, channels, inner, dP, dL, true, 255, 1f / sum.valid(), dDx);
                return dDx.download();
            }
        });
        assertClose("softmax loss backward", dx, got, F32);
        label[7] = 10;
        ShapeException e = assertThrows(ShapeException.class, () -> gpu(() -> {
            try (DeviceArray dP = device.upload(x); DeviceArray dL = device.upload(label);
                 DeviceArray s = device.floats(2L * positions + 1)) {
                return ops.softmaxLoss(outer, channels, inner, dP, dL, true, 255, s);
            }
        }));
        assertEquals("softmax loss: label 10.0 at position 7 is outside [0, 10) and is not the ignore label 255",
                e.getMessage());
    }

    // ---- BatchNorm ----

    @Test
    void batchNormTrainMatchesTheBatchNormLayer() {
        int n = 4, c = 3, s = 50, count = n * c * s;
        Net net = net("[{\"dim\": [4, 3, 5, 10]}]", "[\"x\"]",
                "{\"name\": \"bn\", \"type\": \"BatchNorm\", \"bottom\": \"x\", \"top\": \"y\"}");
        float[] x = random(count);
        for (int i = 0; i < count; i++) {
            x[i] = x[i] * 3 + 1.5f;
        }
        float[] dy = random(count);
        float[] meanSum0 = random(c), varSum0 = {0.5f, 1f, 2f}, factor0 = {2.5f};
        Layer bn = net.layers().get(1);
        System.arraycopy(x, 0, net.blob("x").x(), 0, count);
        System.arraycopy(meanSum0, 0, bn.params().get(0).x(), 0, c);
        System.arraycopy(varSum0, 0, bn.params().get(1).x(), 0, c);
        bn.params().get(2).x()[0] = factor0[0];
        net.forward();
        System.arraycopy(dy, 0, net.blob("y").dx(), 0, count);
        backward(net, 1);
        float[] y = net.blob("y").x().clone(), dx = net.blob("x").diff().toArray();
        float[] meanSum = bn.params().get(0).x().clone(), varSum = bn.params().get(1).x().clone();
        float[] factor = bn.params().get(2).x().clone();
        float[][] got = gpu(() -> {
            try (DeviceArray dX = device.upload(x); DeviceArray mean = device.floats(c).poison();
                 DeviceArray is = device.floats(c).poison(); DeviceArray ms = device.upload(meanSum0);
                 DeviceArray vs = device.upload(varSum0); DeviceArray f = device.upload(factor0);
                 DeviceArray xn = device.floats(count).poison(); DeviceArray dY = device.floats(count).poison();
                 DeviceArray dDy = device.upload(dy); DeviceArray dDx = device.floats(count).poison()) {
                ops.batchNormStats(true, n, c, s, 0.999f, 1e-5f, dX, ms, vs, f, mean, is);
                ops.batchNormForward(n, c, s, dX, mean, is, null, null, xn, dY);
                ops.batchNormBackward(n, c, s, false, xn, dDy, is, null, null, null, dDx);
                return new float[][] {dY.download(), ms.download(), vs.download(), f.download(), dDx.download()};
            }
        });
        assertClose("bn y", y, got[0], F32);
        assertClose("bn mean sum", meanSum, got[1], F32);
        assertClose("bn var sum", varSum, got[2], F32);
        assertClose("bn factor", factor, got[3], F32);
        assertClose("bn dx", dx, got[4], F32);
    }

    /** Global statistics with an affine part, against the layer's own forward and backward with its Scale folded in. */
    @Test
    void batchNormWithGlobalStatsAndAFoldedScaleMatchesTheLayers() {
        int n = 2, c = 4, s = 9, count = n * c * s;
        Net net = net("[{\"dim\": [2, 4, 3, 3]}]", "[\"x\"]",
                "{\"name\": \"bn\", \"type\": \"BatchNorm\", \"bottom\": \"x\", \"top\": \"x\", "
                        + "\"use_global_stats\": true}, {\"name\": \"sc\", \"type\": \"Scale\", \"bottom\": \"x\", "
                        + "\"top\": \"x\", \"bias_term\": true}");
        assertEquals(java.util.Set.of("sc"), net.foldedLayers());
        float[] x = random(count), dy = random(count), meanSum0 = random(c), varSum0 = {0.5f, 1f, 2f, 4f};
        float[] gamma = random(c), beta = random(c);
        Layer bn = net.layers().get(1), sc = net.layers().get(2);
        System.arraycopy(x, 0, net.blob("x").x(), 0, count);
        System.arraycopy(meanSum0, 0, bn.params().get(0).x(), 0, c);
        System.arraycopy(varSum0, 0, bn.params().get(1).x(), 0, c);
        bn.params().get(2).x()[0] = 3f;
        System.arraycopy(gamma, 0, sc.params().get(0).x(), 0, c);
        System.arraycopy(beta, 0, sc.params().get(1).x(), 0, c);
        net.forward();
        float[] y = net.blob("x").x().clone();
        System.arraycopy(dy, 0, net.blob("x").dx(), 0, count);
        backward(net, 1);
        float[] dx = net.blob("x").diff().toArray(), dgamma = sc.params().get(0).diff().toArray();
        float[] dbeta = sc.params().get(1).diff().toArray();
        float[][] got = gpu(() -> {
            try (DeviceArray dX = device.upload(x); DeviceArray mean = device.floats(c).poison();
                 DeviceArray is = device.floats(c).poison(); DeviceArray ms = device.upload(meanSum0);
                 DeviceArray vs = device.upload(varSum0); DeviceArray f = device.upload(new float[] {3f});
                 DeviceArray g = device.upload(gamma); DeviceArray b = device.upload(beta);
                 DeviceArray dg = device.floats(c); DeviceArray db = device.floats(c);
                 DeviceArray xn = device.floats(count).poison(); DeviceArray d = device.upload(dy)) {
                ops.fill(c, 0f, dg);
                ops.fill(c, 0f, db);
                ops.batchNormStats(false, n, c, s, 0.999f, 1e-5f, dX, ms, vs, f, mean, is);
                ops.batchNormForward(n, c, s, dX, mean, is, g, b, xn, dX); // in place
                float[] out = dX.download();
                ops.batchNormBackward(n, c, s, true, xn, d, is, g, dg, db, d); // in place
                return new float[][] {out, d.download(), dg.download(), db.download()};
            }
        });
        assertClose("bn+scale y", y, got[0], F32);
        assertClose("bn+scale dx", dx, got[1], F32);
        assertClose("bn+scale dgamma", dgamma, got[2], F32);
        assertClose("bn+scale dbeta", dbeta, got[3], F32);
    }

    /**
     * SigmoidCrossEntropyLoss with an ignore label (every fifth target) and VALID normalization, scores
     * wide enough that both branches of the stable form and the sigmoid's tails are taken, against the
     * layer; the sigmoid and the gradient poisoned first.
     */
    @Test
    void sigmoidCrossEntropyLossMatchesTheLayer() {
        int n = 6, k = 50, count = n * k;
        Net net = net("[{\"dim\": [6, 50]}, {\"dim\": [6, 50]}]", "[\"x\", \"t\"]",
                "{\"name\": \"loss\", \"type\": \"SigmoidCrossEntropyLoss\", \"bottom\": [\"x\", \"t\"], "
                        + "\"top\": \"loss\", \"ignore_label\": -1, \"normalization\": \"VALID\"}");
        float[] x = random(count), t = random(count);
        for (int i = 0; i < count; i++) {
            x[i] *= 20;
            t[i] = i % 5 == 0 ? -1 : Math.abs(t[i]);
        }
        System.arraycopy(x, 0, net.blob("x").x(), 0, count);
        System.arraycopy(t, 0, net.blob("t").x(), 0, count);
        double loss = net.forward();
        net.blob("loss").dx()[0] = 0.7f;
        backward(net, 1);
        float[] dx = net.blob("x").diff().toArray();
        float normalizer = 240; // the 240 targets that are not -1
        Object[] got = gpu(() -> {
            try (DeviceArray dX = device.upload(x); DeviceArray dT = device.upload(t);
                 DeviceArray sig = device.floats(count).poison(); DeviceArray scratch = device.floats(2L * count).poison();
                 DeviceArray dDx = device.floats(count).poison()) {
                CudaOps.LossSum sum = ops.sigmoidCrossEntropyLoss(count, dX, dT, true, -1, sig, scratch);
                ops.sigmoidCrossEntropyLossBackward(count, sig, dT, true, -1, 0.7f / normalizer, dDx);
                return new Object[] {sum, dDx.download()};
            }
        });
        CudaOps.LossSum sum = (CudaOps.LossSum) got[0];
        assertEquals(240, sum.valid());
        assertEquals(loss, (float) (sum.loss() / normalizer), 1e-5 * Math.abs(loss));
        assertClose("sigmoid cross-entropy dx", dx, (float[]) got[1], F32);
    }

    /**
     * Embed with a bias: 30 indices into 7 rows (so rows repeat and their gradients add up, onto a gradient
     * already there) against the layer; then an index that is not an integer is found, by position.
     */
    @Test
    void embedMatchesTheLayer() {
        int m = 30, k = 9, dim = 7;
        Net net = net("[{\"dim\": [5, 6]}]", "[\"x\"]", "{\"name\": \"e\", \"type\": \"Embed\", \"bottom\": \"x\", "
                + "\"top\": \"y\", \"input_dim\": 7, \"num_output\": 9, \"weight_filler\": {\"type\": \"gaussian\"}, "
                + "\"bias_filler\": {\"type\": \"gaussian\"}}");
        Layer embed = net.layers().get(1);
        float[] index = new float[m];
        for (int i = 0; i < m; i++) {
            index[i] = (i * 5) % dim;
        }
        float[] w = embed.params().get(0).x().clone(), b = embed.params().get(1).x().clone();
        float[] dw0 = random(dim * k), db0 = random(k), dy = random(m * k);
        System.arraycopy(index, 0, net.blob("x").x(), 0, m);
        System.arraycopy(dw0, 0, embed.params().get(0).dx(), 0, dim * k);
        System.arraycopy(db0, 0, embed.params().get(1).dx(), 0, k);
        net.forward();
        System.arraycopy(dy, 0, net.blob("y").dx(), 0, m * k);
        embed.backward(net.topsOf(1), new boolean[] {false}, net.bottomsOf(1));
        Object[] got = gpu(() -> {
            try (DeviceArray dI = device.upload(index); DeviceArray dW = device.upload(w); DeviceArray dB = device.upload(b);
                 DeviceArray y = device.floats((long) m * k).poison(); DeviceArray dDy = device.upload(dy);
                 DeviceArray dDw = device.upload(dw0); DeviceArray dDb = device.upload(db0); DeviceArray bad = device.ints(1)) {
                long none = ops.embedForward(m, k, dim, dI, dW, dB, y, bad);
                ops.embedBackward(m, k, dI, dDy, dDw);
                ops.channelSum(m, k, 1, dDy, 1f, dDb);
                float[] out = y.download();
                index[17] = 2.5f;
                dI.upload(index);
                long badAt = ops.embedForward(m, k, dim, dI, dW, dB, y, bad);
                return new Object[] {none, out, dDw.download(), dDb.download(), badAt};
            }
        });
        assertEquals(-1L, got[0]);
        assertClose("embed y", net.blob("y").x(), (float[]) got[1], 0f);
        assertClose("embed dw", embed.params().get(0).diff().toArray(), (float[]) got[2], 0f);
        assertClose("embed db", embed.params().get(1).diff().toArray(), (float[]) got[3], F32);
        assertEquals(17L, got[4]);
    }

    /**
     * Reduction (every op, with a coeff, from axis 1 of a (4, 3, 5, 7) blob, zeros among the inputs for
     * ASUM's signum) and Tile (3 tiles of axis 2), forward and backward against the layers, outputs
     * poisoned.
     */
    @Test
    void reductionAndTileMatchTheLayers() {
        int count = 4 * 3 * 5 * 7;
        float[] x = random(count), dy = random(count * 3);
        for (int i = 0; i < count; i += 9) {
            x[i] = 0;
        }
        for (Reduction.Op op : Reduction.Op.values()) {
            Net net = net("[{\"dim\": [4, 3, 5, 7]}]", "[\"x\"]", "{\"name\": \"r\", \"type\": \"Reduction\", "
                    + "\"bottom\": \"x\", \"top\": \"y\", \"axis\": 1, \"coeff\": -0.7, \"operation\": \"" + op + "\"}");
            Reduction r = (Reduction) net.layers().get(1);
            System.arraycopy(x, 0, net.blob("x").x(), 0, count);
            net.forward();
            System.arraycopy(dy, 0, net.blob("y").dx(), 0, 4);
            backward(net, 1);
            float[][] got = gpu(() -> {
                try (DeviceArray dX = device.upload(x); DeviceArray y = device.floats(4).poison();
                     DeviceArray dY = device.upload(java.util.Arrays.copyOf(dy, 4)); DeviceArray dDx = device.floats(count).poison()) {
                    ops.reductionForward(4, count / 4, op, r.coeff(), dX, y);
                    ops.reductionBackward(4, count / 4, op, r.coeff(), dX, dY, dDx);
                    return new float[][] {y.download(), dDx.download()};
                }
            });
            assertClose("reduction " + op + " y", net.blob("y").x(), got[0], F32);
            assertClose("reduction " + op + " dx", net.blob("x").diff().toArray(), got[1], F32);
        }
        Net net = net("[{\"dim\": [4, 3, 5, 7]}]", "[\"x\"]", "{\"name\": \"t\", \"type\": \"Tile\", "
                + "\"bottom\": \"x\", \"top\": \"y\", \"axis\": 2, \"tiles\": 3}");
        System.arraycopy(x, 0, net.blob("x").x(), 0, count);
        net.forward();
        System.arraycopy(dy, 0, net.blob("y").dx(), 0, 3 * count);
        backward(net, 1);
        float[][] got = gpu(() -> {
            try (DeviceArray dX = device.upload(x); DeviceArray y = device.floats(3L * count).poison();
                 DeviceArray dY = device.upload(dy); DeviceArray dDx = device.floats(count).poison()) {
                ops.tileForward(12, 3, 35, dX, y);
                ops.tileBackward(12, 3, 35, dY, dDx);
                return new float[][] {y.download(), dDx.download()};
            }
        });
        assertClose("tile y", net.blob("y").x(), got[0], 0f);
        assertClose("tile dx", net.blob("x").diff().toArray(), got[1], 0f);
    }

    /**
     * MVN per channel with variance (rows of 300 values offset far from 0, so that a one-pass variance
     * would lose digits) and across channels without, each against the layer, outputs poisoned; the
     * first in place as well.
     */
    @Test
    void mvnMatchesTheMvnLayer() {
        for (String options : new String[] {"", ", \"across_channels\": true, \"normalize_variance\": false"}) {
            int n = 3, c = 4, s = 300, count = n * c * s;
            Net net = net("[{\"dim\": [3, 4, 15, 20]}]", "[\"x\"]",
                    "{\"name\": \"mvn\", \"type\": \"MVN\", \"bottom\": \"x\", \"top\": \"y\", \"eps\": 0.001" + options + "}");
            MVN mvn = (MVN) net.layers().get(1);
            float[] x = random(count);
            for (int i = 0; i < count; i++) {
                x[i] = x[i] * (1 + i % 7) + 100;
            }
            float[] dy = random(count);
            System.arraycopy(x, 0, net.blob("x").x(), 0, count);
            net.forward();
            System.arraycopy(dy, 0, net.blob("y").dx(), 0, count);
            backward(net, 1);
            float[] y = net.blob("y").x().clone(), dx = net.blob("x").diff().toArray();
            int rows = mvn.rows();
            float[][] got = gpu(() -> {
                try (DeviceArray dX = device.upload(x); DeviceArray is = device.floats(2L * rows).poison();
                     DeviceArray dY = device.floats(count).poison(); DeviceArray dDy = device.upload(dy);
                     DeviceArray dDx = device.floats(count).poison()) {
                    ops.mvnForward(rows, mvn.dim(), mvn.normalizeVariance(), mvn.eps(), dX, is, dY);
                    ops.mvnBackward(rows, mvn.dim(), mvn.normalizeVariance(), is, dY, dDy, dDx);
                    float[] out = dY.download(), grad = dDx.download();
                    ops.mvnForward(rows, mvn.dim(), mvn.normalizeVariance(), mvn.eps(), dX, is, dX); // in place
                    ops.mvnBackward(rows, mvn.dim(), mvn.normalizeVariance(), is, dX, dDy, dDy);
                    return new float[][] {out, grad, dX.download(), dDy.download()};
                }
            });
            assertClose("mvn" + options + " y", y, got[0], F32);
            assertClose("mvn" + options + " dx", dx, got[1], F32);
            assertClose("mvn" + options + " y in place", y, got[2], F32);
            assertClose("mvn" + options + " dx in place", dx, got[3], F32);
        }
    }

    // ---- reductions and element-wise ----

    @Test
    void reductionsAndElementwiseMatchTheCpuOps() {
        int n = 100_003;
        float[] x = random(n), y = random(n);
        double[] sums = gpu(() -> {
            try (DeviceArray d = device.upload(x)) {
                return new double[] {ops.sum(n, d, 0, false), ops.sum(n, d, 0, true), ops.sum(10, d, 17, false)};
            }
        });
        assertEquals(Elementwise.sum(n, x, 0), sums[0], 1e-5 * Math.max(1, Math.abs(Elementwise.sum(n, x, 0))));
        assertEquals(Elementwise.sumsq(n, x, 0), sums[1], 1e-5 * Elementwise.sumsq(n, x, 0));
        assertEquals(Elementwise.sum(10, x, 17), sums[2], 1e-5);

        float[] axpy = y.clone();
        Elementwise.axpy(n, 0.3f, x, 0, axpy, 0);
        float[] scaled = x.clone();
        Elementwise.scale(n, -2.5f, scaled, 0);
        float[][] got = gpu(() -> {
            try (DeviceArray dx = device.upload(x); DeviceArray dy = device.upload(y); DeviceArray f = device.floats(n).poison()) {
                ops.axpy(n, 0.3f, dx, dy);
                ops.scale(n, -2.5f, dx);
                ops.fill(n, 7f, f);
                return new float[][] {dy.download(), dx.download(), f.download()};
            }
        });
        assertClose("axpy", axpy, got[0], F32);
        assertClose("scale", scaled, got[1], F32);
        float[] sevens = new float[n];
        Arrays.fill(sevens, 7f);
        assertClose("fill", sevens, got[2], 0f);

        // bias gradients and the InnerProduct's bias add
        int batch = 7, channels = 5, spatial = 33;
        float[] dy = random(batch * channels * spatial);
        float[] db0 = random(channels);
        float[] channelSum = db0.clone();
        for (int i = 0; i < batch; i++) {
            for (int c = 0; c < channels; c++) {
                channelSum[c] += (float) Elementwise.sum(spatial, dy, (i * channels + c) * spatial);
            }
        }
        int rows = 9, cols = 13;
        float[] m = random(rows * cols), bias = random(cols);
        float[] colSum = new float[cols], withBias = m.clone();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                colSum[c] += m[r * cols + c];
                withBias[r * cols + c] += bias[c];
            }
        }
        float[][] got2 = gpu(() -> {
            try (DeviceArray dDy = device.upload(dy); DeviceArray db = device.upload(db0); DeviceArray dm = device.upload(m);
                 DeviceArray cs = device.floats(cols).poison(); DeviceArray dBias = device.upload(bias)) {
                ops.channelSum(batch, channels, spatial, dDy, 1f, db);
                ops.columnSum(rows, cols, dm, 0f, cs);
                ops.addRowBias(rows, cols, dBias, dm);
                return new float[][] {db.download(), cs.download(), dm.download()};
            }
        });
        assertClose("channel sum", channelSum, got2[0], F32);
        assertClose("column sum", colSum, got2[1], F32);
        assertClose("row bias", withBias, got2[2], F32);
    }

    // ---- solver updates ----

    @Test
    void fusedSolverUpdatesMatchTheSolversUpdates() {
        int n = 5_001;
        for (int variant = 0; variant < 4; variant++) {
            boolean nesterov = variant == 1, l1 = variant == 2;
            float decay = variant == 3 ? 0f : 5e-4f;
            float[] w = random(n), g = random(n), h = random(n);
            float[] ew = w.clone(), eg = g.clone(), eh = h.clone();
            Updates.sgd(n, 0.01f, 0.9f, decay, l1, nesterov, ew, eg, eh);
            float[][] got = gpu(() -> {
                try (DeviceArray dw = device.upload(w); DeviceArray dg = device.upload(g); DeviceArray dh = device.upload(h)) {
                    ops.sgdUpdate(n, 0.01f, 0.9f, decay, l1, nesterov, dw, dg, dh);
                    return new float[][] {dw.download(), dh.download()};
                }
            });
            assertClose("sgd w, variant " + variant, ew, got[0], F32);
            assertClose("sgd history, variant " + variant, eh, got[1], F32);
        }
        for (boolean adamw : new boolean[] {false, true}) {
            float[] w = random(n), g = random(n), h = random(n), h2 = new float[n];
            for (int i = 0; i < n; i++) {
                h2[i] = (float) rng.nextDouble(0, 0.01);
            }
            float[] ew = w.clone(), eg = g.clone(), eh = h.clone(), eh2 = h2.clone();
            float a = 1e-3f, step = a * 0.7f;
            Updates.adam(n, a, step, 0.9f, 0.999f, 1e-8f, 1e-2f, false, adamw, ew, eg, eh, eh2);
            float[][] got = gpu(() -> {
                try (DeviceArray dw = device.upload(w); DeviceArray dg = device.upload(g); DeviceArray dh = device.upload(h);
                     DeviceArray dh2 = device.upload(h2)) {
                    ops.adamUpdate(n, a, step, 0.9f, 0.999f, 1e-8f, 1e-2f, false, adamw, dw, dg, dh, dh2);
                    return new float[][] {dw.download(), dh.download(), dh2.download()};
                }
            });
            assertClose("adam w " + adamw, ew, got[0], F32);
            assertClose("adam m " + adamw, eh, got[1], F32);
            assertClose("adam v " + adamw, eh2, got[2], F32);
        }
    }

    // ---- memory ----

    @Test
    void thePoolReusesFreedBlocksAndAnImpossibleAllocationSaysHowMuch() {
        gpu(() -> {
            DeviceArray a = device.floats(1 << 20);
            a.close();
            long cached = device.memory().cached();
            try (DeviceArray b = device.floats(1 << 20)) {
                assertEquals(cached - b.blockBytes(), device.memory().cached(), "the freed block was reused");
            }
            CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                    () -> device.floats(1L << 40)); // 4 TiB
            assertTrue(e.getMessage().startsWith("out of GPU memory on " + device.name() + ": this run needed 4194304.0 MiB"),
                    e.getMessage());
            return null;
        });
    }
}
