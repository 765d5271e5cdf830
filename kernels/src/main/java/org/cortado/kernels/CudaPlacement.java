package org.cortado.kernels;

import java.util.List;
import org.cortado.engine.config.PipelineConfig;
import org.cortado.engine.net.Net;

/**
 * Where {@code pipeline.device} puts a run's stages and optimizer, decided before anything is deployed.
 * {@code "cpu"} is the CPU. {@code "cuda"} / {@code "cuda:N"} is that GPU or an error at start: no
 * driver, no such device, a GPU too old for the kernels, each said plainly; it never falls back to the
 * CPU. {@code "auto"} takes GPU 0 when it is usable, and otherwise the CPU, saying why. On the GPU, the
 * layers without CUDA kernels run on the host ({@link CudaNet#onHost}), and the decision names them.
 * Every solver type has a GPU update ({@link CudaSolver}).
 */
public final class CudaPlacement {
    private CudaPlacement() {}

    /**
     * The decision: the GPU's number, or -1 for the CPU, and what to tell the user (null for a plain
     * {@code "cpu"}).
     */
    public record Decision(int gpu, String note) {
        public boolean onGpu() {
            return gpu >= 0;
        }
    }

    /**
     * Decides for {@code device} on a machine with {@code cuda}, for the run's nets (TRAIN, and TEST when
     * there is one).
     *
     * @throws CudaUnavailableException when {@code "cuda"} asks for a GPU this machine cannot give
     */
    public static Decision decide(PipelineConfig.Device device, Cuda.Availability cuda, List<Net> nets) {
        String setting = "pipeline.device is \"" + device + "\"";
        switch (device.kind()) {
            case CPU -> {
                return new Decision(-1, null);
            }
            case CUDA -> {
                if (!cuda.usable()) {
                    throw new CudaUnavailableException(setting + ", but CUDA is not usable here: " + cuda.reason()
                            + ". Set \"device\": \"cpu\" to train on the CPU, or \"auto\" to use a GPU only where there is one");
                }
                if (device.ordinal() >= cuda.devices()) {
                    throw new CudaUnavailableException(setting + ", but this machine has " + cuda.devices()
                            + " CUDA device(s): cuda:0" + (cuda.devices() > 1 ? " .. cuda:" + (cuda.devices() - 1) : ""));
                }
                return new Decision(device.ordinal(), "training on GPU " + device.ordinal()
                        + (device.ordinal() == 0 ? " (" + cuda.name() + ")" : "") + onHost(nets));
            }
            default -> {
                if (!cuda.usable()) {
                    return new Decision(-1, "pipeline.device \"auto\": training on the CPU (" + cuda.reason() + ")");
                }
                return new Decision(0, "pipeline.device \"auto\": training on GPU 0 (" + cuda.name() + ")" + onHost(nets));
            }
        }
    }

    /** The run's layers that run on the host for lack of CUDA kernels, as a sentence to append; "" when none. */
    private static String onHost(List<Net> nets) {
        java.util.Set<String> layers = new java.util.LinkedHashSet<>();
        for (Net net : nets) {
            layers.addAll(CudaNet.onHost(net, 0, net.layers().size()));
        }
        return layers.isEmpty() ? "" : "; without CUDA kernels, these layers run on the host, their blobs copied down and up "
                + "each pass: " + String.join(", ", layers);
    }
}
