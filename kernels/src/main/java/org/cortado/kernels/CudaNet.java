package org.cortado.kernels;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.cortado.engine.ConfigException;
import org.cortado.engine.layers.Convolution;
import org.cortado.engine.layers.InnerProduct;
import org.cortado.engine.layers.Input;
import org.cortado.engine.layers.Layer;
import org.cortado.engine.layers.Pooling;
import org.cortado.engine.layers.ReLU;
import org.cortado.engine.layers.SoftmaxWithLoss;
import org.cortado.engine.net.Net;
import org.cortado.engine.solver.Param;
import org.cortado.engine.solver.Solver;
import org.cortado.engine.solver.SolverConfig;
import org.cortado.engine.tensor.Blob;

/**
 * Trains an engine {@link Net} on one GPU: every blob's data and gradient live in GPU memory for the
 * whole run, each layer runs as {@link CudaOps} calls, and the solver's update is the fused kernel. Only
 * the batch goes up and the loss comes down each step; {@link #downloadWeights()} brings the weights back
 * into the net's blobs (for snapshots, tests and evaluation on the CPU).
 *
 * <p>The net is built on the CPU as usual (same config, same seed, so the same initial weights); the
 * layers' own setup (shapes, geometry, Caffe's semantics) is read from the engine layers, not repeated.
 * Layer types without a GPU path yet are refused when the net is opened, naming the layer.
 */
public final class CudaNet implements AutoCloseable {
    /** Layer types this class runs on the GPU. */
    public static final Set<String> SUPPORTED = Set.of("Input", "Convolution", "InnerProduct", "Pooling", "ReLU",
            "SoftmaxWithLoss");

    private final CudaDevice device;
    private final CudaOps ops;
    private final Net net;
    private final Solver solver;
    private final SolverConfig config;
    private final CudaOps.Precision precision;
    private final Map<Blob, DeviceArray> data = new IdentityHashMap<>();
    private final Map<Blob, DeviceArray> diff = new IdentityHashMap<>();
    private final Map<String, DeviceArray[]> history = new LinkedHashMap<>();
    private final List<Param> params = new ArrayList<>();
    private final List<CudaOps.ConvWorkspace> workspaces = new ArrayList<>();
    private final Map<Layer, DeviceArray> masks = new IdentityHashMap<>();
    private final Map<Layer, DeviceArray> probs = new IdentityHashMap<>();
    private final Map<Layer, DeviceArray> lossScratches = new IdentityHashMap<>();
    private final Map<Layer, Long> lossValid = new IdentityHashMap<>(); // positions counted in the last forward
    private long iter;
    private boolean profiling;
    private long[] forwardNanos;
    private long[] backwardNanos;

