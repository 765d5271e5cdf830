package org.cortado.engine.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.layers.Layer;
import org.cortado.engine.net.Net;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Tensor;

/**
 * {@code cortado bench}: training throughput (forward + backward + update) on synthetic data of the
 * net's input shapes, and Caffe-{@code time}-style mean forward/backward time per layer.
 *
 * <p>Synthetic data: N(0, 1) values for data inputs; for a label input (one that a layer reads without
 * propagating a gradient, like SoftmaxWithLoss's second bottom) random class ids below the size of
 * axis 1 of that layer's first bottom. A fresh batch is drawn once; every iteration trains on it.
 * With real data ({@link #run(CortadoConfig, int, int, int, java.nio.file.Path)} given the config's
 * folder), each iteration instead reads and augments the sampler's next batch on the training thread,
 * as an in-process training loop does, so the time includes loading.
 *
 * <p>Next to the speed: the parameter count and the forward FLOPs per image ({@link Layer#flops} says
 * what is counted), and the achieved training GFLOP/s ({@link #TRAINING_FLOPS_FACTOR} x forward).
 */
public final class Benchmark {
    private Benchmark() {}

    /** One layer's mean times per iteration and its forward FLOPs per image ({@link Layer#flops}). */
    public record LayerTime(String name, String type, double forwardMs, double backwardMs, long flops) {}

    /**
     * The measurement. {@code params}: {@link Net#paramCount()}; {@code flops}: forward FLOPs per image
     * ({@link Net#flopsPerImage()}, a multiply-add counted as 2); {@code gflopsPerSec}: achieved training
     * rate, counting a training step (forward + backward) as 3 forwards, the usual convention (backward
     * computes two products of the forward's size: data and weight gradients).
     */
    public record Result(String net, int batch, int threads, int iters, double imagesPerSec, double msPerIter,
                         double medianMsPerIter, double updateMs, long params, long flops, double gflopsPerSec, List<LayerTime> perLayer) {}

    /** Training FLOPs per image as a multiple of forward FLOPs (forward + backward, the usual 3x). */
    public static final int TRAINING_FLOPS_FACTOR = 3;

    /** Runs {@code warmup} untimed then {@code iters} timed steps on synthetic data; {@code batch <= 0} keeps the config's. */
    public static Result run(CortadoConfig config, int batch, int iters, int warmup) {
        return run(config, batch, iters, warmup, null);
    }

    /**
     * As {@link #run(CortadoConfig, int, int, int)}; with {@code dataDir} (the folder the config's data
     * paths are relative to) on the config's training data instead, read and augmented on this thread.
     */
    public static Result run(CortadoConfig config, int batch, int iters, int warmup, java.nio.file.Path dataDir) {
        try (Trainer trainer = new Trainer(config)) {
            Net net = trainer.trainNet();
            if (batch > 0) {
                if (dataDir != null) {
                    throw new IllegalArgumentException("the batch size of real data is the config's");
                }
                net.setBatchSize(batch);
            }
            java.util.function.Supplier<List<Map<String, Tensor>>> next;
            TrainingData real = dataDir == null ? null : TrainingData.open(config, net, dataDir, s -> { });
            try {
                if (real == null) {
                    Map<String, Tensor> data = synthetic(net, config.seed());
                    next = () -> repeat(data, trainer);
                } else {
                    int bpe = real.train().batchesPerEpoch();
                    long[] pos = {0};
                    next = () -> {
                        List<Map<String, Tensor>> l = new ArrayList<>();
                        for (int i = 0; i < trainer.solver().iterSize(); i++, pos[0]++) {
                            l.add(real.batch(org.cortado.engine.net.Phase.TRAIN, pos[0] / bpe, (int) (pos[0] % bpe)));
                        }
                        return l;
                    };
                }
                return measure(config, trainer, net, iters, warmup, next);
            } finally {
                if (real != null) {
                    real.close();
                }
            }
        }
    }

    private static Result measure(CortadoConfig config, Trainer trainer, Net net, int iters, int warmup,
                                  java.util.function.Supplier<List<Map<String, Tensor>>> next) {
        for (int i = 0; i < warmup; i++) {
            trainer.step(next.get());
        }
        net.profile(true);
        long[] each = new long[iters];
        long t0 = System.nanoTime();
        for (int i = 0; i < iters; i++) {
            long s = System.nanoTime();
            trainer.step(next.get());
            each[i] = System.nanoTime() - s;
        }
        long total = System.nanoTime() - t0;
        java.util.Arrays.sort(each);
        net.profile(false);
        List<LayerTime> perLayer = new ArrayList<>();
        long layerNanos = 0;
        List<Layer> layers = net.layers();
        for (int l = 0; l < layers.size(); l++) {
            layerNanos += net.forwardNanos(l) + net.backwardNanos(l);
            perLayer.add(new LayerTime(layers.get(l).name(), layers.get(l).type(),
                    net.forwardNanos(l) / 1e6 / iters, net.backwardNanos(l) / 1e6 / iters,
                    net.flops(l) / Math.max(1, net.batchSize())));
        }
        double msPerIter = total / 1e6 / iters;
        int b = net.batchSize() * trainer.solver().iterSize();
        double imagesPerSec = b * 1000.0 / msPerIter;
        long flops = net.flopsPerImage();
        return new Result(config.name(), net.batchSize(), config.threads(), iters, imagesPerSec,
                msPerIter, each[iters / 2] / 1e6, (total - layerNanos) / 1e6 / iters, net.paramCount(), flops,
                (double) TRAINING_FLOPS_FACTOR * flops * imagesPerSec / 1e9, perLayer);
    }

    private static List<Map<String, Tensor>> repeat(Map<String, Tensor> data, Trainer t) {
        List<Map<String, Tensor>> l = new ArrayList<>();
        for (int i = 0; i < t.solver().iterSize(); i++) {
            l.add(data);
        }
        return l;
    }

    /** Random inputs of the net's current input shapes. */
    public static Map<String, Tensor> synthetic(Net net, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Blob in : net.inputs()) {
            Tensor t = new Tensor(in.shape());
            int classes = labelClasses(net, in);
            for (int i = 0; i < t.count(); i++) {
                t.data()[i] = classes > 0 ? rng.nextInt(classes) : (float) rng.nextGaussian();
            }
            out.put(in.name(), t);
        }
        return out;
    }

    /** For a blob some layer reads as a label, the number of classes; otherwise 0. */
    static int labelClasses(Net net, Blob input) {
        List<Layer> layers = net.layers();
        java.util.Set<Blob> aliases = new java.util.HashSet<>(List.of(input));
        for (int l = 0; l < layers.size(); l++) {
            List<Blob> bottom = net.bottomsOf(l);
            if (layers.get(l).type().equals("Split") && aliases.contains(bottom.get(0))) {
                aliases.addAll(net.topsOf(l));
                continue;
            }
            for (int i = 0; i < bottom.size(); i++) {
                if (aliases.contains(bottom.get(i)) && !layers.get(l).canPropagateDown(i) && i > 0
                        && bottom.get(0).rank() > 1) {
                    return bottom.get(0).dim(1);
                }
            }
        }
        return 0;
    }
}
