package org.cortado.kernels;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.cortado.engine.ConfigException;
import org.cortado.engine.layers.AbsVal;
import org.cortado.engine.layers.Accuracy;
import org.cortado.engine.layers.BNLL;
import org.cortado.engine.layers.Bias;
import org.cortado.engine.layers.Clip;
import org.cortado.engine.layers.Exp;
import org.cortado.engine.layers.Log;
import org.cortado.engine.layers.Power;
import org.cortado.engine.layers.Swish;
import org.cortado.engine.layers.Threshold;
import org.cortado.engine.layers.BatchNorm;
import org.cortado.engine.layers.ELU;
import org.cortado.engine.layers.Embed;
import org.cortado.engine.layers.EuclideanLoss;
import org.cortado.engine.layers.LRN;
import org.cortado.engine.layers.MVN;
import org.cortado.engine.layers.PReLU;
import org.cortado.engine.layers.Concat;
import org.cortado.engine.layers.Convolution;
import org.cortado.engine.layers.Crop;
import org.cortado.engine.layers.Deconvolution;
import org.cortado.engine.layers.Dropout;
import org.cortado.engine.layers.Eltwise;
import org.cortado.engine.layers.Flatten;
import org.cortado.engine.layers.InnerProduct;
import org.cortado.engine.layers.Input;
import org.cortado.engine.layers.Layer;
import org.cortado.engine.layers.Pooling;
import org.cortado.engine.layers.ReLU;
import org.cortado.engine.layers.Reduction;
import org.cortado.engine.layers.Reshape;
import org.cortado.engine.layers.Scale;
import org.cortado.engine.layers.SigmoidCrossEntropyLoss;
import org.cortado.engine.layers.Sigmoid;
import org.cortado.engine.layers.Silence;
import org.cortado.engine.layers.Slice;
import org.cortado.engine.layers.Softmax;
import org.cortado.engine.layers.SoftmaxWithLoss;
import org.cortado.engine.layers.Split;
import org.cortado.engine.layers.TanH;
import org.cortado.engine.layers.Tile;
import org.cortado.engine.net.Net;
import org.cortado.engine.solver.Param;
import org.cortado.engine.tensor.Blob;

/**
 * Runs an engine {@link Net}'s layers, or one pipeline stage's contiguous share of them, on one GPU:
 * every blob those layers touch has its data and gradient in GPU memory, and each layer runs as
 * {@link CudaOps} calls. The caller puts the inputs up and takes the outputs down; nothing else crosses
 * between host and GPU, except for Dropout, whose mask is drawn on the host from the layer's own stream
 * (so the GPU drops exactly what the CPU would) and goes up, and the layers that run on the host.
 *
 * <p>A layer without CUDA kernels ({@link #onHost}: the losses other than SoftmaxWithLoss,
 * SigmoidCrossEntropyLoss and EuclideanLoss, ArgMax, STOCHASTIC pooling, ...) runs as Caffe runs a layer
 * without a GPU implementation: its blobs come down into their host arrays, the engine's own layer runs
 * on them, and what it wrote goes up again (the tops and params after its forward; the bottoms' and
 * params' gradients after its backward). Accuracy, a metric with small inputs, always runs so. The
 * result is the CPU's, at the cost of those copies.
 *
 * <p>The net is built on the CPU as usual (same config, same seed, so the same initial weights) and its
 * layers' own setup (shapes, geometry, Caffe's semantics) is read from the engine layers, not repeated;
 * {@link #setBatchSize} reshapes them and grows the GPU arrays when needed. Replicas of a stage (one per
 * micro-batch) and its TEST net share their params on the GPU as their engine nets share them
 * ({@link Net#shareParamsWith}).
 *
 * <p>Like {@link Net#backward(int, int, double)}, {@link #backward} adds into the params' gradients;
 * {@link CudaSolver#step} applies them and clears them.
 */
public final class CudaNet implements AutoCloseable {
    /** Layer types with CUDA kernels; the others run on the host (see {@link #onHost}). */
    public static final Set<String> KERNELS = Set.of("Input", "Convolution", "InnerProduct", "Pooling", "ReLU",
            "Sigmoid", "TanH", "ELU", "PReLU", "LRN", "BatchNorm", "Scale", "Dropout", "Eltwise", "Concat", "Slice", "Flatten", "Reshape",
            "SoftmaxWithLoss", "Split", "Deconvolution", "Crop", "Softmax", "EuclideanLoss",
            "AbsVal", "Power", "Exp", "Log", "BNLL", "Clip", "Threshold", "Swish", "Bias", "MVN",
            "SigmoidCrossEntropyLoss", "Reduction", "Tile", "Silence", "Embed");

    private final CudaDevice device;
    private final CudaOps ops;
    private final Net net;
    private final int from;
    private final int to;
    private final CudaOps.Precision precision;
    private final Map<Blob, DeviceArray> data = new IdentityHashMap<>();
    private final Map<Blob, DeviceArray> diff = new IdentityHashMap<>();
    /** The learnable blobs of this net's layers that this net allocated (the others belong to the net it shares with). */
    private final Set<Blob> ownParams = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    /** The learnable blobs of this net's layers, whichever net allocated them. */
    private final Set<Blob> layerParams = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    private final List<Param> params = new ArrayList<>();
    private final Map<Layer, CudaOps.ConvWorkspace> workspaces = new IdentityHashMap<>();
    /** Per-layer scratch: pooling masks, softmax probabilities, BatchNorm statistics, Dropout masks, ... */
    private final Map<Scratch, DeviceArray> scratch = new java.util.HashMap<>();
    private final Map<Layer, Long> lossValid = new IdentityHashMap<>(); // positions counted in the last forward
    /** Per layer of the range: whether it runs on the host (see {@link #onHost}); set for the current shapes. */
    private final boolean[] host;
    private final Set<String> hostTypes; // types run on the host although they have kernels (tests)
    private long iter;
    private boolean profiling;
    private long[] forwardNanos;
    private long[] backwardNanos;

    /**
     * The layers of {@code net}'s range {@code [from, to)} that run on the host for lack of CUDA kernels,
     * each as {@code 'name' (Type)} and why when the type has kernels but not for this use; Accuracy, which
     * always runs there, is not listed. Needs no GPU.
     */
    public static List<String> onHost(Net net, int from, int to) {
        List<String> out = new ArrayList<>();
        for (int l = from; l < to; l++) {
            Layer layer = net.layers().get(l);
            if (layer instanceof Accuracy) {
                continue;
            }
            hostReason(net, l).ifPresent(why -> out.add("'" + layer.name() + "' (" + layer.type()
                    + (why.isEmpty() ? "" : ", " + why) + ")"));
        }
        return out;
    }

