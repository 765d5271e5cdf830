package org.cortado.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.train.RunFolder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Snapshots, stop and resume, divergence, a shard that breaks mid-epoch, and the metrics file. */
class RunLifecycleTest {
    static Vertx vertx;
    @TempDir
    static Path dir;

    @BeforeAll
    static void setUp() throws Exception {
        vertx = Vertx.vertx();
        PipelineTesting.writeData(dir.resolve("data"));
    }

    @AfterAll
    static void tearDown() {
        vertx.close();
    }

    /** The weights a snapshot's solver state names (its {@code learned_net}), as resume reads them. */
    private static java.util.Map<String, List<org.cortado.engine.tensor.Tensor>> weightsOf(Path solverState) {
        var state = org.cortado.engine.io.SolverStateFile.read(solverState);
        return org.cortado.engine.io.CaffeWeights.read(solverState.resolveSibling(state.learnedNet()));
    }

    private static final String SGD = """
        {"type": "Nesterov", "base_lr": 0.05, "momentum": 0.9, "weight_decay": 0.0005, "lr_policy": "step",
         "gamma": 0.5, "stepsize": 7, "max_iter": 30, "test_interval": 10, "test_iter": 0, "snapshot": 4}""";

    @Test
    void metricsFileHasAStepLinePerStepWithTestAndEpochFields() throws Exception {
        CortadoConfig config = PipelineTesting.config(dir.resolve("data"), SGD, "{\"threads\": 2}", false);
        RunFolder folder = RunFolder.create(dir.resolve("runs"), "metrics");
        var result = PipelineTesting.run(vertx, config, folder, Pipeline.Start.fresh());
        assertTrue(result.ok(), result::toString);
        List<JsonObject> lines = Files.readAllLines(folder.metricsFile()).stream().map(JsonObject::new).toList();
        // a test pass before the first step (Caffe's test_initialization), then 30 steps
        assertEquals(31, lines.size());
        assertEquals(0, lines.get(0).getLong("step"));
        assertTrue(lines.get(0).containsKey("test_accuracy"));
        for (int i = 1; i <= 30; i++) {
            JsonObject l = lines.get(i);
            assertEquals(i, l.getLong("step"));
            for (String k : List.of("epoch", "loss", "lr", "images_per_sec", "forward_ms", "backward_ms", "data_wait_ms",
                    "loader_queue", "heap_used_mb")) {
                assertTrue(l.containsKey(k), "step " + i + " lacks " + k + ": " + l);
            }
            assertEquals(i % 10 == 0, l.containsKey("test_loss"), "test pass at step " + i); // 30: also the final one
            assertEquals(i % 10 == 0, l.containsKey("test_accuracy"));
            assertEquals(i == 13 || i == 26, l.containsKey("samples"), "epoch end at step " + i); // 13 batches per epoch
        }
        double lr7 = lines.get(7).getDouble("lr");
        double lr8 = lines.get(8).getDouble("lr");
        assertEquals(0.05, lr7, 1e-12); // step 7 used iteration 6
        assertEquals(0.025, lr8, 1e-12);
        double acc = lines.get(30).getDouble("test_accuracy");
        assertTrue(acc > 0.9, "the tiny task is learned: test accuracy " + acc);
        assertEquals(70, lines.get(30).getLong("test_samples"));
        // snapshots every 4 steps plus the final one, the newest 3 kept
        assertEquals(List.of(24L, 28L, 30L), folder.snapshots().stream().map(RunFolder::iterOf).toList());
        assertTrue(Files.isRegularFile(folder.finalWeights()));
    }

    @Test
    void stopSnapshotsAndResumeGivesTheUninterruptedWeights() throws Exception {
        CortadoConfig config = PipelineTesting.config(dir.resolve("data"), SGD,
                "{\"threads\": 2, \"stages\": [\"ip1\"]}", false);
        RunFolder folder = RunFolder.create(dir.resolve("runs"), "resume");
        RunContext ctx = Pipeline.prepare(config, null, folder, "resume", Pipeline.Start.fresh());
        var consumer = vertx.eventBus().<JsonObject>consumer(ctx.addresses().metrics(), m -> {
            if (m.body().getLong("step") == 17) {
                vertx.eventBus().send(ctx.addresses().control(), new JsonObject().put("action", "stop"));
            }
        });
        CoordinatorVerticle.Result stopped;
        try {
            stopped = Pipeline.run(vertx, ctx).toCompletionStage().toCompletableFuture().get();
        } finally {
            consumer.unregister();
            Pipeline.close(ctx);
        }
        assertEquals("stopped", stopped.status());
        assertTrue(stopped.iter() >= 17 && stopped.iter() < 30, "stopped at " + stopped.iter());
        Path snapshot = folder.latestSnapshot().orElseThrow();
        assertEquals(stopped.iter(), RunFolder.iterOf(snapshot));
        assertFalse(Files.exists(folder.finalWeights()), "a stopped run has no final weights");

        var resumed = PipelineTesting.run(vertx, config, folder, new Pipeline.Start(snapshot, null, RunContext.Hooks.NONE, s -> { }));
        assertEquals("finished", resumed.status());
        assertEquals(30, resumed.iter());
        double d = PipelineTesting.maxRelativeDifference(PipelineTesting.finalWeights(folder),
                PipelineTesting.reference(config, 30));
        assertTrue(d <= 1e-6, "resumed run differs from the uninterrupted one by " + d);
    }

