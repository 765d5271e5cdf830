package org.cortado.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import java.nio.file.Path;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.train.RunFolder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pipeline trains exactly as the in-process {@code Trainer} does, with one stage or several. */
class PipelineEquivalenceTest {
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

    private static final String SGD = """
        {"type": "SGD", "base_lr": 0.05, "momentum": 0.9, "weight_decay": 0.0005, "lr_policy": "inv",
         "gamma": 0.0001, "power": 0.75, "max_iter": 20, "test_interval": 10, "test_iter": 0}""";

    /** The most steps running at once in the last run (2: the coordinator handed a step ahead). */
    private int mostRunning;

    private double runAndCompare(String solver, String pipeline, boolean bigBatch, String name) throws Exception {
        CortadoConfig config = PipelineTesting.config(dir.resolve("data"), solver, pipeline, bigBatch);
        RunFolder folder = RunFolder.create(dir.resolve("runs"), name);
        java.util.concurrent.atomic.AtomicInteger most = new java.util.concurrent.atomic.AtomicInteger();
        RunContext.Hooks hooks = new RunContext.Hooks() {
            @Override
            public void dispatched(long step, int running) {
                most.accumulateAndGet(running, Math::max);
            }
        };
        var result = PipelineTesting.run(vertx, config, folder, new Pipeline.Start(null, null, hooks, s -> { }));
        assertTrue(result.ok(), () -> "run failed: " + result);
        assertEquals(config.schedule().maxIter(), result.iter());
        mostRunning = most.get();
        return PipelineTesting.maxRelativeDifference(PipelineTesting.finalWeights(folder),
                PipelineTesting.reference(config, config.schedule().maxIter()));
    }

    @Test
    void oneStageOneMicroBatchEqualsTheTrainer() throws Exception {
        double d = runAndCompare(SGD, "{\"threads\": 2}", false, "one");
        assertTrue(d <= 1e-6, "max relative difference " + d);
        assertEquals(2, mostRunning, "the next step is handed to the stage while one runs");
    }

    @Test
    void threeStagesAndMicroBatchesEqualTheTrainer() throws Exception {
        double d = runAndCompare(SGD, "{\"threads\": 2, \"stages\": [\"pool1\", \"ip2\"], \"micro_batches\": 4}", true, "three");
        assertTrue(d <= 1e-5, "max relative difference " + d);
        assertEquals(2, mostRunning, "the next step's micro-batches wait in the stages while one step runs");
    }

    @Test
    void adamWithIterSizeAndTwoStagesEqualsTheTrainer() throws Exception {
        String adam = """
            {"type": "Adam", "base_lr": 0.01, "momentum": 0.9, "momentum2": 0.999, "lr_policy": "fixed",
             "iter_size": 2, "max_iter": 8, "clip_gradients": 1.0}""";
        double d = runAndCompare(adam, "{\"threads\": 2, \"stages\": [\"ip1\"], \"micro_batches\": 3}", true, "adam");
        assertTrue(d <= 1e-5, "max relative difference " + d);
    }

    /** A step of more batches (iter_size 5) than pipeline.prefetch (2) asks for all of them. */
    @Test
    void anIterSizeAbovePrefetchEqualsTheTrainer() throws Exception {
        String sgd = """
            {"type": "SGD", "base_lr": 0.05, "momentum": 0.9, "lr_policy": "fixed", "iter_size": 5, "max_iter": 3}""";
        double d = runAndCompare(sgd, "{\"threads\": 1, \"prefetch\": 2}", false, "iter5");
        assertTrue(d <= 1e-6, "max relative difference " + d);
    }
}