    /** Why layer {@code l} runs on the host ("" for a type without kernels), or empty when it runs on the GPU. */
    private static Optional<String> hostReason(Net net, int l) {
        Layer layer = net.layers().get(l);
        if (!KERNELS.contains(layer.type())) {
            return Optional.of("");
        }
        if (layer instanceof Pooling p && p.method() == Pooling.Method.STOCHASTIC) {
            return Optional.of("STOCHASTIC");
        }
        if (layer instanceof Crop c) {
            try {
                CudaOps.CropPlan.of(net.bottomsOf(l).get(0).shape(), net.topsOf(l).get(0).shape(), c.offsets());
            } catch (org.cortado.engine.ShapeException e) {
                return Optional.of(e.getMessage());
            }
        }
        return Optional.empty();
    }

    /** The whole of {@code net} on {@code device}, its params uploaded from the net's blobs. */
    public static CudaNet open(CudaDevice device, Net net, CudaOps.Precision precision) {
        return new CudaNet(device, net, 0, net.layers().size(), null, precision, Set.of());
    }

    /**
     * Layers {@code [from, to)} of {@code net} on {@code device}. Params that {@code net} shares with the
     * net of {@code sharing} (its replicas, its TEST net) use {@code sharing}'s GPU arrays; the others
     * are uploaded from the net's blobs. Every array is allocated here, for the net's current batch
     * size, so a run that does not fit fails now, saying how much it needed.
     */
    public static CudaNet open(CudaDevice device, Net net, int from, int to, CudaNet sharing, CudaOps.Precision precision) {
        return new CudaNet(device, net, from, to, sharing, precision, Set.of());
    }

    /**
     * Tests: the whole of {@code net}, with the layers of {@code hostTypes} run on the host although they
     * have kernels (so that the host path is tested on layers with params, in place, ...).
     */
    static CudaNet openWithHostTypes(CudaDevice device, Net net, CudaOps.Precision precision, Set<String> hostTypes) {
        return new CudaNet(device, net, 0, net.layers().size(), null, precision, hostTypes);
    }

    private CudaNet(CudaDevice device, Net net, int from, int to, CudaNet sharing, CudaOps.Precision precision,
                    Set<String> hostTypes) {
        java.util.Objects.checkFromToIndex(from, to, net.layers().size());
        this.device = device;
        this.net = net;
        this.from = from;
        this.to = to;
        this.precision = precision;
        this.hostTypes = hostTypes;
        this.host = new boolean[to - from];
        for (int l = from; l < to; l++) {
            layerParams.addAll(net.layers().get(l).params());
        }
        this.ops = device.call(() -> {
            CudaOps o = new CudaOps(device);
            try {
                allocate(o, sharing);
            } catch (RuntimeException e) {
                release();
                throw e;
            }
            return o;
        });
    }

    private void allocate(CudaOps o, CudaNet sharing) {
        for (int l = from; l < to; l++) {
            Layer layer = net.layers().get(l);
            for (Blob b : layer.params()) {
                if (data.containsKey(b)) {
                    continue;
                }
                DeviceArray x = sharing == null ? null : sharing.data.get(b);
                if (x != null) {
                    data.put(b, x);
                    diff.put(b, sharing.diff.get(b));
                } else {
                    data.put(b, device.upload(java.util.Arrays.copyOf(b.x(), b.count())));
                    DeviceArray g = device.floats(b.count());
                    o.fill(b.count(), 0f, g);
                    diff.put(b, g);
                    ownParams.add(b);
                }
            }
        }
        for (Param p : net.params()) {
            if (data.containsKey(p.blob()) && params.stream().noneMatch(q -> q.blob() == p.blob())) {
                params.add(p);
            }
        }
        fit(o);
    }

    /** Every blob's arrays and every layer's scratch, grown to the net's current shapes. */
    private void fit(CudaOps o) {
        for (Blob b : blobs()) {
            sized(data, b);
            DeviceArray before = diff.get(b);
            DeviceArray g = sized(diff, b);
            if (g != before) { // zero, as the CPU's fresh arrays: a gradient no layer writes (Crop's bottom 1, a
                o.fill(g.length(), 0f, g); // metric's input) still enters the sum a Split's backward makes
            }
        }
        for (int l = from; l < to; l++) {
            Layer layer = net.layers().get(l);
            host[l - from] = layer instanceof Accuracy || hostTypes.contains(layer.type()) || hostReason(net, l).isPresent();
            scratch(l);
        }
    }

    /** The non-param blobs this net's layers read and write, each once. */
    private Set<Blob> blobs() {
        Set<Blob> out = new LinkedHashSet<>();
        for (int l = from; l < to; l++) {
            out.addAll(net.bottomsOf(l));
            out.addAll(net.topsOf(l));
        }
        out.removeIf(layerParams::contains);
        return out;
    }

    /** The blob's array in {@code map}, (re)allocated when missing or smaller than the blob now is. */
    private DeviceArray sized(Map<Blob, DeviceArray> map, Blob b) {
        return sized(map, b, Math.max(1, b.count()), DeviceArray.Type.FLOAT);
    }

    private <K> DeviceArray sized(Map<K, DeviceArray> map, K key, long length, DeviceArray.Type type) {
        DeviceArray a = map.get(key);
        if (a != null && a.length() >= length) {
            return a;
        }
        if (a != null) {
            a.close();
        }
        a = type == DeviceArray.Type.FLOAT ? device.floats(length) : device.ints(length);
        map.put(key, a);
        return a;
    }

    /** The kernel of an element-wise layer of {@link CudaOps.Neuron}, and its constants as the kernels take them. */
    private static CudaOps.Neuron neuron(Layer layer) {
        return switch (layer) {
            case AbsVal _ -> CudaOps.Neuron.ABSVAL;
            case Power _ -> CudaOps.Neuron.POWER;
            case Exp _ -> CudaOps.Neuron.EXP;
            case Log _ -> CudaOps.Neuron.LOG;
            case BNLL _ -> CudaOps.Neuron.BNLL;
            case Clip _ -> CudaOps.Neuron.CLIP;
            case Threshold _ -> CudaOps.Neuron.THRESHOLD;
            case Swish _ -> CudaOps.Neuron.SWISH;
            default -> throw new IllegalArgumentException("not an element-wise layer: " + layer.type());
        };
    }

    private static List<Object> neuronConstants(Layer layer) {
        return switch (layer) {
            // power - 1 in float, as Power's backward rounds it
            case Power p -> List.of((double) p.power(), (double) (p.power() - 1), (double) p.scale(), (double) p.shift());
            case Exp e -> List.of(e.inner(), e.outer());
            case Log g -> List.of(g.scale(), g.shift(), g.logBase());
            case Clip c -> List.of(c.min(), c.max());
            case Threshold t -> List.of(t.threshold());
            case Swish w -> List.of(w.beta());
            default -> List.of();
        };
    }