    /**
     * Opens {@code net} (TRAIN phase, shapes set) on {@code device}; {@code solver} gives the update rule
     * and the learning rate of each iteration (its history stays unused: the GPU keeps its own).
     */
    public CudaNet(CudaDevice device, Net net, Solver solver, CudaOps.Precision precision) {
        SolverConfig solverConfig = solver.config();
        this.device = device;
        this.net = net;
        this.config = solverConfig;
        this.solver = solver;
        this.precision = precision;
        for (Layer l : net.layers()) {
            if (!SUPPORTED.contains(l.type())) {
                throw new ConfigException("layer '" + l.name() + "' of type " + l.type()
                        + " has no CUDA implementation yet (on the GPU: " + String.join(", ", new java.util.TreeSet<>(SUPPORTED))
                        + "); train this net on the CPU");
            }
            if (l instanceof Pooling p && p.method() == Pooling.Method.STOCHASTIC) {
                throw new ConfigException("layer '" + l.name() + "': STOCHASTIC pooling has no CUDA implementation yet");
            }
        }
        switch (solverConfig.type()) {
            case SGD, NESTEROV, ADAM, ADAMW -> { }
            default -> throw new ConfigException("solver type " + solverConfig.type()
                    + " has no CUDA update yet (on the GPU: SGD, Nesterov, Adam, AdamW)");
        }
        if (solverConfig.iterSize() > 1 || solverConfig.clipGradients() > 0) {
            throw new ConfigException("iter_size > 1 and clip_gradients have no CUDA path yet");
        }
        this.ops = device.call(() -> {
            CudaOps o = new CudaOps(device);
            for (String name : net.blobNames()) {
                Blob b = net.blob(name);
                data.put(b, device.floats(Math.max(1, b.count())));
                diff.put(b, device.floats(Math.max(1, b.count())));
            }
            java.util.Set<Blob> seen = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
            for (Param p : net.params()) {
                if (seen.add(p.blob())) {
                    params.add(p);
                    data.put(p.blob(), device.upload(p.blob().x()));
                    diff.put(p.blob(), device.floats(p.blob().count()));
                    DeviceArray h = device.floats(p.blob().count());
                    o.fill(h.length(), 0f, h);
                    DeviceArray h2 = null;
                    if (solverConfig.type() == SolverConfig.Type.ADAM || solverConfig.type() == SolverConfig.Type.ADAMW) {
                        h2 = device.floats(p.blob().count());
                        o.fill(h2.length(), 0f, h2);
                    }
                    history.put(p.name(), new DeviceArray[] {h, h2});
                }
            }
            for (Layer l : net.layers()) {
                if (l instanceof Convolution) {
                    workspaces.add(new CudaOps.ConvWorkspace());
                } else if (l instanceof Pooling p && p.method() == Pooling.Method.MAX) {
                    masks.put(l, device.ints((long) p.planes() * p.geom().outSize()));
                } else if (l instanceof SoftmaxWithLoss s) {
                    probs.put(l, device.floats((long) s.outer() * s.channels() * s.inner()));
                }
            }
            return o;
        });
    }

    public Net net() {
        return net;
    }

    public long iter() {
        return iter;
    }

    /**
     * Per-layer timing on (totals cleared) or off. While on, every layer waits for its kernels, so the
     * times are the layers' own and the step is slower.
     */
    public void profile(boolean on) {
        profiling = on;
        if (on) {
            forwardNanos = new long[net.layers().size()];
            backwardNanos = new long[net.layers().size()];
        }
    }

    /** Milliseconds of layer {@code l}'s forward and backward, summed while profiling. */
    public double[] layerMillis(int l) {
        return new double[] {forwardNanos[l] / 1e6, backwardNanos[l] / 1e6};
    }

    private long mark() {
        if (!profiling) {
            return 0;
        }
        device.synchronize();
        return System.nanoTime();
    }

    /**
     * One training step on a batch: {@code inputs} fill the net's input blobs in order (the data, then
     * the labels). Returns the loss of the forward pass.
     */
    public double step(float[]... inputs) {
        return device.call(() -> {
            List<Blob> in = net.inputs();
            if (inputs.length != in.size()) {
                throw new IllegalArgumentException("the net has " + in.size() + " inputs, got " + inputs.length);
            }
            for (int i = 0; i < inputs.length; i++) {
                KernelArgs.holds("input '" + in.get(i).name() + "'", "batch", inputs[i].length, in.get(i).count());
                data.get(in.get(i)).upload(inputs[i], 0, in.get(i).count(), 0);
            }
            double loss = forward();
            backward();
            update();
            iter++;
            return loss;
        });
    }

    private DeviceArray x(Blob b) {
        return data.get(b);
    }

    private DeviceArray dx(Blob b) {
        return diff.get(b);
    }

