package org.cortado.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.net.Net;
import org.cortado.engine.tensor.Tensor;
import org.cortado.engine.train.Benchmark;
import org.cortado.engine.train.Trainer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Training on the GPU gives the CPU's training: the same config and seed, a few SGD steps on the same
 * batches on both, then every loss and every weight compared (1e-4 relative to the largest value: a few
 * steps compound the float32 rounding of different summation orders).
 */
class CudaNetTest {
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

    private static void trainsLikeTheCpu(String conf, int batch, int steps) {
        Gpu.assumeOpen(device);
        CortadoConfig config = CortadoConfig.load(Path.of("../conf", conf));
        try (Trainer cpu = new Trainer(config); Trainer gpuSide = new Trainer(config)) {
            Net a = cpu.trainNet();
            Net b = gpuSide.trainNet();
            a.setBatchSize(batch);
            b.setBatchSize(batch);
            try (CudaNet gpu = CudaNet.open(device, b, CudaOps.Precision.F32);
                    CudaSolver solver = new CudaSolver(device, gpuSide.solver())) {
                for (int s = 0; s < steps; s++) {
                    Map<String, Tensor> data = Benchmark.synthetic(a, 100 + s);
                    double cpuLoss = cpu.step(data).loss();
                    float[][] inputs = a.inputs().stream().map(in -> data.get(in.name()).data()).toArray(float[][]::new);
                    double gpuLoss = gpu.step(solver, inputs);
                    assertEquals(cpuLoss, gpuLoss, 1e-4 * Math.max(1, Math.abs(cpuLoss)), conf + " loss at step " + s);
                }
                gpu.downloadWeights();
            }
            var wa = a.weights();
            var wb = b.weights();
            assertEquals(wa.keySet(), wb.keySet());
            for (String layer : wa.keySet()) {
                List<Tensor> ta = wa.get(layer), tb = wb.get(layer);
                for (int i = 0; i < ta.size(); i++) {
                    CudaOpsTest.assertClose(conf + " " + layer + " param " + i, ta.get(i).toArray(), tb.get(i).toArray(),
                            1e-4f);
                }
            }
        }
    }

    @Test
    void lenetTrainsOnTheGpuAsOnTheCpu() {
        trainsLikeTheCpu("lenet-fashion-mnist.json", 16, 4);
    }

    @Test
    void cifar10QuickTrainsOnTheGpuAsOnTheCpu() {
        trainsLikeTheCpu("cifar10-quick.json", 8, 4);
    }

    /*
     * The BatchNorm nets below take one step: at these tiny batches their training soon becomes chaotic
     * (two CPU runs whose initial weights differ by 1e-7 relative drift 4e-4 apart within three steps for
     * se-resnet-small, 4e-3 for resnet-small), so more steps would measure the chaos, not the GPU; after
     * one step the same nudge moves nothing by more than 5e-7. One step compares the loss, every gradient
     * (through the update) and the running statistics.
     */

    /** BatchNorm with its Scale folded in, Dropout (the CPU's mask), batch statistics moving. */
    @Test
    void aBatchNormNetWithDropoutTrainsOnTheGpuAsOnTheCpu() {
        trainsLikeTheCpu("fashion-mnist-bn.json", 8, 1);
    }

    /** Residual blocks: Eltwise SUM over a BatchNorm branch and a shortcut. */
    @Test
    void resnetSmallTrainsOnTheGpuAsOnTheCpu() {
        trainsLikeTheCpu("resnet-small.json", 4, 1);
    }

    /** Squeeze-and-excitation: global average pooling, Sigmoid, a Scale by a second bottom along axis 0. */
    @Test
    void seResnetSmallTrainsOnTheGpuAsOnTheCpu() {
        trainsLikeTheCpu("se-resnet-small.json", 4, 1);
    }

    /** Inception modules: Concat of four branches, Dropout. */
    @Test
    void inceptionTrainsOnTheGpuAsOnTheCpu() {
        trainsLikeTheCpu("inception.json", 4, 3);
    }
}