    private void neuronForward(Layer layer, Blob bottom, Blob top) {
        ops.neuronForward(neuron(layer), bottom.count(), neuronConstants(layer), x(bottom),
                layer instanceof Swish ? scratch(layer, "sig") : null, x(top));
    }

    /** {@code xOrY}: what the layer's backward reads, its input or (Exp, Swish) its output. */
    private void neuronBackward(Layer layer, Blob bottom, DeviceArray xOrY, Blob top) {
        ops.neuronBackward(neuron(layer), bottom.count(), neuronConstants(layer), xOrY,
                layer instanceof Swish ? scratch(layer, "sig") : null, dx(top), dx(bottom));
    }

    /** A layer's scratch array, by what it holds. */
    private record Scratch(Layer layer, String what) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Scratch k && k.layer == layer && k.what.equals(what);
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(layer) * 31 + what.hashCode();
        }
    }

    private DeviceArray scratch(Layer layer, String what) {
        return scratch.get(new Scratch(layer, what));
    }

    private void scratch(Layer layer, String what, long length, DeviceArray.Type type) {
        sized(scratch, new Scratch(layer, what), Math.max(1, length), type);
    }

    /** Layer {@code l}'s scratch arrays (and convolution workspace) for the current shapes. */
    private void scratch(int l) {
        Layer layer = net.layers().get(l);
        long in = net.bottomsOf(l).isEmpty() ? 0 : net.bottomsOf(l).get(0).count();
        switch (layer) {
            case Convolution c -> workspaces.computeIfAbsent(c, k -> new CudaOps.ConvWorkspace());
            case Deconvolution d -> workspaces.computeIfAbsent(d, k -> new CudaOps.ConvWorkspace());
            case Pooling p when p.method() == Pooling.Method.MAX ->
                    scratch(p, "mask", (long) p.planes() * p.geom().outSize(), DeviceArray.Type.INT);
            case SoftmaxWithLoss s -> {
                scratch(s, "prob", (long) s.outer() * s.channels() * s.inner(), DeviceArray.Type.FLOAT);
                scratch(s, "loss", 2L * s.outer() * s.inner(), DeviceArray.Type.FLOAT);
            }
            case BatchNorm bn -> {
                scratch(bn, "mean", bn.channels(), DeviceArray.Type.FLOAT);
                scratch(bn, "invStd", bn.channels(), DeviceArray.Type.FLOAT);
                scratch(bn, "xnorm", in, DeviceArray.Type.FLOAT);
            }
            case Dropout d -> scratch(d, "mask", in, DeviceArray.Type.FLOAT);
            case Swish w -> scratch(w, "sig", in, DeviceArray.Type.FLOAT);
            case EuclideanLoss e -> scratch(e, "diff", in, DeviceArray.Type.FLOAT);
            case SigmoidCrossEntropyLoss s -> {
                scratch(s, "sig", in, DeviceArray.Type.FLOAT);
                scratch(s, "loss", 2 * in, DeviceArray.Type.FLOAT);
            }
            case LRN n -> scratch(n, "scale", in, DeviceArray.Type.FLOAT);
            case MVN m -> scratch(m, "invStd", 2L * m.rows(), DeviceArray.Type.FLOAT); // a double per row
            case Embed e -> scratch(e, "bad", 1, DeviceArray.Type.INT);
            case PReLU p when net.topsOf(l).get(0) == net.bottomsOf(l).get(0) ->
                    scratch(p, "x", in, DeviceArray.Type.FLOAT); // in place: the input, for the gradients
            case Eltwise e when e.op() == Eltwise.Op.MAX -> scratch(e, "argmax", in, DeviceArray.Type.INT);
            case Scale sc when !sc.folded() && net.topsOf(l).get(0) == net.bottomsOf(l).get(0) ->
                    scratch(sc, "x", in, DeviceArray.Type.FLOAT); // in place: the input, for the scale's gradient
            default -> { }
        }
    }

    public Net net() {
        return net;
    }

    public CudaDevice device() {
        return device;
    }

    public long iter() {
        return iter;
    }

    /** Reshapes the net for {@code batch} samples; the GPU arrays grow when they are too small (a smaller batch reuses them). */
    public void setBatchSize(int batch) {
        if (batch == net.batchSize()) {
            return;
        }
        net.setBatchSize(batch);
        device.call(() -> {
            fit(ops);
            return null;
        });
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
     * One training step of the whole net on a batch: {@code inputs} fill the net's input blobs in order
     * (the data, then the labels); forward, backward and {@code solver}'s update. Returns the loss of the
     * forward pass.
     */
    public double step(CudaSolver solver, float[]... inputs) {
        if (solver.solver().iterSize() > 1) {
            throw new IllegalArgumentException("step() trains on one batch, iter_size " + solver.solver().iterSize()
                    + " accumulates several: run forward() and backward() per batch, then CudaSolver.step once");
        }
        return device.call(() -> {
            List<Blob> in = net.inputs();
            if (inputs.length != in.size()) {
                throw new IllegalArgumentException("the net has " + in.size() + " inputs, got " + inputs.length);
            }
            for (int i = 0; i < inputs.length; i++) {
                KernelArgs.holds("input '" + in.get(i).name() + "'", "batch", inputs[i].length, in.get(i).count());
                x(in.get(i)).upload(inputs[i], 0, in.get(i).count(), 0);
            }
            net.beginPass(iter); // as Trainer.step: Dropout draws this iteration's masks
            double loss = forwardOnThread();
            backwardOnThread(1);
            solver.step(params(), iter);
            iter++;
            return loss;
        });
    }

    // ---- what a pipeline stage moves in and out ----

    /** Copies {@code n} values of {@code src} into blob {@code blob}'s data (its diff with {@code gradient}). */
    public void upload(String blob, boolean gradient, float[] src, int n) {
        device.call(() -> {
            Blob b = net.blob(blob);
            KernelArgs.holds("upload to '" + blob + "'", "blob", b.count(), n);
            array(b, gradient).upload(src, 0, n, 0);
            return null;
        });
    }

    /** A new GPU array holding a copy of blob {@code blob}'s data (diff with {@code gradient}); the caller closes it. */
    public DeviceArray copyOut(String blob, boolean gradient) {
        return device.call(() -> {
            Blob b = net.blob(blob);
            return device.floats(Math.max(1, b.count())).copyFrom(array(b, gradient), b.count());
        });
    }

    /** Copies {@code src}, an array of this GPU, into blob {@code blob}'s data (diff with {@code gradient}). */
    public void copyIn(String blob, boolean gradient, DeviceArray src) {
        device.call(() -> {
            Blob b = net.blob(blob);
            KernelArgs.holds("copy to '" + blob + "'", "source", src.length(), b.count());
            array(b, gradient).copyFrom(src, b.count());
            return null;
        });
    }

    /** Brings blob {@code b}'s data down into its host array and returns that array (the first {@code count()} values). */
    public float[] fetch(Blob b) {
        return device.call(() -> {
            array(b, false).download(b.x(), 0, b.count(), 0);
            return b.x();
        });
    }

    /** Blob {@code b}'s data (its diff with {@code gradient}), any blob of this net's layers, params included. */
    float[] download(Blob b, boolean gradient) {
        return device.call(() -> {
            float[] out = new float[b.count()];
            (gradient ? diff : data).get(b).download(out, 0, b.count(), 0);
            return out;
        });
    }

    /**
     * A blob's array; a blob none of this net's layers touches (one a stage passes on, such as the labels
     * on their way to the loss) gets one on first use.
     */
    private DeviceArray array(Blob b, boolean gradient) {
        if (layerParams.contains(b)) {
            throw new IllegalArgumentException("'" + b.name() + "' is a learnable blob: its weights stay on the GPU");
        }
        return sized(gradient ? diff : data, b);
    }

    /** The learnable blobs of this net's layers, on the GPU, each once, in net order. */
    public List<CudaSolver.DeviceParam> params() {
        List<CudaSolver.DeviceParam> out = new ArrayList<>();
        for (Param p : params) {
            out.add(new CudaSolver.DeviceParam(p.name(), p.blob().shape(), x(p.blob()), dx(p.blob()), p.lrMult(),
                    p.decayMult()));
        }
        return out;
    }

    /** Clears the params' gradients (a dropped step's). */
    public void zeroParamGradients() {
        device.call(() -> {
            for (Param p : params) {
                ops.fill(p.blob().count(), 0f, dx(p.blob()));
            }
            return null;
        });
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

    private DeviceArray x(Blob b) {
        return data.get(b);
    }

    private DeviceArray dx(Blob b) {
        return diff.get(b);
    }

    // ---- forward and backward ----

    /** Forward through every layer of this net's range; returns the weighted loss of its loss layers. */
    public double forward() {
        return device.call(this::forwardOnThread);
    }

    private double forwardOnThread() {
        double loss = 0;
        List<Layer> layers = net.layers();
        for (int l = from; l < to; l++) {
            Layer layer = layers.get(l);
            List<Blob> bottom = net.bottomsOf(l), top = net.topsOf(l);
            long t0 = mark();
            boolean onHost = host[l - from];
            switch (layer) {
                case Layer h when onHost -> hostForward(h, bottom, top);
                case Input in -> { }
                case Convolution c -> {
                    for (int i = 0; i < bottom.size(); i++) {
                        ops.convForward(precision, bottom.get(i).dim(0), c.geom(), c.numOutput(), c.group(),
                                x(bottom.get(i)), x(c.params().get(0)), c.biasTerm() ? x(c.params().get(1)) : null,
                                x(top.get(i)), workspaces.get(c));
                    }
                }
                case Deconvolution d -> ops.deconvForward(precision, bottom.get(0).dim(0), d.geom(), d.channels(),
                        d.group(), x(bottom.get(0)), x(d.params().get(0)), d.biasTerm() ? x(d.params().get(1)) : null,
                        x(top.get(0)), workspaces.get(d));
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
                        ops.maxPoolForward(p.geom(), p.planes(), x(bottom.get(0)), x(top.get(0)), scratch(p, "mask"));
                    } else {
                        ops.avePoolForward(p.geom(), p.planes(), x(bottom.get(0)), x(top.get(0)));
                    }
                }
                case ReLU r -> ops.activationForward(CudaOps.Activation.RELU, r.negativeSlope(), bottom.get(0).count(),
                        x(bottom.get(0)), x(top.get(0)));
                case Sigmoid sg -> ops.activationForward(CudaOps.Activation.SIGMOID, 0f, bottom.get(0).count(),
                        x(bottom.get(0)), x(top.get(0)));
                case TanH th -> ops.activationForward(CudaOps.Activation.TANH, 0f, bottom.get(0).count(),
                        x(bottom.get(0)), x(top.get(0)));
                case ELU e -> ops.eluForward(bottom.get(0).count(), e.alpha(), x(bottom.get(0)), x(top.get(0)));
                case PReLU p -> {
                    Blob b = bottom.get(0);
                    if (top.get(0) == b) {
                        scratch(p, "x").copyFrom(x(b), b.count());
                    }
                    ops.preluForward(b.dim(0), p.channelShared() ? 1 : b.dim(1), p.channelShared() ? b.count(1) : b.count(2),
                            x(b), x(p.params().get(0)), x(top.get(0)));
                }
                case LRN n -> {
                    Blob b = bottom.get(0);
                    ops.lrnForward(b.dim(0), b.dim(1), b.dim(2), b.dim(3), n.size(), n.alpha(), n.beta(), n.k(),
                            n.region() == LRN.NormRegion.ACROSS_CHANNELS, x(b), scratch(n, "scale"), x(top.get(0)));
                }
                case BatchNorm bn -> batchNormForward(bn, bottom.get(0), top.get(0));
                case Scale sc -> scaleForward(sc, bottom, top.get(0));
                case Dropout d -> {
                    int n = bottom.get(0).count();
                    if (d.dropping()) {
                        DeviceArray mask = scratch(d, "mask");
                        mask.upload(d.nextMask(n), 0, n, 0);
                        ops.mul(n, x(bottom.get(0)), mask, x(top.get(0)));
                    } else if (top.get(0) != bottom.get(0)) {
                        x(top.get(0)).copyFrom(x(bottom.get(0)), n);
                    }
                }
                case Eltwise e -> eltwiseForward(e, bottom, top.get(0));
                case Concat c -> pieces(top.get(0), bottom, c.axisOf(top.get(0)), true, false, k -> true);
                case Slice sl -> pieces(bottom.get(0), top, sl.axisOf(bottom.get(0)), false, false, k -> true);
                case Flatten _, Reshape _ -> x(top.get(0)).copyFrom(x(bottom.get(0)), bottom.get(0).count());
                case Crop c -> ops.crop(bottom.get(0).shape(), top.get(0).shape(), c.offsets(), x(bottom.get(0)),
                        x(top.get(0)), false);
                case Bias b -> {
                    Blob xb = bottom.get(0);
                    if (top.get(0) != xb) {
                        x(top.get(0)).copyFrom(x(xb), xb.count());
                    }
                    ops.channelBiasAdd(b.outer(), b.dim(), b.inner(), x(bottom.size() > 1 ? bottom.get(1) : b.params().get(0)),
                            x(top.get(0)));
                }
                case AbsVal a -> neuronForward(a, bottom.get(0), top.get(0));
                case Power a -> {
                    int n = bottom.get(0).count();
                    if (a.power() * a.scale() == 0) { // a constant, as the CPU layer fills it
                        ops.fill(n, a.power() == 0 ? 1f : (float) Math.pow(a.shift(), a.power()), x(top.get(0)));
                    } else {
                        neuronForward(a, bottom.get(0), top.get(0));
                    }
                }
                case Exp a -> neuronForward(a, bottom.get(0), top.get(0));
                case Log a -> neuronForward(a, bottom.get(0), top.get(0));
                case BNLL a -> neuronForward(a, bottom.get(0), top.get(0));
                case Clip a -> neuronForward(a, bottom.get(0), top.get(0));
                case Threshold a -> neuronForward(a, bottom.get(0), top.get(0));
                case Swish a -> neuronForward(a, bottom.get(0), top.get(0));
                case Silence s -> { }
                case Embed e -> {
                    Blob b = bottom.get(0);
                    long bad = ops.embedForward(b.count(), e.numOutput(), e.inputDim(), x(b), x(e.params().get(0)),
                            e.biasTerm() ? x(e.params().get(1)) : null, x(top.get(0)), scratch(e, "bad"));
                    if (bad >= 0) { // the layer itself says what is wrong with which index, as on the CPU
                        x(b).download(b.x(), 0, b.count(), 0);
                        e.forward(bottom, top);
                        throw new IllegalStateException("layer '" + e.name() + "': the GPU found a bad index at position "
                                + bad + " that the layer accepts");
                    }
                }
                case Reduction r -> {
                    Blob b = bottom.get(0);
                    int a = r.axisOf(b);
                    ops.reductionForward(b.count(0, a), b.count(a), r.op(), r.coeff(), x(b), x(top.get(0)));
                }
                case Tile t -> {
                    Blob b = bottom.get(0);
                    int a = t.axisOf(b);
                    ops.tileForward(b.count(0, a), t.tiles(), b.count(a), x(b), x(top.get(0)));
                }
                case MVN m -> ops.mvnForward(m.rows(), m.dim(), m.normalizeVariance(), m.eps(), x(bottom.get(0)),
                        scratch(m, "invStd"), x(top.get(0)));
                case Softmax sm -> ops.softmaxForward(sm.outer(), sm.channels(), sm.inner(), x(bottom.get(0)), x(top.get(0)));
                case Split s -> {
                    for (Blob t : top) {
                        if (t != bottom.get(0)) {
                            x(t).copyFrom(x(bottom.get(0)), bottom.get(0).count());
                        }
                    }
                }
                case SoftmaxWithLoss s -> {
                    DeviceArray prob = scratch(s, "prob");
                    ops.softmaxForward(s.outer(), s.channels(), s.inner(), x(bottom.get(0)), prob);
                    CudaOps.LossSum sum = ops.softmaxLoss(s.outer(), s.channels(), s.inner(), prob, x(bottom.get(1)),
                            s.ignoreLabel().isPresent(), s.ignoreLabel().orElse(0), scratch(s, "loss"));
                    double normalizer = s.normalization().normalizer((double) s.outer() * s.inner(), sum.valid(),
                            s.outer());
                    float value = (float) (sum.loss() / normalizer);
                    loss += lossTop(l, top.get(0), value);
                    lossValid.put(s, sum.valid());
                    if (top.size() > 1) { // the probabilities, as a second top
                        x(top.get(1)).copyFrom(prob, top.get(1).count());
                    }
                }
                case SigmoidCrossEntropyLoss s -> {
                    Blob scores = bottom.get(0);
                    CudaOps.LossSum sum = ops.sigmoidCrossEntropyLoss(scores.count(), x(scores), x(bottom.get(1)),
                            s.ignoreLabel().isPresent(), s.ignoreLabel().orElse(0), scratch(s, "sig"), scratch(s, "loss"));
                    float value = (float) (sum.loss() / s.normalization().normalizer(scores.count(), sum.valid(),
                            scores.dim(0)));
                    loss += lossTop(l, top.get(0), value);
                    lossValid.put(s, sum.valid());
                }
                case EuclideanLoss e -> {
                    Blob a = bottom.get(0);
                    DeviceArray diff = scratch(e, "diff");
                    diff.copyFrom(x(a), a.count());
                    ops.axpyUnfused(a.count(), -1f, x(bottom.get(1)), diff); // a - b, rounded as the CPU's
                    float value = (float) (ops.sum(a.count(), diff, 0, true) / a.dim(0) / 2);
                    loss += lossTop(l, top.get(0), value);
                }
                default -> throw new IllegalStateException("unsupported layer " + layer.type());
            }
            if (profiling) {
                forwardNanos[l] += mark() - t0;
            }
        }
        for (int l = from; l < to; l++) {
            loss += weightedLoss(l);
        }
        return loss;
    }

    /**
     * Backward through this net's range, last layer first; its loss layers start from
     * {@code lossScale * loss_weight} (as {@link Net#backward(int, int, double)}), and the gradients of the
     * blobs later stages read must be in place already. Adds into the params' gradients.
     */
    public void backward(double lossScale) {
        device.call(() -> {
            backwardOnThread(lossScale);
            return null;
        });
    }

    private void backwardOnThread(double lossScale) {
        List<Layer> layers = net.layers();
        for (int l = from; l < to; l++) { // a loss top's gradient is its weight (the losses with kernels apply theirs)
            for (int t = nativeLoss(layers.get(l)) ? 1 : 0; t < net.topsOf(l).size(); t++) {
                if (net.lossWeight(l, t) != 0) {
                    Blob top = net.topsOf(l).get(t);
                    ops.fill(top.count(), (float) (net.lossWeight(l, t) * lossScale), dx(top));
                }
            }
        }
        for (int l = to - 1; l >= from; l--) {
            Layer layer = layers.get(l);
            if (!net.needsBackward(l)) {
                continue;
            }
            List<Blob> bottom = net.bottomsOf(l), top = net.topsOf(l);
            long t0 = mark();
            boolean onHost = host[l - from];
            switch (layer) {
                case Layer h when onHost -> hostBackward(l, h, bottom, top);
                case Input in -> { }
                case Convolution c -> {
                    for (int i = 0; i < bottom.size(); i++) {
                        ops.convBackward(precision, bottom.get(i).dim(0), c.geom(), c.numOutput(), c.group(),
                                x(bottom.get(i)), x(c.params().get(0)), dx(top.get(i)), dx(c.params().get(0)),
                                c.biasTerm() ? dx(c.params().get(1)) : null, propagates(l, i) ? dx(bottom.get(i)) : null,
                                workspaces.get(c));
                    }
                }
                case Deconvolution d -> ops.deconvBackward(precision, bottom.get(0).dim(0), d.geom(), d.channels(),
                        d.group(), x(bottom.get(0)), x(d.params().get(0)), dx(top.get(0)), dx(d.params().get(0)),
                        d.biasTerm() ? dx(d.params().get(1)) : null, propagates(l, 0) ? dx(bottom.get(0)) : null,
                        workspaces.get(d));
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
                        ops.maxPoolBackward(p.geom(), p.planes(), dx(top.get(0)), scratch(p, "mask"), dx(bottom.get(0)));
                    } else {
                        ops.avePoolBackward(p.geom(), p.planes(), dx(top.get(0)), dx(bottom.get(0)));
                    }
                }
                case ReLU r -> ops.activationBackward(CudaOps.Activation.RELU, r.negativeSlope(), bottom.get(0).count(),
                        x(bottom.get(0)), dx(top.get(0)), dx(bottom.get(0)));
                case Sigmoid sg -> ops.activationBackward(CudaOps.Activation.SIGMOID, 0f, bottom.get(0).count(),
                        x(top.get(0)), dx(top.get(0)), dx(bottom.get(0)));
                case TanH th -> ops.activationBackward(CudaOps.Activation.TANH, 0f, bottom.get(0).count(),
                        x(top.get(0)), dx(top.get(0)), dx(bottom.get(0)));
                case ELU e -> {
                    if (propagates(l, 0)) {
                        ops.eluBackward(bottom.get(0).count(), e.alpha(), x(bottom.get(0)), x(top.get(0)), dx(top.get(0)),
                                dx(bottom.get(0)));
                    }
                }
                case PReLU p -> {
                    Blob b = bottom.get(0), w = p.params().get(0);
                    ops.preluBackward(b.dim(0), p.channelShared() ? 1 : b.dim(1), p.channelShared() ? b.count(1) : b.count(2),
                            top.get(0) == b ? scratch(p, "x") : x(b), dx(top.get(0)), x(w), dx(w),
                            propagates(l, 0) ? dx(b) : null);
                }
                case LRN n -> {
                    if (propagates(l, 0)) {
                        Blob b = bottom.get(0);
                        ops.lrnBackward(b.dim(0), b.dim(1), b.dim(2), b.dim(3), n.size(), n.alpha(), n.beta(),
                                n.region() == LRN.NormRegion.ACROSS_CHANNELS, x(b), x(top.get(0)), scratch(n, "scale"),
                                dx(top.get(0)), dx(b));
                    }
                }
                case BatchNorm bn -> batchNormBackward(bn, propagates(l, 0), bottom.get(0), top.get(0));
                case Scale sc -> scaleBackward(sc, l, bottom, top.get(0));
                case Dropout d -> {
                    int n = bottom.get(0).count();
                    if (propagates(l, 0) && d.dropping()) {
                        ops.mul(n, dx(top.get(0)), scratch(d, "mask"), dx(bottom.get(0)));
                    } else if (propagates(l, 0) && top.get(0) != bottom.get(0)) {
                        dx(bottom.get(0)).copyFrom(dx(top.get(0)), n);
                    }
                }
                case Eltwise e -> eltwiseBackward(e, l, bottom, top.get(0));
                case Concat c -> {
                    int at = l;
                    pieces(top.get(0), bottom, c.axisOf(top.get(0)), false, true, k -> propagates(at, k));
                }
                case Slice sl -> {
                    if (propagates(l, 0)) {
                        pieces(bottom.get(0), top, sl.axisOf(bottom.get(0)), true, true, k -> true);
                    }
                }
                case Flatten _, Reshape _ -> {
                    if (propagates(l, 0)) {
                        dx(bottom.get(0)).copyFrom(dx(top.get(0)), bottom.get(0).count());
                    }
                }
                case Bias b -> {
                    Blob xb = bottom.get(0);
                    if (bottom.size() == 1) { // a param accumulates its gradient
                        ops.channelSum(b.outer(), b.dim(), b.inner(), dx(top.get(0)), 1f, dx(b.params().get(0)));
                    } else if (propagates(l, 1)) { // a bottom's is written
                        ops.channelSum(b.outer(), b.dim(), b.inner(), dx(top.get(0)), 0f, dx(bottom.get(1)));
                    }
                    if (propagates(l, 0) && top.get(0) != xb) {
                        dx(xb).copyFrom(dx(top.get(0)), xb.count());
                    }
                }
                case AbsVal _, Power _, Log _, BNLL _, Clip _ -> {
                    if (propagates(l, 0)) {
                        neuronBackward(layer, bottom.get(0), x(bottom.get(0)), top.get(0));
                    }
                }
                case Exp _, Swish _ -> { // they read their output (they may run in place)
                    if (propagates(l, 0)) {
                        neuronBackward(layer, bottom.get(0), x(top.get(0)), top.get(0));
                    }
                }
                case Threshold _ -> {
                    if (propagates(l, 0)) {
                        ops.fill(bottom.get(0).count(), 0f, dx(bottom.get(0)));
                    }
                }
                case Crop c -> {
                    if (propagates(l, 0)) {
                        Blob b = bottom.get(0);
                        ops.fill(b.count(), 0f, dx(b));
                        ops.crop(b.shape(), top.get(0).shape(), c.offsets(), dx(b), dx(top.get(0)), true);
                    }
                }
                case Embed e -> {
                    Blob b = bottom.get(0);
                    ops.embedBackward(b.count(), e.numOutput(), x(b), dx(top.get(0)), dx(e.params().get(0)));
                    if (e.biasTerm()) {
                        ops.channelSum(b.count(), e.numOutput(), 1, dx(top.get(0)), 1f, dx(e.params().get(1)));
                    }
                }
                case Silence s -> {
                    for (int i = 0; i < bottom.size(); i++) {
                        if (propagates(l, i)) {
                            ops.fill(bottom.get(i).count(), 0f, dx(bottom.get(i)));
                        }
                    }
                }
                case Reduction r -> {
                    if (propagates(l, 0)) {
                        Blob b = bottom.get(0);
                        int a = r.axisOf(b);
                        ops.reductionBackward(b.count(0, a), b.count(a), r.op(), r.coeff(), x(b), dx(top.get(0)), dx(b));
                    }
                }
                case Tile t -> {
                    if (propagates(l, 0)) {
                        Blob b = bottom.get(0);
                        int a = t.axisOf(b);
                        ops.tileBackward(b.count(0, a), t.tiles(), b.count(a), dx(top.get(0)), dx(b));
                    }
                }
                case MVN m -> {
                    if (propagates(l, 0)) {
                        ops.mvnBackward(m.rows(), m.dim(), m.normalizeVariance(), scratch(m, "invStd"), x(top.get(0)),
                                dx(top.get(0)), dx(bottom.get(0)));
                    }
                }
                case Softmax sm -> {
                    if (propagates(l, 0)) {
                        ops.softmaxBackward(sm.outer(), sm.channels(), sm.inner(), x(top.get(0)), dx(top.get(0)),
                                dx(bottom.get(0)));
                    }
                }
                case Split s -> {
                    if (propagates(l, 0)) { // the gradients of every branch add up
                        Blob b = bottom.get(0);
                        dx(b).copyFrom(dx(top.get(0)), b.count());
                        for (int t = 1; t < top.size(); t++) {
                            ops.axpy(b.count(), 1f, dx(top.get(t)), dx(b));
                        }
                    }
                }
                case SoftmaxWithLoss s -> {
                    if (propagates(l, 0)) {
                        double normalizer = s.normalization().normalizer((double) s.outer() * s.inner(),
                                lossValid.get(s), s.outer());
                        float scale = (float) (net.lossWeight(l, 0) * lossScale) / (float) normalizer;
                        ops.softmaxLossBackward(s.outer(), s.channels(), s.inner(), scratch(s, "prob"), x(bottom.get(1)),
                                s.ignoreLabel().isPresent(), s.ignoreLabel().orElse(0), scale, dx(bottom.get(0)));
                    }
                }
                case SigmoidCrossEntropyLoss s -> {
                    if (propagates(l, 0)) {
                        Blob scores = bottom.get(0);
                        float normalizer = s.normalization().normalizer(scores.count(), lossValid.get(s), scores.dim(0));
                        ops.sigmoidCrossEntropyLossBackward(scores.count(), scratch(s, "sig"), x(bottom.get(1)),
                                s.ignoreLabel().isPresent(), s.ignoreLabel().orElse(0),
                                (float) (net.lossWeight(l, 0) * lossScale) / normalizer, dx(scores));
                    }
                }
                case EuclideanLoss e -> {
                    float weight = (float) (net.lossWeight(l, 0) * lossScale);
                    int num = bottom.get(0).dim(0);
                    for (int k = 0; k < 2; k++) {
                        if (propagates(l, k)) {
                            ops.scaleCopy(bottom.get(0).count(), (k == 0 ? 1f : -1f) * weight / num, scratch(e, "diff"),
                                    dx(bottom.get(k)));
                        }
                    }
                }
                default -> throw new IllegalStateException("layer " + layer.name() + " (" + layer.type()
                        + ") has no backward on the GPU");
            }
            if (profiling) {
                backwardNanos[l] += mark() - t0;
            }
        }
    }

    // ---- the layers that run on the host ----

    /**
     * A layer without kernels: its bottoms and params come down, the engine's layer runs, its tops go up,
     * and its params too (a forward may write them, as BatchNorm's running statistics).
     */
    private void hostForward(Layer layer, List<Blob> bottom, List<Blob> top) {
        for (Blob b : bottom) {
            x(b).download(b.x(), 0, b.count(), 0);
        }
        for (Blob p : layer.params()) {
            x(p).download(p.x(), 0, p.count(), 0);
        }
        layer.forward(bottom, top);
        for (Blob t : top) {
            x(t).upload(t.x(), 0, t.count(), 0);
        }
        for (Blob p : layer.params()) {
            x(p).upload(p.x(), 0, p.count(), 0);
        }
    }

    /**
     * Its backward: the data it reads (as later in-place layers left it, as on the CPU), the tops'
     * gradients and the params' gradients so far come down; the bottoms' gradients it computed and the
     * params' gradients it added to go up.
     */
    private void hostBackward(int l, Layer layer, List<Blob> bottom, List<Blob> top) {
        for (Blob b : bottom) {
            x(b).download(b.x(), 0, b.count(), 0);
        }
        for (Blob t : top) {
            x(t).download(t.x(), 0, t.count(), 0);
            dx(t).download(t.dx(), 0, t.count(), 0);
        }
        for (Blob p : layer.params()) {
            x(p).download(p.x(), 0, p.count(), 0);
            dx(p).download(p.dx(), 0, p.count(), 0);
        }
        boolean[] propagate = new boolean[bottom.size()];
        for (int i = 0; i < propagate.length; i++) {
            propagate[i] = propagates(l, i);
        }
        layer.backward(top, propagate, bottom);
        for (int i = 0; i < propagate.length; i++) {
            if (propagate[i]) {
                dx(bottom.get(i)).upload(bottom.get(i).dx(), 0, bottom.get(i).count(), 0);
            }
        }
        for (Blob p : layer.params()) {
            dx(p).upload(p.dx(), 0, p.count(), 0);
        }
    }

    /** A loss layer with kernels puts its value into its top 0, there and on the host; returns it weighted. */
    private double lossTop(int l, Blob top, float value) {
        top.x()[0] = value;
        x(top).upload(new float[] {value});
        return net.lossWeight(l, 0) * value;
    }

    /** A loss layer with kernels: it applies the loss weight of its top 0 itself, forward and backward. */
    private static boolean nativeLoss(Layer layer) {
        return layer instanceof SoftmaxWithLoss || layer instanceof EuclideanLoss || layer instanceof SigmoidCrossEntropyLoss;
    }

    /**
     * The weighted loss of layer {@code l}'s tops that carry a loss weight (but a loss layer's own top 0),
     * summed on the GPU after the whole range's forward, as {@link Net#loss()} sums them after the layers
     * in place have run.
     */
    private double weightedLoss(int l) {
        double loss = 0;
        List<Blob> top = net.topsOf(l);
        for (int t = nativeLoss(net.layers().get(l)) ? 1 : 0; t < top.size(); t++) {
            double w = net.lossWeight(l, t);
            if (w != 0) {
                loss += w * ops.sum(top.get(t).count(), x(top.get(t)), 0, false);
            }
        }
        return loss;
    }

    // ---- the layers with more to them than one op ----

    /** BatchNorm (with the Scale folded into it, if any): the batch's or the running statistics, then y. */
    private void batchNormForward(BatchNorm bn, Blob bottom, Blob top) {
        List<Blob> p = bn.params();
        Scale a = bn.affine();
        DeviceArray mean = scratch(bn, "mean"), invStd = scratch(bn, "invStd");
        ops.batchNormStats(!bn.useGlobalStats(), bn.num(), bn.channels(), bn.spatial(), bn.movingAverageFraction(),
                bn.eps(), x(bottom), x(p.get(0)), x(p.get(1)), x(p.get(2)), mean, invStd);
        ops.batchNormForward(bn.num(), bn.channels(), bn.spatial(), x(bottom), mean, invStd,
                a == null ? null : x(a.scaleParam()), a == null ? null : orNull(data, a.biasParam()),
                scratch(bn, "xnorm"), x(top));
    }

    private void batchNormBackward(BatchNorm bn, boolean propagate, Blob bottom, Blob top) {
        Scale a = bn.affine();
        if (!propagate && a == null) {
            return;
        }
        ops.batchNormBackward(bn.num(), bn.channels(), bn.spatial(), bn.useGlobalStats(), scratch(bn, "xnorm"),
                dx(top), scratch(bn, "invStd"), a == null ? null : x(a.scaleParam()),
                a == null ? null : dx(a.scaleParam()), a == null ? null : orNull(diff, a.biasParam()),
                propagate ? dx(bottom) : null);
    }

    /** Scale; folded into the BatchNorm before it, it does nothing here. */
    private void scaleForward(Scale sc, List<Blob> bottom, Blob top) {
        if (sc.folded()) {
            return;
        }
        Blob xb = bottom.get(0);
        Blob s = bottom.size() > 1 ? bottom.get(1) : sc.scaleParam();
        if (top == xb) {
            scratch(sc, "x").copyFrom(x(xb), xb.count());
        }
        ops.scaleForward(sc.outer(), sc.dim(), sc.inner(), x(xb), x(s), orNull(data, sc.biasParam()), x(top));
    }

    private void scaleBackward(Scale sc, int l, List<Blob> bottom, Blob top) {
        if (sc.folded()) {
            return;
        }
        Blob xb = bottom.get(0);
        boolean scaleIsBottom = bottom.size() > 1;
        Blob s = scaleIsBottom ? bottom.get(1) : sc.scaleParam();
        ops.scaleBackward(sc.outer(), sc.dim(), sc.inner(), top == xb ? scratch(sc, "x") : x(xb), dx(top), x(s),
                !scaleIsBottom || propagates(l, 1) ? dx(s) : null, !scaleIsBottom, orNull(diff, sc.biasParam()),
                propagates(l, 0) ? dx(xb) : null);
    }

    /**
     * Concat and Slice: copies between {@code whole} and its {@code parts} along axis {@code a} (the parts
     * side by side in order), into the whole or out of it, the data or ({@code gradient}) the diffs; only
     * the parts {@code copied} accepts.
     */
    private void pieces(Blob whole, List<Blob> parts, int a, boolean intoWhole, boolean gradient,
                        java.util.function.IntPredicate copied) {
        long rows = whole.count(0, a), stride = whole.count(a), off = 0;
        DeviceArray w = gradient ? dx(whole) : x(whole);
        for (int k = 0; k < parts.size(); k++) {
            Blob p = parts.get(k);
            long width = p.count(a);
            if (copied.test(k)) {
                DeviceArray pa = gradient ? dx(p) : x(p);
                if (intoWhole) {
                    ops.copyRows(rows, width, pa, 0, width, w, off, stride);
                } else {
                    ops.copyRows(rows, width, w, off, stride, pa, 0, width);
                }
            }
            off += width;
        }
    }

    private static DeviceArray orNull(Map<Blob, DeviceArray> map, Blob b) {
        return b == null ? null : map.get(b);
    }

    private void eltwiseForward(Eltwise e, List<Blob> bottom, Blob top) {
        long n = top.count();
        DeviceArray y = x(top);
        switch (e.op()) {
            case SUM -> {
                ops.scaleCopy(n, e.coeff(0), x(bottom.get(0)), y);
                for (int b = 1; b < bottom.size(); b++) {
                    ops.axpyUnfused(n, e.coeff(b), x(bottom.get(b)), y);
                }
            }
            case PROD -> {
                y.copyFrom(x(bottom.get(0)), n);
                for (int b = 1; b < bottom.size(); b++) {
                    ops.mul(n, y, x(bottom.get(b)), y);
                }
            }
            case MAX -> {
                DeviceArray argmax = scratch(e, "argmax");
                ops.eltwiseMaxFirst(n, x(bottom.get(0)), x(bottom.get(1)), y, argmax);
                for (int b = 2; b < bottom.size(); b++) {
                    ops.eltwiseMaxNext(n, x(bottom.get(b)), b, y, argmax);
                }
            }
        }
    }

    private void eltwiseBackward(Eltwise e, int l, List<Blob> bottom, Blob top) {
        long n = top.count();
        for (int b = 0; b < bottom.size(); b++) {
            if (!propagates(l, b)) {
                continue;
            }
            DeviceArray db = dx(bottom.get(b));
            switch (e.op()) {
                case SUM -> ops.scaleCopy(n, e.coeff(b), dx(top), db);
                case PROD -> {
                    if (e.stableProdGrad()) { // the product of the others, in Caffe's order, then dy
                        boolean first = true;
                        for (int k = 0; k < bottom.size(); k++) {
                            if (k == b) {
                                continue;
                            }
                            if (first) {
                                db.copyFrom(x(bottom.get(k)), n);
                                first = false;
                            } else {
                                ops.mul(n, db, x(bottom.get(k)), db);
                            }
                        }
                        ops.mul(n, db, dx(top), db);
                    } else {
                        ops.mulDiv(n, dx(top), x(top), x(bottom.get(b)), db);
                    }
                }
                case MAX -> ops.eltwiseMaxBackward(n, b, scratch(e, "argmax"), dx(top), db);
            }
        }
    }

    private boolean propagates(int l, int bottom) {
        return net.propagatesDown(l, bottom);
    }

    /** Waits until every launched kernel has finished. */
    public void synchronize() {
        device.call(() -> {
            device.synchronize();
            return null;
        });
    }

    /** Gives back this net's GPU arrays; params shared from another net stay with it. */
    @Override
    public void close() {
        device.call(() -> {
            release();
            return null;
        });
    }

    private void release() {
        Set<DeviceArray> done = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        for (Map<Blob, DeviceArray> map : List.of(data, diff)) {
            for (var e : map.entrySet()) {
                boolean param = layerParams.contains(e.getKey());
                if ((!param || ownParams.contains(e.getKey())) && done.add(e.getValue())) {
                    e.getValue().close();
                }
            }
            map.clear();
        }
        workspaces.values().forEach(CudaOps.ConvWorkspace::close);
        scratch.values().forEach(DeviceArray::close);
        workspaces.clear();
        scratch.clear();
    }
}