    private double forward() {
        double loss = 0;
        int conv = 0;
        List<Layer> layers = net.layers();
        for (int l = 0; l < layers.size(); l++) {
            Layer layer = layers.get(l);
            List<Blob> bottom = net.bottomsOf(l), top = net.topsOf(l);
            long t0 = mark();
            switch (layer) {
                case Input in -> { }
                case Convolution c -> {
                    CudaOps.ConvWorkspace ws = workspaces.get(conv++);
                    for (int i = 0; i < bottom.size(); i++) {
                        ops.convForward(precision, bottom.get(i).dim(0), c.geom(), c.numOutput(), c.group(),
                                x(bottom.get(i)), x(c.params().get(0)), c.biasTerm() ? x(c.params().get(1)) : null,
                                x(top.get(i)), ws);
                    }
                }
                case InnerProduct ip -> {
                    int m = ip.rows(), n = ip.numOutput(), k = ip.inputs();
                    DeviceArray y = x(top.get(0));
                    ops.gemm(precision, false, !ip.transpose(), m, n, k, 1f, x(bottom.get(0)), 0, k,
                            x(ip.params().get(0)), 0, ip.transpose() ? n : k, 0f, y, 0, n);
                    if (ip.biasTerm()) {
                        ops.addRowBias(m, n, x(ip.params().get(1)), y);
                    }
                }
                case Pooling p -> {
                    if (p.method() == Pooling.Method.MAX) {
                        ops.maxPoolForward(p.geom(), p.planes(), x(bottom.get(0)), x(top.get(0)), masks.get(p));
                    } else {
                        ops.avePoolForward(p.geom(), p.planes(), x(bottom.get(0)), x(top.get(0)));
                    }
                }
                case ReLU r -> ops.activationForward(CudaOps.Activation.RELU, r.negativeSlope(), bottom.get(0).count(),
                        x(bottom.get(0)), x(top.get(0)));
                case SoftmaxWithLoss s -> {
                    DeviceArray prob = probs.get(s);
                    ops.softmaxForward(s.outer(), s.channels(), s.inner(), x(bottom.get(0)), prob);
                    CudaOps.LossSum sum = lossSum(s, prob, bottom.get(1));
                    double normalizer = s.normalization().normalizer((double) s.outer() * s.inner(), sum.valid(),
                            s.outer());
                    float value = (float) (sum.loss() / normalizer);
                    x(top.get(0)).upload(new float[] {value});
                    loss += net.lossWeight(l, 0) * value;
                    lossValid.put(s, sum.valid());
                }
                default -> throw new IllegalStateException("unsupported layer " + layer.type());
            }
            if (profiling) {
                forwardNanos[l] += mark() - t0;
            }
        }
        return loss;
    }

    private CudaOps.LossSum lossSum(SoftmaxWithLoss s, DeviceArray prob, Blob label) {
        long positions = (long) s.outer() * s.inner();
        DeviceArray scratch = lossScratches.computeIfAbsent(s, k -> device.floats(2 * positions + 1));
        return ops.softmaxLoss(s.outer(), s.channels(), s.inner(), prob, x(label), s.ignoreLabel().isPresent(),
                s.ignoreLabel().orElse(0), scratch);
    }

