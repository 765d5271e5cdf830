package org.cortado.kernels;

import org.cortado.engine.ops.ConvGeom;
import org.cortado.engine.ops.Pooling;

/**
 * The engine's ops on one GPU. Each method names the CPU op it computes; {@code CudaOpsTest} runs both on
 * random inputs and compares. Arguments are checked ({@link KernelArgs}) before anything launches.
 * Launches are asynchronous on the device's stream; downloads wait for them. Call on the device's thread.
 */
public final class CudaOps {
    /** How a GEMM multiplies: float32 on the CUDA cores, or TF32 on the tensor cores (about 1e-3 relative). */
    public enum Precision { F32, TF32 }

    private static final int THREADS = 256;
    private final CudaDevice device;
    private final int maxBlocks;

    public CudaOps(CudaDevice device) {
        this.device = device;
        this.maxBlocks = Math.max(1, device.multiprocessors()) * 32;
    }

    public CudaDevice device() {
        return device;
    }

    private int blocks(long n) {
        return (int) Math.max(1, Math.min(maxBlocks, (n + THREADS - 1) / THREADS));
    }

    private void loop(String kernel, long n, Object... args) {
        if (n > 0) {
            device.launch(kernel, blocks(n), 1, 1, THREADS, args);
        }
    }

    private static void sameDevice(CudaDevice d, DeviceArray... arrays) {
        for (DeviceArray a : arrays) {
            if (a != null && a.device() != d) {
                throw new IllegalArgumentException("a device array of another GPU");
            }
        }
    }

    // ---- GEMM: org.cortado.engine.ops.Gemm ----

    /** {@code C = alpha * op(A) * op(B) + beta * C}, row-major (Gemm.gemm). */
    public void gemm(Precision p, boolean transA, boolean transB, int m, int n, int k, float alpha,
                     DeviceArray a, long aOff, int lda, DeviceArray b, long bOff, int ldb,
                     float beta, DeviceArray c, long cOff, int ldc) {
        gemmBatched(p, transA, transB, m, n, k, alpha, a, aOff, lda, 0, b, bOff, ldb, 0, beta, c, cOff, ldc, 0, 1);
    }

    /** {@code batch} GEMMs in one launch; product {@code i} reads A at {@code aOff + i*sA}, and so on. */
    public void gemmBatched(Precision p, boolean transA, boolean transB, int m, int n, int k, float alpha,
                            DeviceArray a, long aOff, int lda, long sA, DeviceArray b, long bOff, int ldb, long sB,
                            float beta, DeviceArray c, long cOff, int ldc, long sC, int batch) {
        sameDevice(device, a, b, c);
        KernelArgs.gemm(transA, transB, m, n, k, a.length(), aOff, lda, b.length(), bOff, ldb, c.length(), cOff, ldc,
                batch, sA, sB, sC);
        if (m == 0 || n == 0) {
            return;
        }
        boolean rows64 = p == Precision.F32 && m <= 64; // 64-row tiles: half of a 128-row one would be empty
        String kernel = (p == Precision.TF32 ? "gemm_tf32_" : rows64 ? "gemm_f32m64_" : "gemm_f32_")
                + (transA ? "t" : "n") + (transB ? "t" : "n");
        int gridX = (n + 127) / 128, gridY = (m + (rows64 ? 63 : 127)) / (rows64 ? 64 : 128);
        int splits = splits(gridX * gridY * batch, k);
        if (splits == 1) {
            device.launch(kernel, gridX, gridY, batch, 256, m, n, k, alpha, a.at(aOff), lda, sA, b.at(bOff), ldb, sB,
                    beta, c.at(cOff), ldc, sC, 1, k);
            return;
        }
        int kc = (Math.ceilDiv(k, splits) + 7) / 8 * 8;
        splits = Math.ceilDiv(k, kc);
        long mn = (long) m * n;
        DeviceArray w = splitWorkspace(batch * splits * mn);
        device.launch(kernel, gridX, gridY, batch * splits, 256, m, n, k, 1f, a.at(aOff), lda, sA, b.at(bOff), ldb, sB,
                0f, w.base(), n, mn, splits, kc);
        loop("gemm_splitk_sum", batch * mn, batch, splits, m, n, w.base(), alpha, beta, c.at(cOff), ldc, sC);
    }

    /**
     * How many parts to split k into: 1 when the tiles of C already give every multiprocessor two
     * blocks; otherwise enough to do so, each part at least {@value #MIN_SPLIT_K} long. A block walks its
     * part 8 at a time, one wait on memory per step, so a few blocks over a long k (a convolution's weight
     * gradient: a small C, k = every output position of the batch; an InnerProduct at a small batch) leave
     * the GPU idle; the split parts and their sum cost far less.
     */
    private int splits(int tiles, int k) {
        int target = 2 * Math.max(1, device.multiprocessors());
        if (tiles >= target || k < 2 * MIN_SPLIT_K) {
            return 1;
        }
        return Math.min(Math.ceilDiv(target, tiles), k / MIN_SPLIT_K);
    }

    private static final int MIN_SPLIT_K = 64;

    private DeviceArray splitWork;

    private DeviceArray splitWorkspace(long n) {
        if (splitWork == null || splitWork.length() < n) {
            if (splitWork != null) {
                splitWork.close();
            }
            splitWork = device.floats(n);
        }
        return splitWork;
    }

    // ---- convolution: org.cortado.engine.ops.Im2col, org.cortado.engine.ops.Conv ----

    /** The batch's column matrix {@code (colRows, n * colCols)}: Im2col.im2col per image at column {@code i*P}. */
    public void im2col(ConvGeom g, int n, DeviceArray x, DeviceArray col) {
        sameDevice(device, x, col);
        KernelArgs.holds("im2col", "x", x.length(), (long) n * g.imageSize());
        KernelArgs.holds("im2col", "col", col.length(), (long) g.colRows() * n * g.colCols());
        loop("im2col_batch", (long) g.c() * n * g.colCols(), n, g.c(), g.h(), g.w(), g.kh(), g.kw(), g.sh(), g.sw(),
                g.ph(), g.pw(), g.dh(), g.dw(), g.outH(), g.outW(), x.base(), col.base());
    }

    /** The adjoint of {@link #im2col}, overwriting x (Im2col.col2im per image). */
    public void col2im(ConvGeom g, int n, DeviceArray col, DeviceArray x) {
        sameDevice(device, x, col);
        KernelArgs.holds("col2im", "x", x.length(), (long) n * g.imageSize());
        KernelArgs.holds("col2im", "col", col.length(), (long) g.colRows() * n * g.colCols());
        loop("col2im_batch", (long) n * g.imageSize(), n, g.c(), g.h(), g.w(), g.kh(), g.kw(), g.sh(), g.sw(),
                g.ph(), g.pw(), g.dh(), g.dw(), g.outH(), g.outW(), col.base(), x.base());
    }

    /** Scratch for convolutions: the column matrix and the output staged as (C, N*P). */
    public static final class ConvWorkspace implements AutoCloseable {
        private DeviceArray col;
        private DeviceArray stage;