    @Test
    void aLiveLearningRateChangeSurvivesStopAndResume() throws Exception {
        CortadoConfig config = PipelineTesting.config(dir.resolve("data"), SGD, "{\"threads\": 2}", false);
        RunFolder folder = RunFolder.create(dir.resolve("runs"), "lr-change");
        RunContext ctx = Pipeline.prepare(config, null, folder, "lr_change", Pipeline.Start.fresh());
        var changed = new java.util.concurrent.CompletableFuture<JsonObject>();
        var consumer = vertx.eventBus().<JsonObject>consumer(ctx.addresses().metrics(), m -> {
            long step = m.body().getLong("step");
            if (step == 3) {
                vertx.eventBus().<JsonObject>request(ctx.addresses().control(), new JsonObject().put("action", "lr").put("lr", 0.01))
                        .onSuccess(r -> changed.complete(r.body())).onFailure(changed::completeExceptionally);
            } else if (step == 12) {
                vertx.eventBus().send(ctx.addresses().control(), new JsonObject().put("action", "stop"));
            }
        });
        CoordinatorVerticle.Result stopped;
        try {
            stopped = Pipeline.run(vertx, ctx).toCompletionStage().toCompletableFuture().get();
        } finally {
            consumer.unregister();
            Pipeline.close(ctx);
        }
        assertEquals("stopped", stopped.status());
        long from = changed.get().getLong("from_step");
        java.util.function.LongToDoubleFunction policy = i -> 0.05 * Math.pow(0.5, i / 7); // step, stepsize 7, gamma 0.5
        double scale = 0.01 / policy.applyAsDouble(from);
        assertEquals(scale, changed.get().getDouble("scale"), 1e-12);
        Path snapshot = folder.latestSnapshot().orElseThrow();
        long at = RunFolder.iterOf(snapshot);
        assertTrue(at > from, "the snapshot is after the change");
        assertEquals(scale, folder.rateScaleAt(at), 1e-12);
        assertEquals(1.0, folder.rateScaleAt(from - 1), "before the change: the policy's rate");

        var resumed = PipelineTesting.run(vertx, config, folder, new Pipeline.Start(snapshot, null, RunContext.Hooks.NONE, s -> { }));
        assertEquals("finished", resumed.status());
        List<JsonObject> lines = Files.readAllLines(folder.metricsFile()).stream().map(JsonObject::new).toList();
        int checked = 0;
        for (JsonObject l : lines) {
            long step = l.getLong("step");
            if (l.containsKey("lr")) { // line "step" s reports update s - 1
                double want = step - 1 >= from ? scale * policy.applyAsDouble(step - 1) : policy.applyAsDouble(step - 1);
                assertEquals(want, l.getDouble("lr"), 1e-9, "step " + step);
                checked += step > at ? 1 : 0;
            }
        }
        assertEquals(30 - at, checked, "every resumed step kept the changed rate (scaled schedule)");
    }

