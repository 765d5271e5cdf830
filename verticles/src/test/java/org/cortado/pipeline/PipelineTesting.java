package org.cortado.pipeline;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.config.Json;
import org.cortado.engine.data.NdArray;
import org.cortado.engine.data.NpyFile;
import org.cortado.engine.io.CaffeWeights;
import org.cortado.engine.net.Phase;
import org.cortado.engine.tensor.Tensor;
import org.cortado.engine.train.RunFolder;
import org.cortado.engine.train.Trainer;
import org.cortado.engine.train.TrainingData;

/** Small data, a small net, and the in-process reference run the pipeline is compared with. */
public final class PipelineTesting {
    static final int CLASSES = 4;

    private PipelineTesting() {}

    /** {@code n} uint8 images (1, 12, 12) whose class shows as a bright block (top or bottom half, middle or outer columns), in npy shards of 50. */
    public static void writeSplit(Path dir, int n, long seed) throws Exception {
        Files.createDirectories(dir);
        SplittableRandom r = new SplittableRandom(seed);
        for (int start = 0, part = 0; start < n; start += 50, part++) {
            int rows = Math.min(50, n - start);
            byte[] x = new byte[rows * 144];
            long[] y = new long[rows];
            for (int i = 0; i < rows; i++) {
                int c = r.nextInt(CLASSES);
                y[i] = c;
                for (int h = 0; h < 12; h++) {
                    for (int w = 0; w < 12; w++) {
                        boolean lit = (h < 6) == (c < 2) && (w >= 3 && w < 9) == (c % 2 == 0); // unchanged by a horizontal flip
                        x[i * 144 + h * 12 + w] = (byte) ((lit ? 150 : 30) + r.nextInt(100));
                    }
                }
            }
            String base = String.format("part-%05d", part);
            NpyFile.write(dir.resolve(base + "_data.npy"), NdArray.ofBytes("x", x, rows, 1, 12, 12));
            NpyFile.write(dir.resolve(base + "_label.npy"), NdArray.ofLongs("y", y, rows));
        }
    }

    public static void writeData(Path root) throws Exception {
        writeSplit(root.resolve("train"), 200, 1);
        writeSplit(root.resolve("test"), 70, 2);
    }

    /** A config over {@code root}'s data with the given {@code solver} and {@code pipeline} sections (batch 16, or 20). */
    public static CortadoConfig config(Path root, String solver, String pipeline, boolean bigBatchNet) {
        return CortadoConfig.from(Json.parse(configJson(root, solver, pipeline, bigBatchNet), "test config"), "test config", "tiny");
    }

    /** The text of {@link #config}. */
    public static String configJson(Path root, String solver, String pipeline, boolean bigBatchNet) {
        return """
            {"version": 1, "name": "tiny", "seed": 7,
             "net": {"layers": [
               {"name": "data", "type": "Input", "top": ["data", "label"], "shape": [{"dim": [%d, 1, 12, 12]}, {"dim": [%d]}]},
               {"name": "conv1", "type": "Convolution", "bottom": "data", "top": "conv1", "num_output": 4, "kernel_size": 3,
                "weight_filler": {"type": "xavier"}, "bias_filler": {"type": "constant", "value": 0.1}},
               {"name": "relu1", "type": "ReLU", "bottom": "conv1", "top": "conv1"},
               {"name": "pool1", "type": "Pooling", "bottom": "conv1", "top": "pool1", "pool": "MAX", "kernel_size": 2, "stride": 2},
               {"name": "ip1", "type": "InnerProduct", "bottom": "pool1", "top": "ip1", "num_output": 16,
                "weight_filler": {"type": "xavier"}},
               {"name": "relu2", "type": "ReLU", "bottom": "ip1", "top": "ip1"},
               {"name": "ip2", "type": "InnerProduct", "bottom": "ip1", "top": "ip2", "num_output": 4,
                "weight_filler": {"type": "xavier"}},
               {"name": "accuracy", "type": "Accuracy", "bottom": ["ip2", "label"], "top": "accuracy", "include": {"phase": "TEST"}},
               {"name": "loss", "type": "SoftmaxWithLoss", "bottom": ["ip2", "label"], "top": "loss"}
             ]},
             "solver": %s,
             "data": {"train": {"source": "%s"}, "test": {"source": "%s"}},
             "augment": {"train": [{"type": "flip"}, {"type": "normalize", "mean": [100], "std": [60]}],
                         "test": [{"type": "normalize", "mean": [100], "std": [60]}]},
             "pipeline": %s,
             "dashboard": {"port": 0}
            }""".formatted(bigBatchNet ? 20 : 16, bigBatchNet ? 20 : 16, solver,
                root.resolve("train").toString().replace("\\", "/"), root.resolve("test").toString().replace("\\", "/"),
                pipeline);
    }

    /** Trains in-process with {@link Trainer} on the same batches; returns the weights. */
    public static Map<String, List<Tensor>> reference(CortadoConfig config, long steps) {
        try (Trainer t = new Trainer(config);
             TrainingData data = TrainingData.open(config, t.trainNet(), null, s -> { })) {
            int bpe = data.train().batchesPerEpoch();
            int iterSize = t.solver().iterSize();
            for (long i = 0; i < steps; i++) {
                List<Map<String, Tensor>> batches = new java.util.ArrayList<>();
                for (int k = 0; k < iterSize; k++) {
                    long pos = i * iterSize + k;
                    batches.add(data.batch(Phase.TRAIN, pos / bpe, (int) (pos % bpe)));
                }
                t.step(batches);
            }
            return t.trainNet().weights();
        }
    }

    /** Runs the pipeline to the end; returns the result. */
    static CoordinatorVerticle.Result run(Vertx vertx, CortadoConfig config, RunFolder folder, Pipeline.Start start)
            throws Exception {
        RunContext ctx = Pipeline.prepare(config, null, folder, "t" + System.nanoTime(), start);
        try {
            Future<CoordinatorVerticle.Result> f = Pipeline.run(vertx, ctx);
            return f.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
        } finally {
            Pipeline.close(ctx);
        }
    }

    public static Map<String, List<Tensor>> finalWeights(RunFolder folder) {
        return CaffeWeights.read(folder.finalWeights());
    }

    /**
     * Largest {@code |a - b| / max(|b|, rms(b's blob))} over all weights: relative to each value, or to the
     * blob's typical magnitude for values far below it (where float rounding of a sum is all that differs).
     */
    public static double maxRelativeDifference(Map<String, List<Tensor>> a, Map<String, List<Tensor>> b) {
        if (!a.keySet().equals(b.keySet())) {
            throw new AssertionError("layers differ: " + a.keySet() + " vs " + b.keySet());
        }
        double worst = 0;
        for (String k : b.keySet()) {
            for (int i = 0; i < b.get(k).size(); i++) {
                float[] x = a.get(k).get(i).data();
                float[] y = b.get(k).get(i).data();
                int n = b.get(k).get(i).count();
                double sq = 0;
                for (int j = 0; j < n; j++) {
                    sq += (double) y[j] * y[j];
                }
                double rms = Math.sqrt(sq / Math.max(1, n));
                for (int j = 0; j < n; j++) {
                    worst = Math.max(worst, Math.abs(x[j] - y[j]) / Math.max(Math.max(Math.abs(y[j]), rms), 1e-12));
                }
            }
        }
        return worst;
    }
}