        DeviceArray col(CudaDevice d, long n) {
            if (col == null || col.length() < n) {
                if (col != null) {
                    col.close();
                }
                col = d.floats(n);
            }
            return col;
        }

        DeviceArray stage(CudaDevice d, long n) {
            if (stage == null || stage.length() < n) {
                if (stage != null) {
                    stage.close();
                }
                stage = d.floats(n);
            }
            return stage;
        }

        @Override
        public void close() {
            if (col != null) {
                col.close();
            }
            if (stage != null) {
                stage.close();
            }
            col = stage = null;
        }
    }

    /**
     * Convolution forward over a batch of {@code n} (Conv.forward): {@code y (n, outC, oh, ow)} from
     * {@code x (n, C, H, W)}, weights {@code (outC, C/group, kh, kw)} and bias {@code (outC)} or null.
     * One im2col of the whole batch, one batched GEMM over the groups, one permute that adds the bias.
     */
    public void convForward(Precision p, int n, ConvGeom g, int outC, int group, DeviceArray x, DeviceArray w,
                            DeviceArray bias, DeviceArray y, ConvWorkspace ws) {
        long np = (long) n * g.colCols();
        int m = outC / group, k = g.colRows() / group;
        KernelArgs.holds("conv forward", "w", w.length(), (long) outC * k);
        KernelArgs.holds("conv forward", "y", y.length(), (long) n * outC * g.colCols());
        if (bias != null) {
            KernelArgs.holds("conv forward", "bias", bias.length(), outC);
        }
        DeviceArray col = ws.col(device, g.colRows() * np);
        DeviceArray stage = ws.stage(device, outC * np);
        im2col(g, n, x, col);
        // per group: (m, k) x (k, N*P) -> (m, N*P)
        gemmBatched(p, false, false, m, Math.toIntExact(np), k, 1f, w, 0, k, (long) m * k, col, 0,
                Math.toIntExact(np), k * np, 0f, stage, 0, Math.toIntExact(np), m * np, group);
        loop("cnp_to_nchw_bias", (long) n * outC * g.colCols(), n, outC, (long) g.colCols(), stage.base(),
                bias == null ? null : bias.base(), y.base());
    }

    /**
     * Convolution backward (Conv.backward): {@code dw} and {@code db} (either may be null) are accumulated
     * into, {@code dx} (may be null) is overwritten.
     */
    public void convBackward(Precision p, int n, ConvGeom g, int outC, int group, DeviceArray x, DeviceArray w,
                             DeviceArray dy, DeviceArray dw, DeviceArray db, DeviceArray dx, ConvWorkspace ws) {
        long np = (long) n * g.colCols();
        int m = outC / group, k = g.colRows() / group;
        int ld = Math.toIntExact(np);
        KernelArgs.holds("conv backward", "dy", dy.length(), (long) n * outC * g.colCols());
        DeviceArray col = ws.col(device, g.colRows() * np);
        DeviceArray stage = ws.stage(device, outC * np);
        loop("nchw_to_cnp", (long) n * outC * g.colCols(), n, outC, (long) g.colCols(), dy.base(), stage.base());
        if (db != null) {
            KernelArgs.holds("conv backward", "db", db.length(), outC);
            channelSum(n, outC, g.colCols(), dy, 1f, db);
        }
        if (dw != null) {
            KernelArgs.holds("conv backward", "dw", dw.length(), (long) outC * k);
            im2col(g, n, x, col);
            // per group: (m, N*P) x (N*P, k) -> (m, k), accumulated
            gemmBatched(p, false, true, m, k, ld, 1f, stage, 0, ld, m * np, col, 0, ld, k * np, 1f, dw, 0, k,
                    (long) m * k, group);
        }
        if (dx != null) {
            KernelArgs.holds("conv backward", "dx", dx.length(), (long) n * g.imageSize());
            // per group: (k, m) x (m, N*P) -> (k, N*P)
            gemmBatched(p, true, false, k, ld, m, 1f, w, 0, k, (long) m * k, stage, 0, ld, m * np, 0f, col, 0, ld,
                    k * np, group);
            col2im(g, n, col, dx);
        }
    }

    /**
     * Deconvolution.forward over a batch of {@code n}: {@code y (n, g.c(), g.h(), g.w())} from
     * {@code x (n, inC, ...)} and weights {@code (inC, g.c()/group, kh, kw)}, where {@code g} is the
     * convolution from y to x: its backward-data pass, then {@code bias} (per output channel, or null).
     */
    public void deconvForward(Precision p, int n, ConvGeom g, int inC, int group, DeviceArray x, DeviceArray w,
                              DeviceArray bias, DeviceArray y, ConvWorkspace ws) {
        convBackward(p, n, g, inC, group, null, w, x, null, null, y, ws);
        if (bias != null) {
            channelBiasAdd(n, g.c(), (long) g.h() * g.w(), bias, y);
        }
    }

    /** {@code y[(i, c, p)] += bias[c]} over {@code (n, c, plane)}: a deconvolution's bias, layers.Bias's forward. */
    public void channelBiasAdd(int n, int c, long plane, DeviceArray bias, DeviceArray y) {
        sameDevice(device, bias, y);
        KernelArgs.holds("channel bias", "bias", bias.length(), c);
        KernelArgs.holds("channel bias", "y", y.length(), (long) n * c * plane);
        loop("channel_bias_add", (long) n * c * plane, n, c, plane, bias.base(), y.base());
    }

    /**
     * Deconvolution.backward: {@code db} (sums of dy per output channel), {@code dw} (the convolution's
     * weight gradient with its input := dy and its output gradient := x) are accumulated into, and
     * {@code dx} (the convolution of dy, no bias) overwritten; each may be null.
     */
    public void deconvBackward(Precision p, int n, ConvGeom g, int inC, int group, DeviceArray x, DeviceArray w,
                               DeviceArray dy, DeviceArray dw, DeviceArray db, DeviceArray dx, ConvWorkspace ws) {
        if (db != null) {
            KernelArgs.holds("deconvolution backward", "db", db.length(), g.c());
            channelSum(n, g.c(), (long) g.h() * g.w(), dy, 1f, db);
        }
        if (dw != null) {
            convBackward(p, n, g, inC, group, dy, w, x, dw, null, null, ws);
        }
        if (dx != null) {
            convForward(p, n, g, inC, group, dy, w, null, dx, ws);
        }
    }

    // ---- pooling: org.cortado.engine.ops.Pooling ----

    private Object[] poolArgs(Pooling.Geom g, int planes) {
        return new Object[] {planes, g.h(), g.w(), g.kh(), g.kw(), g.sh(), g.sw(), g.ph(), g.pw(), g.outH(), g.outW()};
    }