    private void backward() {
        for (Param p : params) {
            ops.fill(p.blob().count(), 0f, dx(p.blob()));
        }
        List<Layer> layers = net.layers();
        int conv = workspaces.size();
        for (int l = layers.size() - 1; l >= 0; l--) {
            Layer layer = layers.get(l);
            if (layer instanceof Convolution) {
                conv--;
            }
            if (!net.needsBackward(l)) {
                continue;
            }
            List<Blob> bottom = net.bottomsOf(l), top = net.topsOf(l);
            long t0 = mark();
            switch (layer) {
                case Input in -> { }
                case Convolution c -> {
                    CudaOps.ConvWorkspace ws = workspaces.get(conv);
                    for (int i = 0; i < bottom.size(); i++) {
                        ops.convBackward(precision, bottom.get(i).dim(0), c.geom(), c.numOutput(), c.group(),
                                x(bottom.get(i)), x(c.params().get(0)), dx(top.get(i)), dx(c.params().get(0)),
                                c.biasTerm() ? dx(c.params().get(1)) : null, propagates(l, i) ? dx(bottom.get(i)) : null,
                                ws);
                    }
                }
                case InnerProduct ip -> {
                    int m = ip.rows(), n = ip.numOutput(), k = ip.inputs();
                    DeviceArray xb = x(bottom.get(0)), dy = dx(top.get(0));
                    DeviceArray w = x(ip.params().get(0)), dw = dx(ip.params().get(0));
                    if (ip.transpose()) {
                        ops.gemm(precision, true, false, k, n, m, 1f, xb, 0, k, dy, 0, n, 1f, dw, 0, n);
                    } else {
                        ops.gemm(precision, true, false, n, k, m, 1f, dy, 0, n, xb, 0, k, 1f, dw, 0, k);
                    }
                    if (ip.biasTerm()) {
                        ops.columnSum(m, n, dy, 1f, dx(ip.params().get(1)));
                    }
                    if (propagates(l, 0)) {
                        ops.gemm(precision, false, ip.transpose(), m, k, n, 1f, dy, 0, n, w, 0, ip.transpose() ? n : k,
                                0f, dx(bottom.get(0)), 0, k);
                    }
                }
                case Pooling p -> {
                    if (p.method() == Pooling.Method.MAX) {
                        ops.maxPoolBackward(p.geom(), p.planes(), dx(top.get(0)), masks.get(p), dx(bottom.get(0)));
                    } else {
                        ops.avePoolBackward(p.geom(), p.planes(), dx(top.get(0)), dx(bottom.get(0)));
                    }
                }
                case ReLU r -> ops.activationBackward(CudaOps.Activation.RELU, r.negativeSlope(), bottom.get(0).count(),
                        x(bottom.get(0)), dx(top.get(0)), dx(bottom.get(0)));
                case SoftmaxWithLoss s -> {
                    double normalizer = s.normalization().normalizer((double) s.outer() * s.inner(), lossValid.get(s),
                            s.outer());
                    float scale = (float) (net.lossWeight(l, 0) / normalizer);
                    ops.softmaxLossBackward(s.outer(), s.channels(), s.inner(), probs.get(s), x(bottom.get(1)),
                            s.ignoreLabel().isPresent(), s.ignoreLabel().orElse(0), scale, dx(bottom.get(0)));
                }
                default -> throw new IllegalStateException("unsupported layer " + layer.type());
            }
            if (profiling) {
                backwardNanos[l] += mark() - t0;
            }
        }
    }

    private boolean propagates(int l, int bottom) {
        return net.propagatesDown(l, bottom);
    }

    private void update() {
        float rate = (float) solver.rate(iter);
        float mu = config.momentum();
        boolean l1 = config.regularization() == SolverConfig.Regularization.L1;
        for (Param p : params) {
            float a = rate * p.lrMult();
            float decay = config.weightDecay() * p.decayMult();
            DeviceArray[] h = history.get(p.name());
            long n = p.blob().count();
            switch (config.type()) {
                case SGD, NESTEROV -> ops.sgdUpdate(n, a, mu, decay, l1, config.type() == SolverConfig.Type.NESTEROV,
                        x(p.blob()), dx(p.blob()), h[0]);
                default -> {
                    long t = iter + 1;
                    float mu2 = config.momentum2();
                    float correction = (float) (Math.sqrt(1 - Math.pow(mu2, t)) / (1 - Math.pow(mu, t)));
                    ops.adamUpdate(n, a, a * correction, mu, mu2, config.delta(), decay, l1,
                            config.type() == SolverConfig.Type.ADAMW, x(p.blob()), dx(p.blob()), h[0], h[1]);
                }
            }
        }
    }

    /** Copies the GPU's weights back into the net's parameter blobs. */
    public void downloadWeights() {
        device.call(() -> {
            for (Param p : params) {
                x(p.blob()).download(p.blob().x(), 0, p.blob().count(), 0);
            }
            return null;
        });
    }

    /** Waits until every launched kernel has finished. */
    public void synchronize() {
        device.call(() -> {
            device.synchronize();
            return null;
        });
    }

    @Override
    public void close() {
        device.call(() -> {
            for (DeviceArray a : data.values()) {
                a.close();
            }
            for (DeviceArray a : diff.values()) {
                a.close();
            }
            for (DeviceArray[] h : history.values()) {
                for (DeviceArray a : h) {
                    if (a != null) {
                        a.close();
                    }
                }
            }
            for (CudaOps.ConvWorkspace w : workspaces) {
                w.close();
            }
            masks.values().forEach(DeviceArray::close);
            probs.values().forEach(DeviceArray::close);
            lossScratches.values().forEach(DeviceArray::close);
            return null;
        });
    }
}
