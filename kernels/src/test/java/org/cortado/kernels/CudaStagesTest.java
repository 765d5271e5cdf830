package org.cortado.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.net.Net;
import org.cortado.engine.net.Phase;
import org.cortado.engine.net.StagePlan;
import org.cortado.engine.ops.Parallel;
import org.cortado.engine.solver.Param;
import org.cortado.engine.solver.Solver;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Tensor;
import org.cortado.engine.train.Benchmark;
import org.cortado.engine.train.Trainer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a pipeline stage on the GPU is made of, each against the CPU: a net cut in two with the blobs
 * crossing the cut copied GPU to GPU, micro-batches adding into shared gradients, the TEST net (with
 * its Split and Accuracy) sharing the weights, and {@link CudaSolver} against {@link Solver} with
 * iter_size, clipping and a restored history. Tolerance 1e-4 relative to the largest value.
 */
class CudaStagesTest {
    private static CudaDevice device;

    @BeforeAll
    static void open() {
        device = Gpu.openOrNull();
    }

    @AfterAll
    static void close() {
        if (device != null) {
            device.close();
        }
    }

    private static CortadoConfig lenet() {
        return CortadoConfig.load(Path.of("../conf/lenet-fashion-mnist.json"));
    }

    private static List<String> order(CortadoConfig config) {
        List<String> order = new ArrayList<>();
        config.net().node().get("layers").forEach(l -> order.add(l.path("name").asText()));
        return order;
    }

    /** Two stages, cut at ip1, two micro-batches of 8: the gradients of the whole batch of 16. */
    @Test
    void aNetCutInTwoWithMicroBatchesGivesTheCpuGradients() {
        Gpu.assumeOpen(device);
        CortadoConfig config = lenet();
        try (Parallel parallel = new Parallel(1)) {
            Net cpu = Net.build(config.net(), Phase.TRAIN, parallel, config.seed());
            cpu.setBatchSize(16);
            Map<String, Tensor> batch = Benchmark.synthetic(cpu, 7);
            Trainer.feed(cpu, batch);
            double cpuLoss = cpu.forward();
            cpu.backward();

            Net[] replicas = new Net[2];
            CudaNet[][] gpu = new CudaNet[2][2]; // [replica][stage]
            StagePlan plan = null;
            try {
                for (int r = 0; r < 2; r++) {
                    replicas[r] = Net.build(config.net(), Phase.TRAIN, parallel, config.seed());
                    if (r > 0) {
                        replicas[r].shareParamsWith(replicas[0]);
                    }
                    replicas[r].setBatchSize(8);
                    plan = StagePlan.at(replicas[r], order(config), List.of("ip1"), "test");
                    for (int s = 0; s < 2; s++) {
                        gpu[r][s] = CudaNet.open(device, replicas[r], plan.start(s), plan.end(s),
                                r == 0 ? null : gpu[0][s], CudaOps.Precision.F32);
                    }
                }
                double loss = 0;
                for (int r = 0; r < 2; r++) {
                    for (Blob in : replicas[r].inputs()) {
                        Tensor whole = batch.get(in.name());
                        int per = whole.count() / 2;
                        float[] half = java.util.Arrays.copyOfRange(whole.data(), r * per, (r + 1) * per);
                        gpu[r][0].upload(in.name(), false, half, per);
                    }
                    gpu[r][0].forward();
                    for (String name : plan.live(plan.end(0))) {
                        try (DeviceArray a = gpu[r][0].copyOut(name, false)) {
                            gpu[r][1].copyIn(name, false, a);
                        }
                    }
                    loss += gpu[r][1].forward() / 2;
                    gpu[r][1].backward(0.5);
                    for (String name : plan.gradients(plan.start(1))) {
                        try (DeviceArray a = gpu[r][1].copyOut(name, true)) {
                            gpu[r][0].copyIn(name, true, a);
                        }
                    }
                    gpu[r][0].backward(0.5);
                }
                assertEquals(cpuLoss, loss, 1e-4 * Math.max(1, Math.abs(cpuLoss)), "loss");
                int checked = 0;
                for (int s = 0; s < 2; s++) {
                    for (CudaSolver.DeviceParam p : gpu[0][s].params()) {
                        float[] dx = device.call(() -> p.dx().download());
                        Param q = cpu.params().stream().filter(c -> c.name().equals(p.name())).findFirst().orElseThrow();
                        CudaOpsTest.assertClose("gradient of " + p.name(), q.blob().dx(),
                                java.util.Arrays.copyOf(dx, q.blob().count()), 1e-4f);
                        checked++;
                    }
                }
                assertEquals(cpu.params().size(), checked, "every param checked once");
            } finally {
                for (CudaNet[] row : gpu) {
                    for (CudaNet g : row) {
                        if (g != null) {
                            g.close();
                        }
                    }
                }
            }
        }
    }

