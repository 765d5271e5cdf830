package org.cortado.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.config.Json;
import org.cortado.engine.config.PipelineConfig.Device;
import org.cortado.engine.net.Net;
import org.cortado.engine.net.Phase;
import org.cortado.engine.ops.Parallel;
import org.junit.jupiter.api.Test;

/** {@code pipeline.device} decided for machines with and without a GPU (described, not probed): runs without a GPU. */
class CudaPlacementTest {
    private static final Cuda.Availability NO_DRIVER = new Cuda.Availability(false,
            "no NVIDIA driver: libcuda.so.1 could not be loaded (libcuda.so.1: cannot open shared object file)", 0, "", 0, 0);
    private static final Cuda.Availability ONE_H100 = new Cuda.Availability(true, "", 1, "NVIDIA H100 80GB HBM3", 90,
            80L << 30);

    private static CudaPlacement.Decision decide(String conf, Device device, Cuda.Availability cuda) {
        return decide(CortadoConfig.load(Path.of("../conf", conf)), device, cuda);
    }

    /** LeNet with its second pooling STOCHASTIC, which has no CUDA kernels. */
    private static CortadoConfig lenetWithStochasticPooling() throws java.io.IOException {
        String text = java.nio.file.Files.readString(Path.of("../conf/lenet-fashion-mnist.json"))
                .replace("\"top\": \"pool2\",\n       \"pool\": \"MAX\"", "\"top\": \"pool2\",\n       \"pool\": \"STOCHASTIC\"");
        if (!text.contains("STOCHASTIC")) {
            throw new IllegalStateException("conf/lenet-fashion-mnist.json no longer has pool2 as this test expects");
        }
        return CortadoConfig.from(Json.parse(text, "lenet with stochastic pooling"), "lenet with stochastic pooling",
                "lenet");
    }

    private static CudaPlacement.Decision decide(CortadoConfig config, Device device, Cuda.Availability cuda) {
        try (Parallel parallel = new Parallel(1)) {
            List<Net> nets = List.of(Net.build(config.net(), Phase.TRAIN, parallel, config.seed()),
                    Net.build(config.net(), Phase.TEST, parallel, config.seed()));
            return CudaPlacement.decide(device, cuda, nets);
        }
    }

    private static final Device CUDA = new Device(Device.Kind.CUDA, 0);
    private static final Device AUTO = new Device(Device.Kind.AUTO, 0);

    @Test
    void cudaWithoutAGpuFailsAtStartSayingWhy() {
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                () -> decide("lenet-fashion-mnist.json", CUDA, NO_DRIVER));
        assertEquals("pipeline.device is \"cuda:0\", but CUDA is not usable here: no NVIDIA driver: libcuda.so.1 could not "
                + "be loaded (libcuda.so.1: cannot open shared object file). Set \"device\": \"cpu\" to train on the CPU, "
                + "or \"auto\" to use a GPU only where there is one", e.getMessage());
    }

    @Test
    void aGpuNumberThisMachineDoesNotHaveIsAnError() {
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                () -> decide("lenet-fashion-mnist.json", new Device(Device.Kind.CUDA, 2), ONE_H100));
        assertEquals("pipeline.device is \"cuda:2\", but this machine has 1 CUDA device(s): cuda:0", e.getMessage());
    }

    @Test
    void cudaWithALayerWithoutKernelsTakesTheGpuAndNamesWhatRunsOnTheHost() throws Exception {
        CudaPlacement.Decision d = decide(lenetWithStochasticPooling(), CUDA, ONE_H100);
        assertEquals(0, d.gpu());
        assertEquals("training on GPU 0 (NVIDIA H100 80GB HBM3); without CUDA kernels, these layers run on the host, "
                + "their blobs copied down and up each pass: 'pool2' (Pooling, STOCHASTIC)", d.note());
    }

    @Test
    void cudaWithAGpuAndASupportedNetTakesIt() {
        CudaPlacement.Decision d = decide("lenet-fashion-mnist.json", CUDA, ONE_H100);
        assertEquals(0, d.gpu());
        assertEquals("training on GPU 0 (NVIDIA H100 80GB HBM3)", d.note());
    }

    @Test
    void autoTakesTheGpuOnlyWhenItCanSayingWhyNot() throws Exception {
        CudaPlacement.Decision none = decide("lenet-fashion-mnist.json", AUTO, NO_DRIVER);
        assertFalse(none.onGpu());
        assertEquals("pipeline.device \"auto\": training on the CPU (" + NO_DRIVER.reason() + ")", none.note());

        CudaPlacement.Decision stochastic = decide(lenetWithStochasticPooling(), AUTO, ONE_H100);
        assertEquals(0, stochastic.gpu());
        assertTrue(stochastic.note().startsWith("pipeline.device \"auto\": training on GPU 0 (NVIDIA H100 80GB HBM3); without "
                + "CUDA kernels, these layers run on the host"), stochastic.note());
        assertTrue(stochastic.note().endsWith(": 'pool2' (Pooling, STOCHASTIC)"), stochastic.note());

        CudaPlacement.Decision gpu = decide("lenet-fashion-mnist.json", AUTO, ONE_H100);
        assertEquals(0, gpu.gpu());
        assertEquals("pipeline.device \"auto\": training on GPU 0 (NVIDIA H100 80GB HBM3)", gpu.note());
    }

    /**
     * What the README says: every shipped config runs wholly on the GPU (Accuracy, a metric, on the host
     * by design). Read from the configs' layers, without building the big nets.
     */
    @Test
    void everyShippedConfigHasKernelsForEveryLayer() throws java.io.IOException {
        List<Path> configs;
        try (var files = java.nio.file.Files.list(Path.of("../conf"))) {
            configs = files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
        }
        assertTrue(configs.size() >= 10, "shipped configs: " + configs);
        int layers = 0;
        for (Path conf : configs) {
            for (Json layer : CortadoConfig.load(conf).net().objects("layers")) {
                layers++;
                String type = layer.requireString("type");
                String where = conf.getFileName() + " layer " + layer.getString("name", "?") + " (" + type + ")";
                assertTrue(CudaNet.KERNELS.contains(type) || type.equals("Accuracy"), where);
                assertFalse(type.equals("Pooling") && "STOCHASTIC".equals(layer.getString("pool", "MAX")), where);
            }
        }
        assertTrue(layers > 300, layers + " layers read");
    }

    @Test
    void cpuIsTheCpuWithNothingToSay() {
        CudaPlacement.Decision d = decide("lenet-fashion-mnist.json", Device.CPU, ONE_H100);
        assertFalse(d.onGpu());
        assertNull(d.note());
    }
}