    private static Object[] concat(Object[] a, Object... b) {
        Object[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static void pooled(String op, Pooling.Geom g, int planes, DeviceArray in, DeviceArray out) {
        KernelArgs.holds(op, "input", in.length(), (long) planes * g.inSize());
        KernelArgs.holds(op, "output", out.length(), (long) planes * g.outSize());
    }

    /** Pooling.maxForward; {@code mask} (ints, may be null when no backward follows) gets the argmax. */
    public void maxPoolForward(Pooling.Geom g, int planes, DeviceArray x, DeviceArray y, DeviceArray mask) {
        sameDevice(device, x, y, mask);
        pooled("max pool forward", g, planes, x, y);
        if (mask != null) {
            KernelArgs.holds("max pool forward", "mask", mask.length(), (long) planes * g.outSize());
        }
        loop("max_pool_forward", (long) planes * g.outSize(), concat(poolArgs(g, planes), x.base(), y.base(),
                mask == null ? null : mask.base()));
    }

    /** Pooling.maxBackward: overwrites dx. */
    public void maxPoolBackward(Pooling.Geom g, int planes, DeviceArray dy, DeviceArray mask, DeviceArray dx) {
        sameDevice(device, dy, mask, dx);
        pooled("max pool backward", g, planes, dx, dy);
        KernelArgs.holds("max pool backward", "mask", mask.length(), (long) planes * g.outSize());
        loop("max_pool_backward", (long) planes * g.inSize(), concat(poolArgs(g, planes), dy.base(), mask.base(),
                dx.base()));
    }

    /** Pooling.aveForward. */
    public void avePoolForward(Pooling.Geom g, int planes, DeviceArray x, DeviceArray y) {
        sameDevice(device, x, y);
        pooled("ave pool forward", g, planes, x, y);
        loop("ave_pool_forward", (long) planes * g.outSize(), concat(poolArgs(g, planes), x.base(), y.base()));
    }

    /** Pooling.aveBackward: overwrites dx. */
    public void avePoolBackward(Pooling.Geom g, int planes, DeviceArray dy, DeviceArray dx) {
        sameDevice(device, dy, dx);
        pooled("ave pool backward", g, planes, dx, dy);
        loop("ave_pool_backward", (long) planes * g.inSize(), concat(poolArgs(g, planes), dy.base(), dx.base()));
    }

    // ---- activations: org.cortado.engine.ops.Activations ----

    /** The element-wise activations, forward and backward, as Activations computes them. */
    public enum Activation { RELU, SIGMOID, TANH }

    /** Activations.reluForward / sigmoidForward / tanhForward over the first {@code n} elements. */
    public void activationForward(Activation a, float slope, long n, DeviceArray x, DeviceArray y) {
        sameDevice(device, x, y);
        KernelArgs.holds("activation", "x", x.length(), n);
        KernelArgs.holds("activation", "y", y.length(), n);
        switch (a) {
            case RELU -> loop("relu_forward", n, n, slope, x.base(), y.base());
            case SIGMOID -> loop("sigmoid_forward", n, n, x.base(), y.base());
            case TANH -> loop("tanh_forward", n, n, x.base(), y.base());
        }
    }

    /**
     * The backward of {@link #activationForward}: ReLU reads its input (or, with slope >= 0, its output),
     * Sigmoid and TanH read their output {@code y}.
     */
    public void activationBackward(Activation a, float slope, long n, DeviceArray xOrY, DeviceArray dy,
                                   DeviceArray dx) {
        sameDevice(device, xOrY, dy, dx);
        KernelArgs.holds("activation backward", "x", xOrY.length(), n);
        KernelArgs.holds("activation backward", "dy", dy.length(), n);
        KernelArgs.holds("activation backward", "dx", dx.length(), n);
        switch (a) {
            case RELU -> loop("relu_backward", n, n, slope, xOrY.base(), dy.base(), dx.base());
            case SIGMOID -> loop("sigmoid_backward", n, n, xOrY.base(), dy.base(), dx.base());
            case TANH -> loop("tanh_backward", n, n, xOrY.base(), dy.base(), dx.base());
        }
    }

    /** ELU's forward (layers.ELU): {@code y = x > 0 ? x : alpha * expm1(x)}; {@code y} may be {@code x}. */
    public void eluForward(long n, float alpha, DeviceArray x, DeviceArray y) {
        sameDevice(device, x, y);
        holdsAll("elu", "operand", n, x, y);
        loop("elu_forward", n, n, alpha, x.base(), y.base());
    }

    /** ELU's backward: {@code dx = x > 0 ? dy : dy * (y + alpha)} ({@code x} may be the output, in place). */
    public void eluBackward(long n, float alpha, DeviceArray x, DeviceArray y, DeviceArray dy, DeviceArray dx) {
        sameDevice(device, x, y, dy, dx);
        holdsAll("elu backward", "operand", n, x, y, dy, dx);
        loop("elu_backward", n, n, alpha, x.base(), y.base(), dy.base(), dx.base());
    }

    /**
     * The other element-wise layers (layers.AbsVal, Power, Exp, Log, BNLL, Clip, Threshold, Swish), forward
     * and backward, as their CPU layers compute them ({@code activation.cu}). Each takes its layer's
     * constants, the same both ways, in the order of the kernels' parameters after {@code n}: Power
     * (power, power - 1 rounded in float, scale, shift), Exp (inner, outer), Log (scale, shift, ln base) as
     * Doubles; Clip (min, max), Threshold (threshold), Swish (beta) as Floats.
     */
    public enum Neuron {
        ABSVAL("absval", 0), POWER("power", 4), EXP("exp", 2), LOG("log", 3), BNLL("bnll", 0), CLIP("clip", 2),
        THRESHOLD("threshold", 1), SWISH("swish", 1);

        private final String kernel;
        private final int constants;

        Neuron(String kernel, int constants) {
            this.kernel = kernel;
            this.constants = constants;
        }
    }

    /**
     * {@code y = f(x)} over the first {@code n} elements; {@code constants} as the kernel takes them (Float
     * or Double); Swish also writes its sigmoid to {@code saved}.
     */
    public void neuronForward(Neuron f, long n, java.util.List<Object> constants, DeviceArray x, DeviceArray saved, DeviceArray y) {
        neuron(f, "_forward", n, constants, saved, x, saved, y);
    }

    /**
     * The backward of {@link #neuronForward}: {@code dx} from {@code dy} and what the layer's backward reads,
     * {@code xOrY} (the output for Exp and Swish, else the input) and Swish's {@code saved} sigmoid.
     * Threshold has no kernel: its gradient is 0 (a {@link #fill}).
     */
    public void neuronBackward(Neuron f, long n, java.util.List<Object> constants, DeviceArray xOrY, DeviceArray saved, DeviceArray dy,
                               DeviceArray dx) {
        if (f == Neuron.THRESHOLD) {
            throw new IllegalArgumentException("threshold: no backward kernel, its gradient is 0");
        }
        neuron(f, "_backward", n, constants, saved, xOrY, saved, dy, dx);
    }

    /** Checks and launches {@code f}'s kernel: {@code n}, the constants, then the arrays given (a null one left out). */
    private void neuron(Neuron f, String direction, long n, java.util.List<Object> constants, DeviceArray saved,
                        DeviceArray... arrays) {
        sameDevice(device, arrays);
        if (constants.size() != f.constants) {
            throw new IllegalArgumentException(f.kernel + ": " + f.constants + " constants, got " + constants.size());
        }
        if ((f == Neuron.SWISH) != (saved != null)) {
            throw new IllegalArgumentException(f.kernel + ": only Swish keeps its sigmoid");
        }
        holdsAll(f.kernel + direction, "operand", n, arrays);
        java.util.List<Object> args = new java.util.ArrayList<>(java.util.List.of(n));
        args.addAll(constants);
        for (DeviceArray a : arrays) {
            if (a != null) {
                args.add(a.base());
            }
        }
        loop(f.kernel + direction, n, args.toArray());
    }

    /**
     * PReLU's forward (layers.PReLU) on {@code (N, C, inner)} with slopes {@code w} (C), or one shared slope
     * ({@code C = 1}, {@code inner} the rest): {@code y = max(x, 0) + w[c] * min(x, 0)}; {@code y} may be {@code x}.
     */
    public void preluForward(int num, int c, long inner, DeviceArray x, DeviceArray w, DeviceArray y) {
        sameDevice(device, x, w, y);
        long n = (long) num * c * inner;
        holdsAll("prelu", "operand", n, x, y);
        KernelArgs.holds("prelu", "slopes", w.length(), c);
        loop("prelu_forward", n, n, c, inner, x.base(), w.base(), y.base());
    }

    /**
     * PReLU's backward: {@code dw[c] += sum(dy * x)} over {@code x <= 0}; {@code dx = x > 0 ? dy : w[c] * dy}
     * unless {@code dx} is null ({@code dx} may be {@code dy}; {@code x} is the forward's input).
     */
    public void preluBackward(int num, int c, long inner, DeviceArray x, DeviceArray dy, DeviceArray w, DeviceArray dw,
                              DeviceArray dx) {
        sameDevice(device, x, dy, w, dw, dx);
        holdsAll("prelu backward", "operand", (long) num * c * inner, x, dy, dx);
        holdsAll("prelu backward", "slopes", c, w, dw);
        device.launch("prelu_backward", c, 1, 1, THREADS, num, c, inner, x.base(), dy.base(), w.base(), dw.base(), ptr(dx));
    }

    // ---- LRN: org.cortado.engine.layers.LRN ----

    /** LRN's forward on {@code (n, c, h, w)}: {@code y = x * scale^-beta}, the denominators' base kept in {@code scale}. */
    public void lrnForward(int n, int c, int h, int w, int size, float alpha, float beta, float k, boolean across,
                           DeviceArray x, DeviceArray scale, DeviceArray y) {
        sameDevice(device, x, scale, y);
        long count = (long) n * c * h * w;
        holdsAll("lrn", "operand", count, x, scale, y);
        loop("lrn_forward", count, n, c, h, w, size, alpha, beta, k, across ? 1 : 0, x.base(), scale.base(), y.base());
    }

    /** LRN's backward, from the forward's {@code x}, {@code y} and {@code scale}. */
    public void lrnBackward(int n, int c, int h, int w, int size, float alpha, float beta, boolean across, DeviceArray x,
                            DeviceArray y, DeviceArray scale, DeviceArray dy, DeviceArray dx) {
        sameDevice(device, x, y, scale, dy, dx);
        long count = (long) n * c * h * w;
        holdsAll("lrn backward", "operand", count, x, y, scale, dy, dx);
        loop("lrn_backward", count, n, c, h, w, size, alpha, beta, across ? 1 : 0, x.base(), y.base(), scale.base(),
                dy.base(), dx.base());
    }

    // ---- softmax: org.cortado.engine.ops.Softmax, layers.SoftmaxWithLoss ----

    private static void softmaxShape(String op, int outer, int channels, int inner, DeviceArray... arrays) {
        KernelArgs.positive(op, "channels", channels);
        for (DeviceArray a : arrays) {
            KernelArgs.holds(op, "operand", a.length(), (long) outer * channels * inner);
        }
    }

    /** Softmax.forward over the channel axis of {@code (outer, channels, inner)}. */
    public void softmaxForward(int outer, int channels, int inner, DeviceArray x, DeviceArray y) {
        sameDevice(device, x, y);
        softmaxShape("softmax", outer, channels, inner, x, y);
        loop("softmax_forward", (long) outer * inner, outer, channels, inner, x.base(), y.base());
    }

    /** Softmax.backward. */
    public void softmaxBackward(int outer, int channels, int inner, DeviceArray y, DeviceArray dy, DeviceArray dx) {
        sameDevice(device, y, dy, dx);
        softmaxShape("softmax backward", outer, channels, inner, y, dy, dx);
        loop("softmax_backward", (long) outer * inner, outer, channels, inner, y.base(), dy.base(), dx.base());
    }

    /** The summed loss and the number of positions that counted (not ignored). */
    public record LossSum(double loss, long valid) {}

    /**
     * SoftmaxWithLoss's forward on probabilities already computed: {@code -sum log(max(p[label], FLT_MIN))}
     * over the positions whose label is not {@code ignoreLabel} (when {@code hasIgnore}), and how many
     * those are; the caller divides by its normalizer. Waits for the GPU once (the loss comes to the host).
     * A label outside {@code [0, channels)} is an error naming the position. {@code scratch} holds
     * {@code 2 * outer * inner} floats.
     */
    public LossSum softmaxLoss(int outer, int channels, int inner, DeviceArray prob, DeviceArray label,
                               boolean hasIgnore, int ignoreLabel, DeviceArray scratch) {
        sameDevice(device, prob, label, scratch);
        softmaxShape("softmax loss", outer, channels, inner, prob);
        long positions = (long) outer * inner;
        KernelArgs.holds("softmax loss", "label", label.length(), positions);
        KernelArgs.holds("softmax loss", "scratch", scratch.length(), 2 * positions);
        // scratch: [0, P) loss per position, [P, 2P) valid flags; the first bad position + 1 (as int bits) and
        // the two sums go to partials' result slots, which come down together: one wait for the GPU
        DeviceArray part = partials();
        device.launch("fill", 1, 1, 1, 32, 1L, 0f, part.at(RESULTS + 4));
        loop("softmax_loss_forward", positions, outer, channels, inner, prob.base(), label.base(), hasIgnore ? 1 : 0,
                ignoreLabel, scratch.base(), scratch.at(positions), part.at(RESULTS + 4));
        sumInto(positions, scratch, 0, false, part, 0);
        sumInto(positions, scratch, positions, false, part, 1);
        float[] out = new float[5];
        part.download(out, RESULTS, 5, 0);
        int badPos = Float.floatToRawIntBits(out[4]);
        if (badPos != 0) {
            float[] l = new float[1];
            label.download(l, badPos - 1, 1, 0);
            throw new org.cortado.engine.ShapeException("softmax loss: label " + l[0] + " at position " + (badPos - 1)
                    + " is outside [0, " + channels + ")" + (hasIgnore ? " and is not the ignore label " + ignoreLabel : ""));
        }
        return new LossSum(asDouble(out, 0), Math.round(asDouble(out, 2)));
    }

    private DeviceArray partials;

    /** Where {@link #partials} holds its results: after the 1024 double partials. */
    private static final int RESULTS = 2 * 1024;

    /**
     * Room for the block sums of {@link #sum}: 1024 doubles, then two double results and an int (a loss's
     * sum, its count and its first bad label), which one download brings to the host.
     */
    private DeviceArray partials() {
        if (partials == null) {
            partials = device.floats(RESULTS + 5);
        }
        return partials;
    }

    /**
     * SigmoidCrossEntropyLoss's forward over {@code n} scores and targets: each score's sigmoid into
     * {@code sig} (for the backward), and the summed loss and the count of targets that are not
     * {@code ignoreLabel} (when {@code hasIgnore}); the caller divides by its normalizer. {@code scratch}
     * holds {@code 2 n} floats. Waits for the GPU (the loss comes to the host).
     */
    public LossSum sigmoidCrossEntropyLoss(long n, DeviceArray x, DeviceArray target, boolean hasIgnore,
                                           int ignoreLabel, DeviceArray sig, DeviceArray scratch) {
        sameDevice(device, x, target, sig, scratch);
        holdsAll("sigmoid cross-entropy loss", "operand", n, x, target, sig);
        KernelArgs.holds("sigmoid cross-entropy loss", "scratch", scratch.length(), 2 * n);
        // scratch: [0, n) loss per element, [n, 2n) valid flags
        loop("sigmoid_xent_forward", n, n, x.base(), target.base(), hasIgnore ? 1 : 0, ignoreLabel, sig.base(),
                scratch.base(), scratch.at(n));
        DeviceArray part = partials();
        sumInto(n, scratch, 0, false, part, 0);
        sumInto(n, scratch, n, false, part, 1);
        float[] out = new float[4];
        part.download(out, RESULTS, 4, 0);
        return new LossSum(asDouble(out, 0), Math.round(asDouble(out, 2)));
    }

    /** Its backward: {@code dx = (sig - target) * scale}, 0 where the target is the ignore label. */
    public void sigmoidCrossEntropyLossBackward(long n, DeviceArray sig, DeviceArray target, boolean hasIgnore,
                                                int ignoreLabel, float scale, DeviceArray dx) {
        sameDevice(device, sig, target, dx);
        holdsAll("sigmoid cross-entropy loss backward", "operand", n, sig, target, dx);
        loop("sigmoid_xent_backward", n, n, sig.base(), target.base(), hasIgnore ? 1 : 0, ignoreLabel, scale, dx.base());
    }

    /** SoftmaxWithLoss's backward: {@code dx = (p - onehot(label)) * scale}, 0 at ignored positions. */
    public void softmaxLossBackward(int outer, int channels, int inner, DeviceArray prob, DeviceArray label,
                                    boolean hasIgnore, int ignoreLabel, float scale, DeviceArray dx) {
        sameDevice(device, prob, label, dx);
        softmaxShape("softmax loss backward", outer, channels, inner, prob, dx);
        KernelArgs.holds("softmax loss backward", "label", label.length(), (long) outer * inner);
        loop("softmax_loss_backward", (long) outer * inner, outer, channels, inner, prob.base(), label.base(),
                hasIgnore ? 1 : 0, ignoreLabel, scale, dx.base());
    }

    // ---- BatchNorm and Scale: org.cortado.engine.layers.BatchNorm, layers.Scale ----

    private static void holdsAll(String op, String what, long n, DeviceArray... arrays) {
        for (DeviceArray a : arrays) {
            if (a != null) {
                KernelArgs.holds(op, what, a.length(), n);
            }
        }
    }

    /** An optional operand: its address, or the null pointer the kernel tests for. */
    private static DevicePointer ptr(DeviceArray a) {
        return a == null ? null : a.base();
    }

    /**
     * BatchNorm's statistics on {@code (n, c, s)}: with {@code batch}, the batch's per-channel mean and
     * 1/sqrt(var + eps) into {@code mean} and {@code invStd} and the running sums and {@code factor}
     * updated with {@code fraction}; without, those from the running sums ({@code use_global_stats}).
     */
    public void batchNormStats(boolean batch, int n, int c, int s, float fraction, float eps, DeviceArray x,
                               DeviceArray meanSum, DeviceArray varSum, DeviceArray factor, DeviceArray mean,
                               DeviceArray invStd) {
        sameDevice(device, x, meanSum, varSum, factor, mean, invStd);
        holdsAll("batch norm", "channel statistics", c, meanSum, varSum, mean, invStd);
        KernelArgs.holds("batch norm", "factor", factor.length(), 1);
        if (batch) {
            KernelArgs.holds("batch norm", "x", x.length(), (long) n * c * s);
            device.launch("bn_train_stats", c, 1, 1, THREADS, n, c, s, x.base(), fraction, eps, mean.base(),
                    invStd.base(), meanSum.base(), varSum.base(), factor.base());
        } else {
            loop("bn_global_stats", c, c, meanSum.base(), varSum.base(), factor.base(), eps, mean.base(), invStd.base());
        }
    }

    /**
     * BatchNorm's forward with the statistics of {@link #batchNormStats}: {@code xnorm = (x - mean) * invStd},
     * and {@code y = xnorm}, or {@code gamma * xnorm + beta} with a folded Scale ({@code gamma} non-null,
     * {@code beta} may be null). {@code y} may be {@code x}.
     */
    public void batchNormForward(int n, int c, int s, DeviceArray x, DeviceArray mean, DeviceArray invStd,
                                 DeviceArray gamma, DeviceArray beta, DeviceArray xnorm, DeviceArray y) {
        sameDevice(device, x, mean, invStd, gamma, beta, xnorm, y);
        holdsAll("batch norm", "operand", (long) n * c * s, x, xnorm, y);
        holdsAll("batch norm", "channel vector", c, mean, invStd, gamma, beta);
        loop("bn_forward", (long) n * c * s, n, c, s, x.base(), mean.base(), invStd.base(), ptr(gamma), ptr(beta),
                xnorm.base(), y.base());
    }

    /**
     * BatchNorm's backward ({@code global}: with global statistics): {@code dx} (may be null, or {@code dy}),
     * and with a folded Scale ({@code gamma} non-null) {@code dgamma += sum(dy * xnorm)},
     * {@code dbeta += sum(dy)} ({@code dbeta} may be null).
     */
    public void batchNormBackward(int n, int c, int s, boolean global, DeviceArray xnorm, DeviceArray dy,
                                  DeviceArray invStd, DeviceArray gamma, DeviceArray dgamma, DeviceArray dbeta,
                                  DeviceArray dx) {
        sameDevice(device, xnorm, dy, invStd, gamma, dgamma, dbeta, dx);
        holdsAll("batch norm backward", "operand", (long) n * c * s, xnorm, dy, dx);
        holdsAll("batch norm backward", "channel vector", c, invStd, gamma, dgamma, dbeta);
        if ((gamma == null) != (dgamma == null)) {
            throw new IllegalArgumentException("batch norm backward: gamma and dgamma go together");
        }
        device.launch("bn_backward", c, 1, 1, THREADS, n, c, s, xnorm.base(), dy.base(), invStd.base(), global ? 1 : 0,
                ptr(gamma), ptr(dgamma), ptr(dbeta), ptr(dx));
    }

    /**
     * The Embed layer's forward: row {@code n} of {@code y} ({@code m} rows of {@code k}) is row
     * {@code index[n]} of {@code w} ({@code dim} rows of {@code k}), plus {@code b} when not null. Returns
     * the first position whose index is not an integer in {@code [0, dim)} (its row is 0), or -1; waits for
     * the GPU. {@code bad} is one int of scratch.
     */
    public long embedForward(long m, int k, int dim, DeviceArray index, DeviceArray w, DeviceArray b, DeviceArray y,
                             DeviceArray bad) {
        sameDevice(device, index, w, b, y, bad);
        KernelArgs.holds("embed", "index", index.length(), m);
        KernelArgs.holds("embed", "weights", w.length(), (long) dim * k);
        KernelArgs.holds("embed", "y", y.length(), m * k);
        if (b != null) {
            KernelArgs.holds("embed", "bias", b.length(), k);
        }
        bad.upload(new int[] {0});
        loop("embed_forward", m * k, m, k, dim, index.base(), w.base(), ptr(b), y.base(), bad.base());
        return bad.downloadInts()[0] - 1L;
    }

    /** Its weight gradient: {@code dw[index[n]] += dy[n]} for every {@code n}, in order. */
    public void embedBackward(long m, int k, DeviceArray index, DeviceArray dy, DeviceArray dw) {
        sameDevice(device, index, dy, dw);
        KernelArgs.holds("embed backward", "index", index.length(), m);
        KernelArgs.holds("embed backward", "dy", dy.length(), m * k);
        loop("embed_backward", k, m, k, index.base(), dy.base(), dw.base());
    }

    /**
     * The Reduction layer's forward on {@code (outer, inner)}: each row reduced by {@code op} (the ordinal
     * of {@link org.cortado.engine.layers.Reduction.Op}: SUM, ASUM, SUMSQ, MEAN) and scaled by {@code coeff}.
     */
    public void reductionForward(int outer, long inner, org.cortado.engine.layers.Reduction.Op op, float coeff,
                                 DeviceArray x, DeviceArray y) {
        sameDevice(device, x, y);
        KernelArgs.holds("reduction", "x", x.length(), outer * inner);
        KernelArgs.holds("reduction", "y", y.length(), outer);
        if (outer > 0) {
            device.launch("reduction_forward", outer, 1, 1, THREADS, inner, op.ordinal(), coeff, x.base(), y.base());
        }
    }

    /** Its backward: {@code dx} from {@code dy} (one value per row) and, for ASUM and SUMSQ, {@code x}. */
    public void reductionBackward(int outer, long inner, org.cortado.engine.layers.Reduction.Op op, float coeff,
                                  DeviceArray x, DeviceArray dy, DeviceArray dx) {
        sameDevice(device, x, dy, dx);
        holdsAll("reduction backward", "operand", outer * inner, x, dx);
        KernelArgs.holds("reduction backward", "dy", dy.length(), outer);
        loop("reduction_backward", outer * inner, (long) outer, inner, op.ordinal(), coeff, x.base(), dy.base(),
                dx.base());
    }

    /** The Tile layer's forward: {@code y (outer, tiles, inner)} repeats each row of {@code x (outer, inner)}. */
    public void tileForward(long outer, int tiles, long inner, DeviceArray x, DeviceArray y) {
        sameDevice(device, x, y);
        KernelArgs.holds("tile", "x", x.length(), outer * inner);
        KernelArgs.holds("tile", "y", y.length(), outer * tiles * inner);
        loop("tile_forward", outer * tiles * inner, outer, tiles, inner, x.base(), y.base());
    }

    /** Its backward: {@code dx} the sum of the tiles' gradients, in tile order. */
    public void tileBackward(long outer, int tiles, long inner, DeviceArray dy, DeviceArray dx) {
        sameDevice(device, dy, dx);
        KernelArgs.holds("tile backward", "dy", dy.length(), outer * tiles * inner);
        KernelArgs.holds("tile backward", "dx", dx.length(), outer * inner);
        loop("tile_backward", outer * inner, outer, tiles, inner, dy.base(), dx.base());
    }

    /**
     * MVN.forward on {@code (rows, dim)}: per row, {@code y = (x - mean) / (std + eps)} (with
     * {@code normalize}; else {@code y = x - mean}), the row's {@code 1 / (std + eps)} kept in
     * {@code invStd} as a double (two floats per row) for the backward. {@code y} may be {@code x}.
     */
    public void mvnForward(int rows, long dim, boolean normalize, float eps, DeviceArray x, DeviceArray invStd,
                           DeviceArray y) {
        sameDevice(device, x, invStd, y);
        holdsAll("mvn", "operand", rows * dim, x, y);
        KernelArgs.holds("mvn", "row statistics (2 floats per row)", invStd.length(), 2L * rows);
        if (rows > 0) {
            device.launch("mvn_forward", rows, 1, 1, THREADS, dim, normalize ? 1 : 0, eps, x.base(), invStd.base(),
                    y.base());
        }
    }

    /** MVN.backward (Caffe's formula) with the forward's {@code y} and {@code invStd}; {@code dx} may be {@code dy}. */
    public void mvnBackward(int rows, long dim, boolean normalize, DeviceArray invStd, DeviceArray y, DeviceArray dy,
                            DeviceArray dx) {
        sameDevice(device, invStd, y, dy, dx);
        holdsAll("mvn backward", "operand", rows * dim, y, dy, dx);
        KernelArgs.holds("mvn backward", "row statistics (2 floats per row)", invStd.length(), 2L * rows);
        if (rows > 0) {
            device.launch("mvn_backward", rows, 1, 1, THREADS, dim, normalize ? 1 : 0, invStd.base(), y.base(), dy.base(),
                    dx.base());
        }
    }

    /** Scale.forward on {@code (outer, dim, inner)}: {@code y = x * s[d] (+ b[d])}; {@code b} may be null, {@code y} may be {@code x}. */
    public void scaleForward(int outer, int dim, int inner, DeviceArray x, DeviceArray s, DeviceArray b,
                             DeviceArray y) {
        sameDevice(device, x, s, b, y);
        holdsAll("scale", "operand", (long) outer * dim * inner, x, y);
        holdsAll("scale", "scale vector", dim, s, b);
        loop("scale_forward", (long) outer * dim * inner, outer, dim, inner, x.base(), s.base(), ptr(b), y.base());
    }

    /**
     * Scale.backward: {@code db += sum(dy)}, {@code ds += sum(dy * x)} ({@code ds =} when not
     * {@code accumulate}: the scale is a bottom), {@code dx = dy * s[d]}; {@code db}, {@code ds} and
     * {@code dx} may be null, {@code dx} may be {@code dy}.
     */
    public void scaleBackward(int outer, int dim, int inner, DeviceArray x, DeviceArray dy, DeviceArray s,
                              DeviceArray ds, boolean accumulate, DeviceArray db, DeviceArray dx) {
        sameDevice(device, x, dy, s, ds, db, dx);
        holdsAll("scale backward", "operand", (long) outer * dim * inner, x, dy, dx);
        holdsAll("scale backward", "scale vector", dim, s, ds, db);
        device.launch("scale_backward", dim, 1, 1, THREADS, outer, dim, inner, x.base(), dy.base(), s.base(), ptr(ds),
                accumulate ? 1 : 0, ptr(db), ptr(dx));
    }

    // ---- Eltwise, Dropout, Concat and Slice: org.cortado.engine.layers.Eltwise, Dropout, Concat, Slice ----

    /** The most axes {@link #crop} takes once the axes it can merge are merged. */
    public static final int CROP_RANK = 6;

    /**
     * How {@code crop_copy} walks a crop: y's dims (outermost first, {@link #CROP_RANK} of them, leading
     * ones 1), x's stride for each, and x's index of y's first element. Axes where the window spans x
     * are merged with the axis before them.
     */
    record CropPlan(int[] dims, long[] strides, long base, long count) {
        static CropPlan of(int[] xShape, int[] yShape, int[] offsets) {
            int r = xShape.length;
            long[] stride = new long[r];
            long base = 0;
            long count = 1;
            for (int d = r - 1; d >= 0; d--) {
                stride[d] = d == r - 1 ? 1 : stride[d + 1] * xShape[d + 1];
                base += offsets[d] * stride[d];
                count *= yShape[d];
            }
            java.util.ArrayDeque<long[]> axes = new java.util.ArrayDeque<>(); // (dim, stride), innermost last
            for (int d = 0; d < r; d++) {
                if (!axes.isEmpty() && yShape[d] == xShape[d]) { // i' * stride[d-1] + i * stride[d] = (i' * dim + i) * stride[d]
                    long[] prev = axes.removeLast();
                    axes.addLast(new long[] {prev[0] * yShape[d], stride[d]});
                } else {
                    axes.addLast(new long[] {yShape[d], stride[d]});
                }
            }
            if (axes.size() > CROP_RANK) {
                throw new org.cortado.engine.ShapeException("crop: " + axes.size() + " cropped axes, the GPU takes at most "
                        + CROP_RANK);
            }
            while (axes.size() < CROP_RANK) {
                axes.addFirst(new long[] {1, 0});
            }
            int[] dims = new int[CROP_RANK];
            long[] strides = new long[CROP_RANK];
            int i = 0;
            for (long[] a : axes) {
                dims[i] = Math.toIntExact(a[0]);
                strides[i++] = a[1];
            }
            return new CropPlan(dims, strides, base, count);
        }

        /** x's index of y's element {@code i}, as {@code crop_copy} computes it. */
        long at(long i) {
            long t = i, at = base;
            for (int d = CROP_RANK - 1; d > 0; d--) {
                at += (t % dims[d]) * strides[d];
                t /= dims[d];
            }
            return at + t * strides[0];
        }
    }

    /**
     * Crop.forward ({@code back} false: {@code y} = the window of {@code x} at {@code offsets}) or the copy
     * of its backward ({@code back} true: the window of {@code x}, the bottom's gradient, = {@code y}, the
     * top's; the caller zeroes x first).
     */
    public void crop(int[] xShape, int[] yShape, int[] offsets, DeviceArray x, DeviceArray y, boolean back) {
        sameDevice(device, x, y);
        CropPlan c = CropPlan.of(xShape, yShape, offsets);
        long xCount = 1;
        for (int d : xShape) {
            xCount *= d;
        }
        KernelArgs.holds("crop", "x", x.length(), c.count() == 0 ? 0 : xCount);
        KernelArgs.holds("crop", "y", y.length(), c.count());
        int[] d = c.dims();
        long[] s = c.strides();
        loop("crop_copy", c.count(), c.count(), d[1], d[2], d[3], d[4], d[5], s[0], s[1], s[2], s[3], s[4], s[5], c.base(),
                x.base(), y.base(), back ? 1 : 0);
    }

    /** {@code out = a * b} element by element ({@code out} may be {@code a} or {@code b}): Dropout's mask, Eltwise PROD. */
    public void mul(long n, DeviceArray a, DeviceArray b, DeviceArray out) {
        sameDevice(device, a, b, out);
        holdsAll("mul", "operand", n, a, b, out);
        loop("mul", n, n, a.base(), b.base(), out.base());
    }

    /** {@code y = a * x} ({@code y} may be {@code x}): Eltwise SUM's gradient. */
    public void scaleCopy(long n, float a, DeviceArray x, DeviceArray y) {
        sameDevice(device, x, y);
        holdsAll("scale copy", "operand", n, x, y);
        loop("scale_copy", n, n, a, x.base(), y.base());
    }

    /** {@code y += a * x} rounded as the CPU's loop (the product, then the sum): Eltwise SUM. */
    public void axpyUnfused(long n, float a, DeviceArray x, DeviceArray y) {
        sameDevice(device, x, y);
        holdsAll("axpy", "operand", n, x, y);
        loop("axpy_unfused", n, n, a, x.base(), y.base());
    }

    /** {@code dx = dy * y / x}: Eltwise PROD's gradient without {@code stable_prod_grad}. */
    public void mulDiv(long n, DeviceArray dy, DeviceArray y, DeviceArray x, DeviceArray dx) {
        sameDevice(device, dy, y, x, dx);
        holdsAll("mul div", "operand", n, dy, y, x, dx);
        loop("mul_div", n, n, dy.base(), y.base(), x.base(), dx.base());
    }

    /**
     * Eltwise MAX, forward: {@code y = max(x0, x1)} (a tie goes to bottom 1, as in Caffe) with the winner in
     * {@code argmax} (an int array); then {@link #eltwiseMaxNext} for each further bottom.
     */
    public void eltwiseMaxFirst(long n, DeviceArray x0, DeviceArray x1, DeviceArray y, DeviceArray argmax) {
        sameDevice(device, x0, x1, y, argmax);
        holdsAll("eltwise max", "operand", n, x0, x1, y, argmax);
        loop("eltwise_max_first", n, n, x0.base(), x1.base(), y.base(), argmax.base());
    }

    /** Eltwise MAX, bottom {@code b >= 2}: takes over where strictly greater. */
    public void eltwiseMaxNext(long n, DeviceArray x, int b, DeviceArray y, DeviceArray argmax) {
        sameDevice(device, x, y, argmax);
        holdsAll("eltwise max", "operand", n, x, y, argmax);
        loop("eltwise_max_next", n, n, x.base(), b, y.base(), argmax.base());
    }

    /** Eltwise MAX's gradient for bottom {@code b}: {@code dy} where it won, else 0. */
    public void eltwiseMaxBackward(long n, int b, DeviceArray argmax, DeviceArray dy, DeviceArray dx) {
        sameDevice(device, argmax, dy, dx);
        holdsAll("eltwise max backward", "operand", n, argmax, dy, dx);
        loop("eltwise_max_backward", n, n, b, argmax.base(), dy.base(), dx.base());
    }

    /**
     * Copies {@code rows} rows of {@code width} values: row {@code r} from {@code src} at
     * {@code srcOff + r * srcStride} to {@code dst} at {@code dstOff + r * dstStride} (Concat, Slice).
     */
    public void copyRows(long rows, long width, DeviceArray src, long srcOff, long srcStride, DeviceArray dst,
                         long dstOff, long dstStride) {
        sameDevice(device, src, dst);
        if (rows == 0 || width == 0) {
            return;
        }
        KernelArgs.range("copy rows", (rows - 1) * srcStride + width, srcOff, src.length());
        KernelArgs.range("copy rows", (rows - 1) * dstStride + width, dstOff, dst.length());
        loop("copy_rows", rows * width, rows, width, src.at(srcOff), srcStride, dst.at(dstOff), dstStride);
    }

    // ---- reductions and element-wise: org.cortado.engine.ops.Elementwise ----

    /** Elementwise.sum (or sumsq) of {@code n} elements from {@code off}; waits for the GPU. */
    public double sum(long n, DeviceArray x, long off, boolean squares) {
        return sum(n, x, off, squares, partials());
    }

    private double sum(long n, DeviceArray x, long off, boolean squares, DeviceArray part) {
        sumInto(n, x, off, squares, part, 0);
        float[] out = new float[2];
        part.download(out, RESULTS, 2, 0);
        return asDouble(out, 0);
    }

    /** Launches the sum of {@code x[off, off + n)} into result slot {@code slot} of {@link #partials}. */
    private void sumInto(long n, DeviceArray x, long off, boolean squares, DeviceArray part, int slot) {
        sameDevice(device, x);
        KernelArgs.range("sum", n, off, x.length());
        int parts = Math.min(1024, blocks(n));
        device.launch("reduce_sum_partial", parts, 1, 1, THREADS, n, x.at(off), squares ? 1 : 0, part.base());
        device.launch("reduce_sum_final", 1, 1, 1, 1024, parts, part.base(), part.at(RESULTS + 2L * slot));
    }

    /** The double whose two halves, low first, are {@code f[i]} and {@code f[i + 1]}. */
    private static double asDouble(float[] f, int i) {
        return Double.longBitsToDouble((long) Float.floatToRawIntBits(f[i + 1]) << 32
                | (Float.floatToRawIntBits(f[i]) & 0xffffffffL));
    }

    /** {@code db[c] = beta*db[c] + sum of dy[(i, c, :)]} over {@code (n, c, s)}: a convolution's bias gradient. */
    public void channelSum(int n, int c, long s, DeviceArray dy, float beta, DeviceArray db) {
        sameDevice(device, dy, db);
        KernelArgs.holds("channel sum", "dy", dy.length(), (long) n * c * s);
        KernelArgs.holds("channel sum", "db", db.length(), c);
        device.launch("channel_sum", c, 1, 1, 512, n, c, s, dy.base(), beta, db.base());
    }

    /** {@code db[j] = beta*db[j] + sum over rows of dy[(r, j)]}: an InnerProduct's bias gradient. */
    public void columnSum(long rows, int cols, DeviceArray dy, float beta, DeviceArray db) {
        sameDevice(device, dy, db);
        KernelArgs.holds("column sum", "dy", dy.length(), rows * cols);
        KernelArgs.holds("column sum", "db", db.length(), cols);
        loop("column_sum", cols, rows, cols, dy.base(), beta, db.base());
    }

    /** {@code y[(r, j)] += bias[j]} over a row-major {@code (rows, cols)} y. */
    public void addRowBias(long rows, int cols, DeviceArray bias, DeviceArray y) {
        sameDevice(device, bias, y);
        KernelArgs.holds("row bias", "y", y.length(), rows * cols);
        KernelArgs.holds("row bias", "bias", bias.length(), cols);
        loop("add_row_bias", rows * cols, rows, cols, bias.base(), y.base());
    }

    /** Elementwise.axpy: {@code y += a * x}. */
    public void axpy(long n, float a, DeviceArray x, DeviceArray y) {
        sameDevice(device, x, y);
        KernelArgs.holds("axpy", "x", x.length(), n);
        KernelArgs.holds("axpy", "y", y.length(), n);
        loop("axpy", n, n, a, x.base(), y.base());
    }

    /** Elementwise.scale: {@code x *= a}. */
    public void scale(long n, float a, DeviceArray x) {
        KernelArgs.holds("scale", "x", x.length(), n);
        loop("scale", n, n, a, x.base());
    }

    /** Every element of the first {@code n} set to {@code v}. */
    public void fill(long n, float v, DeviceArray x) {
        KernelArgs.holds("fill", "x", x.length(), n);
        loop("fill", n, n, v, x.base());
    }

    // ---- solver updates: org.cortado.engine.ops.Updates ----

    /** Updates.sgd, fused; {@code g} is read only. */
    public void sgdUpdate(long n, float a, float mu, float decay, boolean l1, boolean nesterov, DeviceArray w,
                          DeviceArray g, DeviceArray h) {
        sameDevice(device, w, g, h);
        for (DeviceArray x : new DeviceArray[] {w, g, h}) {
            KernelArgs.holds("sgd update", "operand", x.length(), n);
        }
        loop("sgd_update", n, n, a, mu, decay, l1 ? 1 : 0, nesterov ? 1 : 0, w.base(), g.base(), h.base());
    }

    /** The adaptive rules of Solver (AdaGrad, RMSProp, AdaDelta), each the CPU's loop fused. */
    public enum Adaptive { ADAGRAD, RMSPROP, ADADELTA }

    /**
     * Solver's AdaGrad / RMSProp ({@code mu} is {@code rms_decay}) / AdaDelta ({@code h2} its second
     * history, null for the others) update, after the same regularization; {@code g} is read only.
     */
    public void adaptiveUpdate(Adaptive rule, long n, float a, float mu, float delta, float decay, boolean l1,
                               DeviceArray w, DeviceArray g, DeviceArray h, DeviceArray h2) {
        sameDevice(device, w, g, h, h2);
        holdsAll("adaptive update", "operand", n, w, g, h, h2);
        if ((rule == Adaptive.ADADELTA) != (h2 != null)) {
            throw new IllegalArgumentException("adaptive update: AdaDelta, and only AdaDelta, has a second history");
        }
        loop("adaptive_update", n, n, rule.ordinal(), a, mu, delta, decay, l1 ? 1 : 0, w.base(), g.base(), h.base(), ptr(h2));
    }

    /** Updates.adam, fused; {@code g} is read only. */
    public void adamUpdate(long n, float a, float step, float mu, float mu2, float delta, float decay, boolean l1,
                           boolean adamw, DeviceArray w, DeviceArray g, DeviceArray h, DeviceArray h2) {
        sameDevice(device, w, g, h, h2);
        for (DeviceArray x : new DeviceArray[] {w, g, h, h2}) {
            KernelArgs.holds("adam update", "operand", x.length(), n);
        }
        loop("adam_update", n, n, a, step, mu, mu2, delta, decay, l1 ? 1 : 0, adamw ? 1 : 0, w.base(), g.base(),
                h.base(), h2.base());
    }
}