    /** The TEST net shares the TRAIN net's weights on the GPU; its Split and Accuracy give the CPU's outputs. */
    @Test
    void theTestNetWithItsAccuracyGivesTheCpuOutputs() {
        Gpu.assumeOpen(device);
        CortadoConfig config = lenet();
        try (Parallel parallel = new Parallel(1)) {
            Net train = Net.build(config.net(), Phase.TRAIN, parallel, config.seed());
            Net test = Net.build(config.net(), Phase.TEST, parallel, config.seed());
            test.shareParamsWith(train);
            test.setBatchSize(32);
            Map<String, Tensor> batch = Benchmark.synthetic(test, 11);
            Trainer.feed(test, batch);
            test.forward();
            Map<String, Float> cpu = new java.util.LinkedHashMap<>();
            for (Blob o : Trainer.outputs(test)) {
                cpu.put(o.name(), o.x()[0]);
                o.x()[0] = Float.NaN;
            }
            try (CudaNet t = CudaNet.open(device, train, CudaOps.Precision.F32);
                 CudaNet g = CudaNet.open(device, test, 0, test.layers().size(), t, CudaOps.Precision.F32)) {
                for (Blob in : test.inputs()) {
                    g.upload(in.name(), false, batch.get(in.name()).data(), in.count());
                }
                g.forward();
                for (Blob o : Trainer.outputs(test)) {
                    assertEquals(cpu.get(o.name()), g.fetch(o)[0], 1e-5 * Math.max(1, Math.abs(cpu.get(o.name()))), o.name());
                }
            }
            assertEquals(2, cpu.size(), "loss and accuracy");
        }
    }

    private static List<Param> randomParams(long seed, boolean withGrads) {
        java.util.Random r = new java.util.Random(seed);
        List<Param> out = new ArrayList<>();
        int[][] shapes = {{5, 3}, {7}, {2, 2, 3}, {4}}; // p1: lr_mult 2; p2: decay_mult 0; p3: frozen (lr_mult 0)
        for (int i = 0; i < shapes.length; i++) {
            Blob b = new Blob("p" + i, shapes[i]);
            for (int j = 0; j < b.count(); j++) {
                b.x()[j] = (float) r.nextGaussian();
                b.dx()[j] = withGrads ? (float) r.nextGaussian() : 0f;
            }
            out.add(new Param("p" + i, b, i == 1 ? 2f : i == 3 ? 0f : 1f, i == 2 ? 0f : 1f));
        }
        return out;
    }

