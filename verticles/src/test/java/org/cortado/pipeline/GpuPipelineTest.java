package org.cortado.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Tensor;
import org.cortado.engine.train.RunFolder;
import org.cortado.kernels.Cuda;
import org.cortado.kernels.CudaUnavailableException;
import org.cortado.kernels.EmulatedCuda;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pipeline.device}: on a GPU the pipeline trains as the in-process CPU {@code Trainer} does (one
 * stage, several stages with micro-batches, Adam with iter_size and clipping, a snapshot and a resume),
 * within float32 tolerance (1e-4: the GPU sums in another order). Without a GPU those tests run on the
 * CPU emulation of the kernels ({@link EmulatedCuda}, installed for each of them alone), skip when that
 * cannot run either (no g++), and fail under {@code CORTADO_REQUIRE_GPU=1}, as
 * {@code kernels/gpu/check.sh} runs them; what {@code "cuda"} and {@code "auto"} do on a machine without
 * a GPU is tested there, with the emulation not installed.
 */
class GpuPipelineTest {
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
         "gamma": 0.0001, "power": 0.75, "max_iter": %d, "test_interval": 10, "test_iter": 0}""";

    /** The CPU emulation while a test runs on it (no GPU here), else null. */
    private static EmulatedCuda emulation;

    /** The GPU, or its emulation when this machine has none; skips when neither is there. */
    private static void assumeGpu() {
        Cuda.Availability a = Cuda.availability();
        if (a.usable()) {
            return;
        }
        if ("1".equals(System.getenv("CORTADO_REQUIRE_GPU"))) {
            fail("CORTADO_REQUIRE_GPU=1 but CUDA is not usable: " + a.reason());
        }
        String why = EmulatedCuda.unavailable();
        Assumptions.assumeTrue(why == null, () -> "GPU test skipped: " + a.reason()
                + "; and the CPU emulation of the kernels is not available: " + why);
        emulation = EmulatedCuda.install();
    }

    @AfterEach
    void giveTheDriverBack() {
        if (emulation != null) {
            emulation.close();
            emulation = null;
        }
    }

    private static String onGpu(String pipeline) {
        return pipeline.replace("{", "{\"device\": \"cuda\", ");
    }

    private record Run(CoordinatorVerticle.Result result, RunFolder folder, List<String> log) {}

    private static Run run(CortadoConfig config, String name, Path snapshot) throws Exception {
        RunFolder folder = RunFolder.create(dir.resolve("runs"), name);
        List<String> log = java.util.Collections.synchronizedList(new ArrayList<>());
        var result = PipelineTesting.run(vertx, config, folder, new Pipeline.Start(snapshot, null, RunContext.Hooks.NONE, log::add));
        assertTrue(result.ok(), () -> name + " failed: " + result + "; log " + log);
        return new Run(result, folder, log);
    }

    private static void trainsAsTheCpu(String solver, String pipeline, boolean bigBatch, String name) throws Exception {
        trainsAsTheCpu(solver, pipeline, bigBatch, name, json -> json);
    }

    /** {@code edit} changes the text of the test config (its net) first. */
    private static void trainsAsTheCpu(String solver, String pipeline, boolean bigBatch, String name,
                                       java.util.function.UnaryOperator<String> edit) throws Exception {
        assumeGpu();
        CortadoConfig config = CortadoConfig.from(Json.parse(edit.apply(PipelineTesting.configJson(dir.resolve("data"),
                solver, onGpu(pipeline), bigBatch)), "test config"), "test config", "tiny");
        Run r = run(config, name, null);
        assertEquals(config.schedule().maxIter(), r.result().iter());
        assertTrue(r.log().stream().anyMatch(l -> l.startsWith("training on GPU 0")), () -> "log: " + r.log());
        double d = PipelineTesting.maxRelativeDifference(PipelineTesting.finalWeights(r.folder()),
                PipelineTesting.reference(config, config.schedule().maxIter()));
        assertTrue(d <= 1e-4, name + ": max relative difference from the CPU " + d);
    }

    @Test
    void oneStageOnTheGpuTrainsAsTheCpu() throws Exception {
        trainsAsTheCpu(SGD.formatted(20), "{\"threads\": 2}", false, "gpu-one");
    }

    @Test
    void threeStagesAndMicroBatchesOnTheGpuTrainAsTheCpu() throws Exception {
        trainsAsTheCpu(SGD.formatted(20), "{\"threads\": 2, \"stages\": [\"pool1\", \"ip2\"], \"micro_batches\": 4}", true,
                "gpu-three");
    }

    @Test
    void adamWithIterSizeAndClippingOnTheGpuTrainsAsTheCpu() throws Exception {
        String adam = """
            {"type": "Adam", "base_lr": 0.01, "momentum": 0.9, "momentum2": 0.999, "lr_policy": "fixed",
             "iter_size": 2, "max_iter": 8, "clip_gradients": 1.0}""";
        trainsAsTheCpu(adam, "{\"threads\": 2, \"stages\": [\"ip1\"], \"micro_batches\": 2}", true, "gpu-adam");
    }

    /**
     * BatchNorm (its Scale folded in) and Dropout, in two stages: the batch statistics, the running sums and
     * the masks as on the CPU (one micro-batch: a micro-batch's statistics and masks are its own).
     */
    @Test
    void aBatchNormAndDropoutNetInTwoStagesOnTheGpuTrainsAsTheCpu() throws Exception {
        trainsAsTheCpu(SGD.formatted(12), "{\"threads\": 2, \"stages\": [\"ip1\"]}", false, "gpu-bn", json -> json
                .replace("{\"name\": \"relu1\"", """
                        {"name": "bn1", "type": "BatchNorm", "bottom": "conv1", "top": "conv1"},
                        {"name": "scale1", "type": "Scale", "bottom": "conv1", "top": "conv1", "bias_term": true},
                        {"name": "relu1\"""")
                .replace("{\"name\": \"ip2\"", """
                        {"name": "drop", "type": "Dropout", "bottom": "ip1", "top": "ip1", "dropout_ratio": 0.3},
                        {"name": "ip2\""""));
    }

    /** The snapshot brings the GPU's weights and solver history down; a resumed GPU run continues exactly. */
    @Test
    void aGpuSnapshotResumesOnTheGpuAsTheUninterruptedCpuRun() throws Exception {
        assumeGpu();
        String pipeline = onGpu("{\"threads\": 2, \"stages\": [\"ip1\"]}");
        CortadoConfig first = PipelineTesting.config(dir.resolve("data"), SGD.formatted(12), pipeline, false);
        Run a = run(first, "gpu-first", null);
        Path snapshot = a.folder().snapshots().getLast();
        assertEquals(12, RunFolder.iterOf(snapshot));
        CortadoConfig whole = PipelineTesting.config(dir.resolve("data"), SGD.formatted(24), pipeline, false);
        Run b = run(whole, "gpu-resumed", snapshot);
        assertEquals(24, b.result().iter());
        double d = PipelineTesting.maxRelativeDifference(PipelineTesting.finalWeights(b.folder()),
                PipelineTesting.reference(whole, 24));
        assertTrue(d <= 1e-4, "resumed GPU run differs from the uninterrupted CPU run by " + d);
    }

    /** Without a GPU, "cuda" stops the run before anything is deployed, saying why; it never falls back. */
    @Test
    void cudaWithoutAGpuFailsAtStartSayingWhy() {
        Cuda.Availability a = Cuda.availability();
        Assumptions.assumeFalse(a.usable(), "this machine has a usable GPU");
        CortadoConfig config = PipelineTesting.config(dir.resolve("data"), SGD.formatted(4), onGpu("{\"threads\": 2}"), false);
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                () -> Pipeline.prepare(config, null, null, "nogpu", Pipeline.Start.fresh()));
        assertEquals("pipeline.device is \"cuda:0\", but CUDA is not usable here: " + a.reason() + ". Set \"device\": "
                + "\"cpu\" to train on the CPU, or \"auto\" to use a GPU only where there is one", e.getMessage());
    }

    /** "auto" trains wherever it can and says where: the GPU when this machine has one, else the CPU and why. */
    @Test
    void autoSaysWhereItTrains() throws Exception {
        Cuda.Availability a = Cuda.availability();
        CortadoConfig config = PipelineTesting.config(dir.resolve("data"), SGD.formatted(4),
                "{\"device\": \"auto\", \"threads\": 2}", false);
        Run r = run(config, "auto", null);
        String expected = a.usable() ? "pipeline.device \"auto\": training on GPU 0 (" + a.name() + ")"
                : "pipeline.device \"auto\": training on the CPU (" + a.reason() + ")";
        assertTrue(r.log().contains(expected), () -> "log: " + r.log());
        Map<String, List<Tensor>> w = PipelineTesting.finalWeights(r.folder());
        assertTrue(PipelineTesting.maxRelativeDifference(w, PipelineTesting.reference(config, 4)) <= 1e-4);
    }
}
