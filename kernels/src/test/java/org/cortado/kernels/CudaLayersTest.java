package org.cortado.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.cortado.engine.config.Json;
import org.cortado.engine.layers.BatchNorm;
import org.cortado.engine.layers.Layer;
import org.cortado.engine.net.Net;
import org.cortado.engine.net.Phase;
import org.cortado.engine.ops.Parallel;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layers of {@link CudaNet}, in the variants the shipped configs do not all exercise, each in a small net run
 * forward and backward once on the CPU and once on the GPU from the same random params and inputs:
 * the loss, every blob's values, every gradient the net propagates and every param's gradient (and
 * BatchNorm's running statistics) compared, 1e-4 relative to the largest value.
 */
class CudaLayersTest {
    private static final float TOL = 1e-4f;
    private static CudaDevice device;
    private static Parallel par;

    @BeforeAll
    static void open() {
        device = Gpu.openOrNull();
        par = new Parallel(2);
    }

    @AfterAll
    static void close() {
        if (device != null) {
            device.close();
        }
        par.close();
    }

    /** {@code layers} read "data" (4, 6, 5, 5) and end in a blob "out"; an InnerProduct and a softmax loss follow. */
    private static Net build(String layers, Phase phase) {
        return Net.build(Json.parse("{\"name\": \"t\", \"layers\": ["
                + "{\"name\": \"in\", \"type\": \"Input\", \"top\": [\"data\", \"label\"], \"shape\": [{\"dim\": [4, 6, 5, 5]}, {\"dim\": [4]}]},"
                + layers + ","
                + "{\"name\": \"ip\", \"type\": \"InnerProduct\", \"bottom\": \"out\", \"top\": \"ip\", \"num_output\": 5,"
                + " \"weight_filler\": {\"type\": \"xavier\"}},"
                + "{\"name\": \"loss\", \"type\": \"SoftmaxWithLoss\", \"bottom\": [\"ip\", \"label\"], \"top\": \"loss\"}]}",
                "test net"), phase, par, 7);
    }

    /** The same random values into both nets' params; BatchNorm's variance sums positive and its factor 2. */
    private static void randomizeParams(Net net) {
        for (int l = 0; l < net.layers().size(); l++) {
            Layer layer = net.layers().get(l);
            for (int i = 0; i < layer.params().size(); i++) {
                float[] x = layer.params().get(i).x();
                SplittableRandom rng = new SplittableRandom(100L * l + i);
                for (int k = 0; k < layer.params().get(i).count(); k++) {
                    x[k] = (float) rng.nextDouble(-1, 1);
                    if (layer instanceof BatchNorm && i == 1) {
                        x[k] = Math.abs(x[k]) + 0.5f;
                    } else if (layer instanceof BatchNorm && i == 2) {
                        x[k] = 2f;
                    }
                }
            }
        }
    }

    private static void matchesTheCpu(String layers, Phase phase, long pass) {
        matchesTheCpu(layers, phase, pass, Set.of(), 1);
    }

    /**
     * With the layers of {@code hostTypes} run on the host although they have kernels, and
     * {@code backwards} backward passes after the forward: the params' gradients are cleared after the
     * first (as after an update), and add up over the others.
     */
    private static void matchesTheCpu(String layers, Phase phase, long pass, Set<String> hostTypes,
                                      int backwards) {
        Gpu.assumeOpen(device);
        Net cpu = build(layers, phase);
        Net onGpu = build(layers, phase);
        randomizeParams(cpu);
        randomizeParams(onGpu);
        SplittableRandom rng = new SplittableRandom(3);
        float[] data = new float[cpu.blob("data").count()];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) rng.nextDouble(-2, 2);
        }
        float[] label = {0, 3, 1, 4};
        System.arraycopy(data, 0, cpu.blob("data").x(), 0, data.length);
        System.arraycopy(label, 0, cpu.blob("label").x(), 0, label.length);
        boolean train = phase == Phase.TRAIN;
        cpu.beginPass(pass);
        double cpuLoss = cpu.forward();
        for (int k = 0; train && k < backwards; k++) {
            cpu.backward();
            if (k == 0 && backwards > 1) {
                cpu.params().forEach(p -> p.blob().zeroDiff());
            }
        }
        onGpu.beginPass(pass);
        try (CudaNet gpu = CudaNet.openWithHostTypes(device, onGpu, CudaOps.Precision.F32, hostTypes)) {
            gpu.upload("data", false, data, data.length);
            gpu.upload("label", false, label, label.length);
            double gpuLoss = gpu.forward();
            for (int k = 0; train && k < backwards; k++) {
                gpu.backward(1);
                if (k == 0 && backwards > 1) {
                    gpu.zeroParamGradients();
                }
            }
            assertEquals(cpuLoss, gpuLoss, TOL * Math.max(1, Math.abs(cpuLoss)), "loss");
            for (int l = 0; l < cpu.layers().size(); l++) {
                String layer = cpu.layers().get(l).name();
                for (int t = 0; t < cpu.topsOf(l).size(); t++) {
                    Blob a = cpu.topsOf(l).get(t);
                    CudaOpsTest.assertClose(layer + " top '" + a.name() + "'", a.data().toArray(),
                            gpu.download(onGpu.topsOf(l).get(t), false), TOL);
                }
                for (int b = 0; train && b < cpu.bottomsOf(l).size(); b++) {
                    if (cpu.needsBackward(l) && cpu.propagatesDown(l, b)) {
                        Blob a = cpu.bottomsOf(l).get(b);
                        CudaOpsTest.assertClose(layer + " gradient of '" + a.name() + "'", a.diff().toArray(),
                                gpu.download(onGpu.bottomsOf(l).get(b), true), TOL);
                    }
                }
                List<Blob> pa = cpu.layers().get(l).params(), pb = onGpu.layers().get(l).params();
                for (int i = 0; i < pa.size(); i++) {
                    CudaOpsTest.assertClose(layer + " param " + i, pa.get(i).data().toArray(), gpu.download(pb.get(i), false),
                            TOL);
                    if (train) {
                        CudaOpsTest.assertClose(layer + " param " + i + " gradient", pa.get(i).diff().toArray(),
                                gpu.download(pb.get(i), true), TOL);
                    }
                }
            }
        }
    }

    /**
     * Scale (learned, with bias, not in place), Slice, Eltwise PROD (both gradients) / MAX over 3 after
     * ReLUs (ties where they are all 0: Caffe gives them to bottom 1) / SUM with coefficients, TanH,
     * Concat, Flatten.
     */
    @Test
    void eltwiseSliceConcatAndScaleMatchTheCpu() {
        matchesTheCpu("""
                {"name": "sc", "type": "Scale", "bottom": "data", "top": "d", "bias_term": true},
                {"name": "slice", "type": "Slice", "bottom": "d", "top": ["a", "b", "c"], "slice_point": [2, 4]},
                {"name": "prod", "type": "Eltwise", "bottom": ["a", "b"], "top": "p", "operation": "PROD"},
                {"name": "relu_a", "type": "ReLU", "bottom": "a", "top": "ar"},
                {"name": "relu_b", "type": "ReLU", "bottom": "b", "top": "br"},
                {"name": "relu_c", "type": "ReLU", "bottom": "c", "top": "cr"},
                {"name": "max", "type": "Eltwise", "bottom": ["ar", "br", "cr"], "top": "m", "operation": "MAX"},
                {"name": "fastprod", "type": "Eltwise", "bottom": ["b", "c"], "top": "q", "operation": "PROD", "stable_prod_grad": false},
                {"name": "sum", "type": "Eltwise", "bottom": ["p", "m", "q"], "top": "s", "coeff": [0.5, -2, 1]},
                {"name": "tanh", "type": "TanH", "bottom": "s", "top": "s"},
                {"name": "cat", "type": "Concat", "bottom": ["s", "a"], "top": "cat"},
                {"name": "flat", "type": "Flatten", "bottom": "cat", "top": "out"}""", Phase.TRAIN, 0);
    }

    /** BatchNorm with batch statistics, not in place; a Scale in place after a ReLU (not folded); BatchNorm on global statistics; Reshape. */
    @Test
    void batchNormScaleAndReshapeMatchTheCpu() {
        matchesTheCpu("""
                {"name": "conv", "type": "Convolution", "bottom": "data", "top": "c", "num_output": 4, "kernel_size": 3,
                 "weight_filler": {"type": "xavier"}},
                {"name": "bn", "type": "BatchNorm", "bottom": "c", "top": "n"},
                {"name": "relu", "type": "ReLU", "bottom": "n", "top": "n"},
                {"name": "sc", "type": "Scale", "bottom": "n", "top": "n", "bias_term": true},
                {"name": "bn_global", "type": "BatchNorm", "bottom": "n", "top": "g", "use_global_stats": true},
                {"name": "reshape", "type": "Reshape", "bottom": "g", "top": "out", "shape": {"dim": [0, -1]}}""",
                Phase.TRAIN, 0);
    }

    /**
     * Dropout in place (the CPU's mask for pass 3), Sigmoid, then a BatchNorm with its Scale folded in
     * (each layer whose backward reads its output keeps that output to itself).
     */
    @Test
    void dropoutSigmoidAndAFoldedBatchNormMatchTheCpu() {
        matchesTheCpu("""
                {"name": "fc", "type": "InnerProduct", "bottom": "data", "top": "h", "num_output": 12},
                {"name": "drop", "type": "Dropout", "bottom": "h", "top": "h", "dropout_ratio": 0.3},
                {"name": "sig", "type": "Sigmoid", "bottom": "h", "top": "hs"},
                {"name": "bn", "type": "BatchNorm", "bottom": "hs", "top": "hb"},
                {"name": "bn_scale", "type": "Scale", "bottom": "hb", "top": "hb", "bias_term": true},
                {"name": "copy", "type": "Flatten", "bottom": "hb", "top": "out"}""", Phase.TRAIN, 3);
    }

    /**
     * The other element-wise layers behind a learned Scale (so that every gradient flows): AbsVal, Log
     * (base 2), Power (square, fractional, and the constant case power * scale = 0), Exp in place (base
     * 3), BNLL, Clip, Swish in place after it, Threshold (its gradient is 0), summed into one blob.
     */
    @Test
    void elementWiseLayersMatchTheCpu() {
        matchesTheCpu("""
                {"name": "sc", "type": "Scale", "bottom": "data", "top": "d", "bias_term": true},
                {"name": "abs", "type": "AbsVal", "bottom": "d", "top": "a"},
                {"name": "log", "type": "Log", "bottom": "a", "top": "lg", "base": 2, "scale": 0.5, "shift": 1},
                {"name": "square", "type": "Power", "bottom": "d", "top": "sq", "power": 2, "scale": 0.5, "shift": 0.25},
                {"name": "root", "type": "Power", "bottom": "a", "top": "rt", "power": 0.3, "scale": 1.5, "shift": 0.1},
                {"name": "const", "type": "Power", "bottom": "d", "top": "k", "power": 2, "scale": 0, "shift": 1.5},
                {"name": "exp", "type": "Exp", "bottom": "sq", "top": "sq", "base": 3, "scale": -0.5, "shift": 0.2},
                {"name": "bnll", "type": "BNLL", "bottom": "d", "top": "bn"},
                {"name": "clip", "type": "Clip", "bottom": "d", "top": "cl", "min": -1, "max": 0.5},
                {"name": "swish", "type": "Swish", "bottom": "cl", "top": "cl", "beta": 1.5},
                {"name": "thr", "type": "Threshold", "bottom": "d", "top": "th", "threshold": 0.3},
                {"name": "sum", "type": "Eltwise", "bottom": ["lg", "sq", "rt", "k", "bn", "cl", "th"], "top": "out",
                 "coeff": [1, 0.5, -1, 0.25, 2, -0.5, 1]}""", Phase.TRAIN, 0);
    }

    /**
     * Bias: learned per channel; learned over the two spatial axes, in place; and from a second bottom
     * (an InnerProduct's (N, C) output at axis 0), whose gradient is written back to that branch.
     */
    @Test
    void biasMatchesTheCpu() {
        matchesTheCpu("""
                {"name": "sc", "type": "Scale", "bottom": "data", "top": "d"},
                {"name": "bias1", "type": "Bias", "bottom": "d", "top": "b1", "filler": {"type": "gaussian", "std": 0.5}},
                {"name": "bias_hw", "type": "Bias", "bottom": "b1", "top": "b1", "axis": 2, "num_axes": 2},
                {"name": "ipb", "type": "InnerProduct", "bottom": "d", "top": "bb", "num_output": 6},
                {"name": "bias2", "type": "Bias", "bottom": ["b1", "bb"], "top": "out", "axis": 0}""", Phase.TRAIN, 0);
    }

    /** PReLU per channel (in place) and shared, LRN across channels and within a channel, ELU in place. */
    @Test
    void lrnPreluAndEluMatchTheCpu() {
        matchesTheCpu("""
                {"name": "conv", "type": "Convolution", "bottom": "data", "top": "c", "num_output": 8, "kernel_size": 3,
                 "pad": 1, "weight_filler": {"type": "xavier"}},
                {"name": "prelu", "type": "PReLU", "bottom": "c", "top": "c"},
                {"name": "lrn_across", "type": "LRN", "bottom": "c", "top": "l1", "local_size": 3, "alpha": 0.5,
                 "beta": 0.75, "k": 2},
                {"name": "lrn_within", "type": "LRN", "bottom": "l1", "top": "l2", "local_size": 3, "alpha": 0.3,
                 "beta": 0.6, "norm_region": "WITHIN_CHANNEL"},
                {"name": "prelu_shared", "type": "PReLU", "bottom": "l2", "top": "p", "channel_shared": true},
                {"name": "elu", "type": "ELU", "bottom": "p", "top": "p", "alpha": 0.7},
                {"name": "flat", "type": "Flatten", "bottom": "p", "top": "out"}""", Phase.TRAIN, 0);
    }

    /** Grouped and depthwise (a group per channel, strided) convolutions, as AlexNet's and MobileNet's. */
    @Test
    void groupedAndDepthwiseConvolutionsMatchTheCpu() {
        matchesTheCpu("""
                {"name": "grouped", "type": "Convolution", "bottom": "data", "top": "g", "num_output": 6, "kernel_size": 3,
                 "pad": 1, "group": 2, "weight_filler": {"type": "xavier"}},
                {"name": "depthwise", "type": "Convolution", "bottom": "g", "top": "dw", "num_output": 6, "kernel_size": 3,
                 "stride": 2, "pad": 1, "group": 6, "bias_term": false, "weight_filler": {"type": "msra"}},
                {"name": "bn", "type": "BatchNorm", "bottom": "dw", "top": "dw"},
                {"name": "bn_scale", "type": "Scale", "bottom": "dw", "top": "dw", "bias_term": true},
                {"name": "relu", "type": "ReLU", "bottom": "dw", "top": "dw"},
                {"name": "flat", "type": "Flatten", "bottom": "dw", "top": "out"}""", Phase.TRAIN, 0);
    }

    /**
     * FCN's upsampling head: Deconvolution (strided with bias; grouped and dilated without), Crop back to
     * the size of the convolution in front at offsets (that blob, Crop's bottom 1, gives only the shape
     * and gets no gradient from it, but the Split in front of it adds that gradient in, as in FCN-16s),
     * Softmax in place over the channels and then over a spatial axis. The convolution in front makes
     * the first Deconvolution pass a gradient on.
     */
    @Test
    void deconvolutionCropAndSoftmaxMatchTheCpu() {
        matchesTheCpu("""
                {"name": "conv", "type": "Convolution", "bottom": "data", "top": "c", "num_output": 4, "kernel_size": 3,
                 "pad": 1, "weight_filler": {"type": "xavier"}},
                {"name": "up", "type": "Deconvolution", "bottom": "c", "top": "u", "num_output": 4, "kernel_size": 4,
                 "stride": 2, "pad": 1, "weight_filler": {"type": "xavier"}},
                {"name": "up_grouped", "type": "Deconvolution", "bottom": "u", "top": "g", "num_output": 6,
                 "kernel_size": 3, "dilation": 2, "pad": 2, "group": 2, "bias_term": false,
                 "weight_filler": {"type": "xavier"}},
                {"name": "crop", "type": "Crop", "bottom": ["g", "c"], "top": "cr", "axis": 2, "offset": [2, 3]},
                {"name": "softmax_c", "type": "Softmax", "bottom": "cr", "top": "cr"},
                {"name": "softmax_w", "type": "Softmax", "bottom": "cr", "top": "out", "axis": 2}""", Phase.TRAIN, 0);
    }

    /**
     * EuclideanLoss between two computed branches (both get a gradient), weighted 0.5, beside the
     * softmax loss: the net's loss is their weighted sum.
     */
    @Test
    void euclideanLossMatchesTheCpu() {
        matchesTheCpu("""
                {"name": "fa", "type": "Convolution", "bottom": "data", "top": "fa", "num_output": 3, "kernel_size": 1,
                 "weight_filler": {"type": "xavier"}},
                {"name": "fb", "type": "Convolution", "bottom": "data", "top": "fb", "num_output": 3, "kernel_size": 3,
                 "pad": 1, "bias_term": false, "weight_filler": {"type": "xavier"}},
                {"name": "euclid", "type": "EuclideanLoss", "bottom": ["fa", "fb"], "top": "eloss", "loss_weight": 0.5},
                {"name": "flat", "type": "Flatten", "bottom": "fa", "top": "out"}""", Phase.TRAIN, 0);
    }

    /**
     * MVN per channel with a ReLU in place after it (its backward reads its output as the ReLU left it,
     * as on the CPU), across channels without the variance, and with a larger eps.
     */
    @Test
    void mvnMatchesTheCpu() {
        matchesTheCpu("""
                {"name": "sc", "type": "Scale", "bottom": "data", "top": "d", "bias_term": true},
                {"name": "mvn", "type": "MVN", "bottom": "d", "top": "m"},
                {"name": "relu", "type": "ReLU", "bottom": "m", "top": "m"},
                {"name": "mvn_across", "type": "MVN", "bottom": "m", "top": "a", "across_channels": true,
                 "normalize_variance": false},
                {"name": "mvn_eps", "type": "MVN", "bottom": "a", "top": "b", "across_channels": true, "eps": 0.01},
                {"name": "flat", "type": "Flatten", "bottom": "b", "top": "out"}""", Phase.TRAIN, 0);
    }

    private static final String HOST_LAYERS = """
                {"name": "sc", "type": "Scale", "bottom": "data", "top": "d", "bias_term": true},
                {"name": "sig", "type": "Sigmoid", "bottom": "d", "top": "s"},
                {"name": "pool", "type": "Pooling", "bottom": "s", "top": "sp", "pool": "STOCHASTIC", "kernel_size": 2,
                 "stride": 1},
                {"name": "relu", "type": "ReLU", "bottom": "sp", "top": "sp"},
                {"name": "flat", "type": "Reshape", "bottom": "sp", "top": "mr", "shape": {"dim": [0, 0, -1]}},
                {"name": "tile", "type": "Tile", "bottom": "mr", "top": "t", "tiles": 2},
                {"name": "reduce", "type": "Reduction", "bottom": "t", "top": "r", "axis": 2, "operation": "SUMSQ"},
                {"name": "embed", "type": "Embed", "bottom": "label", "top": "e", "input_dim": 5, "num_output": 12,
                 "weight_filler": {"type": "gaussian", "std": 0.5}},
                {"name": "argmax", "type": "ArgMax", "bottom": "r", "top": "am"},
                {"name": "silence", "type": "Silence", "bottom": "am"},
                {"name": "target", "type": "Sigmoid", "bottom": "data", "top": "tg"},
                {"name": "sce", "type": "SigmoidCrossEntropyLoss", "bottom": ["d", "tg"], "top": "sce_loss", "loss_weight": 0.5},
                {"name": "hinge", "type": "HingeLoss", "bottom": ["r", "label"], "top": "hinge_loss", "loss_weight": 0.3},
                {"name": "sum", "type": "Eltwise", "bottom": ["r", "e"], "top": "out"}""";

    /**
     * Layers without CUDA kernels, run on the host among GPU layers: STOCHASTIC pooling (the CPU's draws
     * for pass 2), ArgMax (into a Silence on the GPU), and HingeLoss, a host loss, weighted beside the softmax loss and a weighted
     * SigmoidCrossEntropyLoss on the GPU (its target a computed blob without a gradient). A ReLU in place
     * follows the pooling, and GPU layers (Reshape, Tile, Reduction) follow the ReLU, so only the host's
     * copies carry what each host layer reads.
     */
    @Test
    void layersWithoutKernelsRunOnTheHostAndMatchTheCpu() {
        Net net = build(HOST_LAYERS, Phase.TRAIN);
        assertEquals(List.of("'pool' (Pooling, STOCHASTIC)", "'argmax' (ArgMax)", "'hinge' (HingeLoss)"),
                CudaNet.onHost(net, 0, net.layers().size()));
        matchesTheCpu(HOST_LAYERS, Phase.TRAIN, 2);
    }

    /**
     * Loss weights beyond the loss layers: on an InnerProduct's top that a ReLU then changes in place (the
     * loss is the top's sum after the ReLU, as the CPU sums after the forward), and a second
     * SoftmaxWithLoss whose probabilities are a second top, read by a layer after it; its scores also go
     * into a Silence (the gradient of that branch is 0).
     */
    @Test
    void lossWeightsOnAnyTopAndSoftmaxProbabilitiesMatchTheCpu() {
        matchesTheCpu("""
                {"name": "fc", "type": "InnerProduct", "bottom": "data", "top": "h", "num_output": 12, "loss_weight": 0.2},
                {"name": "relu", "type": "ReLU", "bottom": "h", "top": "h"},
                {"name": "head", "type": "InnerProduct", "bottom": "h", "top": "s2", "num_output": 5},
                {"name": "loss2", "type": "SoftmaxWithLoss", "bottom": ["s2", "label"], "top": ["loss2", "prob"],
                 "loss_weight": [0.5, 0]},
                {"name": "scaled", "type": "Power", "bottom": "prob", "top": "p2", "scale": 3},
                {"name": "mute", "type": "Silence", "bottom": "s2"},
                {"name": "flat", "type": "Flatten", "bottom": "h", "top": "out"}""", Phase.TRAIN, 0);
    }

    /**
     * The host path on layers that have kernels, forced onto the host among GPU layers: a convolution and
     * an InnerProduct (params on the host, their gradients added to the GPU's), a BatchNorm (its running
     * statistics, params the layer writes in its forward), a PReLU in place and an Embed with a bias;
     * three backward passes, the gradients cleared after the first.
     */
    @Test
    void theHostPathRunsLayersWithParamsAndInPlaceAsTheCpu() {
        matchesTheCpu("""
                {"name": "conv", "type": "Convolution", "bottom": "data", "top": "c", "num_output": 4, "kernel_size": 3,
                 "weight_filler": {"type": "xavier"}},
                {"name": "bn", "type": "BatchNorm", "bottom": "c", "top": "n"},
                {"name": "prelu", "type": "PReLU", "bottom": "n", "top": "n"},
                {"name": "fc", "type": "InnerProduct", "bottom": "n", "top": "h", "num_output": 12},
                {"name": "embed", "type": "Embed", "bottom": "label", "top": "e", "input_dim": 5, "num_output": 12,
                 "weight_filler": {"type": "gaussian", "std": 0.5}, "bias_filler": {"type": "gaussian"}},
                {"name": "sum", "type": "Eltwise", "bottom": ["h", "e"], "top": "out"}""", Phase.TRAIN, 0,
                Set.of("Convolution", "BatchNorm", "PReLU", "InnerProduct", "Embed"), 3);
    }

    /** An Embed index that is not an integer in range stops the GPU's forward with the CPU's message. */
    @Test
    void aBadEmbedIndexIsTheLayersErrorOnTheGpuToo() {
        Gpu.assumeOpen(device);
        String layers = """
                {"name": "embed", "type": "Embed", "bottom": "label", "top": "e", "input_dim": 5, "num_output": 6},
                {"name": "flat", "type": "Flatten", "bottom": "data", "top": "out"}""";
        float[] label = {0, 3, 2.5f, 7};
        Net cpu = build(layers, Phase.TRAIN);
        System.arraycopy(label, 0, cpu.blob("label").x(), 0, label.length);
        RuntimeException want = assertThrows(RuntimeException.class, cpu::forward);
        Net onGpu = build(layers, Phase.TRAIN);
        try (CudaNet gpu = CudaNet.open(device, onGpu, CudaOps.Precision.F32)) {
            gpu.upload("label", false, label, label.length);
            RuntimeException got = assertThrows(RuntimeException.class, gpu::forward);
            assertEquals(want.getMessage(), got.getMessage());
            assertEquals(want.getClass(), got.getClass());
        }
        assertTrue(want.getMessage().contains("index 2.5 at position 2"), want.getMessage());
    }

    /** The TEST phase: Dropout passes its input on, BatchNorm uses the running statistics. */
    @Test
    void theTestPhaseMatchesTheCpu() {
        matchesTheCpu("""
                {"name": "fc", "type": "InnerProduct", "bottom": "data", "top": "h", "num_output": 12},
                {"name": "drop", "type": "Dropout", "bottom": "h", "top": "d"},
                {"name": "bn", "type": "BatchNorm", "bottom": "d", "top": "d"},
                {"name": "bn_scale", "type": "Scale", "bottom": "d", "top": "d", "bias_term": true},
                {"name": "tanh", "type": "TanH", "bottom": "d", "top": "out"}""", Phase.TEST, 0);
    }
}