    private static void solvesLikeTheCpu(String solverJson) {
        Gpu.assumeOpen(device);
        org.cortado.engine.config.Json json = org.cortado.engine.config.Json.parse(solverJson, "solver");
        Solver cpu = Solver.create(json);
        List<Param> host = randomParams(3, false);
        List<CudaSolver.DeviceParam> dev = new ArrayList<>();
        try (CudaSolver gpu = new CudaSolver(device, Solver.create(json))) {
            device.call(() -> {
                for (Param p : host) {
                    dev.add(new CudaSolver.DeviceParam(p.name(), p.blob().shape(), device.upload(p.blob().x()),
                            device.floats(p.blob().count()), p.lrMult(), p.decayMult()));
                }
                return null;
            });
            SequencedMap<String, Tensor> midway = null;
            List<float[]> weightsMidway = new ArrayList<>();
            for (long iter = 0; iter < 4; iter++) {
                List<Param> grads = randomParams(100 + iter, true);
                for (int i = 0; i < host.size(); i++) {
                    float[] g = grads.get(i).blob().dx();
                    System.arraycopy(g, 0, host.get(i).blob().dx(), 0, g.length);
                    CudaSolver.DeviceParam d = dev.get(i);
                    device.call(() -> d.dx().upload(g));
                }
                cpu.step(host, iter);
                gpu.step(dev, iter);
                if (iter == 1) {
                    midway = gpu.state();
                    for (CudaSolver.DeviceParam d : dev) {
                        weightsMidway.add(device.call(() -> d.x().download()));
                    }
                }
            }
            for (int i = 0; i < host.size(); i++) {
                CudaSolver.DeviceParam d = dev.get(i);
                CudaOpsTest.assertClose(solverJson + " weights " + d.name(), host.get(i).blob().x(),
                        device.call(() -> d.x().download()), 1e-5f);
                float[] dx = device.call(() -> d.dx().download());
                for (float v : dx) {
                    assertEquals(0f, v, "the gradient is cleared after the step");
                }
            }
            SequencedMap<String, Tensor> want = cpu.state(), got = gpu.state();
            assertEquals(List.copyOf(want.keySet()), List.copyOf(got.keySet()), "history keys, in Caffe's order");
            for (String k : want.keySet()) {
                CudaOpsTest.assertClose(solverJson + " history " + k, want.get(k).data(), got.get(k).data(), 1e-5f);
            }
            // a fresh solver restored from the history after step 1, on the weights after step 1, repeats steps 2 and 3
            List<CudaSolver.DeviceParam> resumed = new ArrayList<>();
            try (CudaSolver again = new CudaSolver(device, Solver.create(json))) {
                again.restore(host.stream().map(Param::name).toList(), List.copyOf(midway.values()), "midway");
                device.call(() -> {
                    for (int i = 0; i < host.size(); i++) {
                        CudaSolver.DeviceParam d = dev.get(i);
                        resumed.add(new CudaSolver.DeviceParam(d.name(), d.shape(), device.upload(weightsMidway.get(i)),
                                device.floats(d.count()), d.lrMult(), d.decayMult()));
                    }
                    return null;
                });
                for (long iter = 2; iter < 4; iter++) {
                    List<Param> grads = randomParams(100 + iter, true);
                    for (int i = 0; i < host.size(); i++) {
                        float[] g = grads.get(i).blob().dx();
                        CudaSolver.DeviceParam d = resumed.get(i);
                        device.call(() -> d.dx().upload(g));
                    }
                    again.step(resumed, iter);
                }
                for (int i = 0; i < host.size(); i++) {
                    CudaSolver.DeviceParam d = resumed.get(i);
                    CudaOpsTest.assertClose(solverJson + " resumed weights " + d.name(), host.get(i).blob().x(),
                            device.call(() -> d.x().download()), 1e-5f);
                }
            } finally {
                dev.addAll(resumed); // closed below
            }
        } finally {
            device.call(() -> {
                for (CudaSolver.DeviceParam d : dev) {
                    d.x().close();
                    d.dx().close();
                }
                return null;
            });
        }
    }

    @Test
    void adamWithIterSizeAndClippingUpdatesAsTheCpu() {
        solvesLikeTheCpu("{\"type\": \"Adam\", \"base_lr\": 0.01, \"momentum\": 0.9, \"momentum2\": 0.999,"
                + " \"weight_decay\": 0.001, \"iter_size\": 2, \"clip_gradients\": 1.5, \"lr_policy\": \"step\","
                + " \"gamma\": 0.5, \"stepsize\": 2}");
    }

    @Test
    void nesterovWithL1UpdatesAsTheCpu() {
        solvesLikeTheCpu("{\"type\": \"Nesterov\", \"base_lr\": 0.05, \"momentum\": 0.9, \"weight_decay\": 0.01,"
                + " \"regularization_type\": \"L1\", \"lr_policy\": \"inv\", \"gamma\": 0.1, \"power\": 0.75}");
    }

    @Test
    void adaGradWithL2UpdatesAsTheCpu() {
        solvesLikeTheCpu("{\"type\": \"AdaGrad\", \"base_lr\": 0.05, \"weight_decay\": 0.01, \"delta\": 1e-6,"
                + " \"lr_policy\": \"fixed\"}");
    }

    @Test
    void rmsPropWithL1AndIterSizeUpdatesAsTheCpu() {
        solvesLikeTheCpu("{\"type\": \"RMSProp\", \"base_lr\": 0.01, \"rms_decay\": 0.95, \"weight_decay\": 0.001,"
                + " \"regularization_type\": \"L1\", \"iter_size\": 3, \"lr_policy\": \"fixed\"}");
    }

    /** AdaDelta keeps two histories: both come down in Caffe's order and a restore takes both up. */
    @Test
    void adaDeltaWithClippingUpdatesAsTheCpu() {
        solvesLikeTheCpu("{\"type\": \"AdaDelta\", \"base_lr\": 1, \"momentum\": 0.95, \"delta\": 1e-6,"
                + " \"weight_decay\": 0.0005, \"clip_gradients\": 2, \"lr_policy\": \"fixed\"}");
    }
}