    @Test
    void withNoLoadersTheRunWaitsForClusterWorkersAndSaysSo() throws Exception {
        CortadoConfig config = PipelineTesting.config(dir.resolve("data"), SGD,
                "{\"threads\": 1, \"loaders\": 0, \"request_timeout_ms\": 200}", false);
        RunFolder folder = RunFolder.create(dir.resolve("runs"), "no-loaders");
        List<String> said = new java.util.concurrent.CopyOnWriteArrayList<>();
        RunContext ctx = Pipeline.prepare(config, null, folder, "no_loaders", new Pipeline.Start(null, null, RunContext.Hooks.NONE, said::add));
        try {
            var result = Pipeline.run(vertx, ctx).toCompletionStage().toCompletableFuture();
            long end = System.nanoTime() + 20_000_000_000L;
            while (said.isEmpty() && System.nanoTime() < end) {
                Thread.sleep(20);
            }
            Thread.sleep(700); // several more timeouts: said once
            assertEquals(1, said.size(), "said once: " + said);
            assertTrue(said.getFirst().contains("pipeline.loaders is 0") && said.getFirst().contains("waits for cluster workers"),
                    said.getFirst());
            assertFalse(result.isDone(), "it waits instead of failing");
            vertx.eventBus().send(ctx.addresses().control(), new JsonObject().put("action", "stop"));
            var stopped = result.get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals("stopped", stopped.status());
            assertEquals(0, stopped.iter());
        } finally {
            Pipeline.close(ctx);
        }
    }

    @Test
    void aLayerFailingMidStepStopsTheRunWithASnapshotOfTheLastAppliedStep() throws Exception {
        // Two stages: the last one has sent its gradients to the optimizer when the first fails in
        // its backward of step 5; the optimizer hands them back unchanged and the snapshot is step 5's.
        CortadoConfig config = PipelineTesting.config(dir.resolve("data"), SGD.replace("\"snapshot\": 4", "\"snapshot\": 0"),
                "{\"threads\": 2, \"stages\": [\"ip1\"]}", false);
        RunFolder folder = RunFolder.create(dir.resolve("runs"), "layer-fails");
        RunContext.Hooks hooks = new RunContext.Hooks() {
            @Override
            public void beforeBackward(int stage, long step) {
                if (stage == 0 && step == 5) {
                    throw new IllegalStateException("injected: conv2 cannot go on");
                }
            }
        };
        long t0 = System.nanoTime();
        var result = PipelineTesting.run(vertx, config, folder, new Pipeline.Start(null, null, hooks, s -> { }));
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals("failed", result.status());
        assertTrue(result.message().contains("stage 0") && result.message().contains("injected: conv2 cannot go on"),
                result.message());
        assertEquals(5, result.iter());
        assertEquals(5, RunFolder.iterOf(folder.latestSnapshot().orElseThrow()));
        assertTrue(seconds < 30, "the snapshot does not wait for a step that cannot finish: " + seconds + " s");
        var snapshot = weightsOf(folder.latestSnapshot().orElseThrow());
        double d = PipelineTesting.maxRelativeDifference(snapshot, PipelineTesting.reference(config, 5));
        assertTrue(d <= 1e-5, "the snapshot holds step 5's weights: max relative difference " + d);
        assertFalse(Files.exists(folder.finalWeights()));
    }

    @Test
    void aLayerFailingInATestPassStopsTheRunWithASnapshotOfTheWeightsItTested() throws Exception {
        CortadoConfig config = PipelineTesting.config(dir.resolve("data"), SGD.replace("\"snapshot\": 4", "\"snapshot\": 0"),
                "{\"threads\": 2}", false);
        RunFolder folder = RunFolder.create(dir.resolve("runs"), "test-fails");
        RunContext.Hooks hooks = new RunContext.Hooks() {
            @Override
            public void beforeForward(int stage, String phase, long step) {
                if (phase.equals("TEST") && step == 10) {
                    throw new IllegalStateException("injected: ip1 cannot go on");
                }
            }
        };
        var result = PipelineTesting.run(vertx, config, folder, new Pipeline.Start(null, null, hooks, s -> { }));
        assertEquals("failed", result.status());
        assertTrue(result.message().contains("stage 0") && result.message().contains("injected: ip1 cannot go on"),
                result.message());
        assertEquals(10, result.iter());
        Path state = folder.latestSnapshot().orElseThrow();
        assertEquals(10, RunFolder.iterOf(state));
        var snapshot = weightsOf(state);
        double d = PipelineTesting.maxRelativeDifference(snapshot, PipelineTesting.reference(config, 10));
        assertTrue(d <= 1e-6, "the snapshot holds step 10's weights: max relative difference " + d);
    }

    @Test
    void aDivergingLossStopsTheRunAndKeepsTheLastGoodSnapshot() throws Exception {
        String wild = """
            {"type": "SGD", "base_lr": 1e30, "lr_policy": "step", "gamma": 1, "stepsize": 1000000,
             "max_iter": 50, "snapshot": 1}""";
        // lr 1e30 from step 3 on: the first two steps are fine, then the weights blow up
        CortadoConfig config = PipelineTesting.config(dir.resolve("data"), wild.replace("\"base_lr\": 1e30",
                "\"base_lr\": 0.01, \"lr_policy\": \"multistep\", \"stepvalue\": [2], \"gamma\": 1e32").replace(
                "\"lr_policy\": \"step\", \"gamma\": 1, \"stepsize\": 1000000,", ""), "{\"threads\": 2}", false);
        RunFolder folder = RunFolder.create(dir.resolve("runs"), "nan");
        var result = PipelineTesting.run(vertx, config, folder, Pipeline.Start.fresh());
        assertEquals("failed", result.status());
        assertTrue(result.message().contains("loss is"), result.message());
        long last = RunFolder.iterOf(folder.latestSnapshot().orElseThrow());
        assertTrue(last >= 2 && last < result.iter(), "last snapshot " + last + ", failed at " + result.iter());
        for (Path s : folder.snapshots()) {
            var w = weightsOf(s);
            for (var ts : w.values()) {
                for (var t : ts) {
                    for (int i = 0; i < t.count(); i++) {
                        assertTrue(Float.isFinite(t.data()[i]), "snapshot " + s.getFileName() + " holds a non-finite weight");
                    }
                }
            }
        }
        assertFalse(Files.exists(folder.finalWeights()));
    }

    @Test
    void aShardThatBreaksMidEpochFailsTheBatchWithItsFileAndTheRunStopsWithASnapshot() throws Exception {
        // Deflated npz shards are inflated into the heap; with a 1 MB budget (half for open shards) the
        // loader closes and reopens them during the epoch. Shard files are overwritten after step 3.
        Path data = dir.resolve("npz");
        Path train = Files.createDirectories(data.resolve("train"));
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        for (int part = 0; part < 4; part++) {
            int rows = 1000;
            byte[] x = new byte[rows * 144];
            long[] y = new long[rows];
            for (int i = 0; i < rows; i++) {
                y[i] = r.nextInt(PipelineTesting.CLASSES);
                for (int k = 0; k < 144; k++) {
                    x[i * 144 + k] = (byte) r.nextInt(256);
                }
            }
            try (var zip = new java.util.zip.ZipOutputStream(Files.newOutputStream(train.resolve("part-" + part + ".npz")))) {
                zip.putNextEntry(new java.util.zip.ZipEntry("data.npy"));
                org.cortado.engine.data.NpyFile.write(zip, org.cortado.engine.data.NdArray.ofBytes("x", x, rows, 1, 12, 12));
                zip.closeEntry();
                zip.putNextEntry(new java.util.zip.ZipEntry("label.npy"));
                org.cortado.engine.data.NpyFile.write(zip, org.cortado.engine.data.NdArray.ofLongs("y", y, rows));
                zip.closeEntry();
            }
        }
        String json = PipelineTesting.configJson(dir.resolve("data"), """
                {"type": "SGD", "base_lr": 0.01, "lr_policy": "fixed", "max_iter": 200}""", "{\"threads\": 2}", false)
                .replace("\"data\": {\"train\": {\"source\": \"" + dir.resolve("data").resolve("train").toString().replace("\\", "/") + "\"}",
                        "\"data\": {\"train\": {\"source\": \"" + train.toString().replace("\\", "/")
                                + "\", \"memory_mb\": 1, \"shuffle_mode\": \"full\"}");
        CortadoConfig config = CortadoConfig.from(org.cortado.engine.config.Json.parse(json, "t"), "t", "t");
        RunFolder folder = RunFolder.create(dir.resolve("runs"), "broken");
        RunContext ctx = Pipeline.prepare(config, null, folder, "broken", Pipeline.Start.fresh());
        var consumer = vertx.eventBus().<JsonObject>consumer(ctx.addresses().metrics(), m -> {
            if (m.body().getLong("step") == 3) {
                try (var files = Files.list(train)) {
                    for (Path f : files.toList()) {
                        Files.writeString(f, "this is not a zip file any more");
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        });
        CoordinatorVerticle.Result result;
        try {
            result = Pipeline.run(vertx, ctx).toCompletionStage().toCompletableFuture().get();
        } finally {
            consumer.unregister();
            Pipeline.close(ctx);
        }
        assertEquals("failed", result.status());
        assertTrue(result.message().contains("part-") && result.message().contains(".npz"), result.message());
        assertTrue(result.iter() >= 3 && result.iter() < 200, "stopped at " + result.iter());
        Path snapshot = folder.latestSnapshot().orElseThrow();
        assertEquals(result.iter(), RunFolder.iterOf(snapshot), "the snapshot holds the last completed step");
    }
}
