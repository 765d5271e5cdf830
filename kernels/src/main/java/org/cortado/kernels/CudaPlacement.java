package org.cortado.kernels;

import java.util.List;
import java.util.Optional;
import org.cortado.engine.ConfigException;
import org.cortado.engine.config.PipelineConfig;
import org.cortado.engine.net.Net;

/**
 * Where {@code pipeline.device} puts a run's stages and optimizer, decided before anything is deployed.
 * {@code "cpu"} is the CPU. {@code "cuda"} / {@code "cuda:N"} is that GPU or an error at start: no
 * driver, no such device, a GPU too old for the kernels, or a layer without a GPU path, each said
 * plainly; it never falls back to the CPU. {@code "auto"} takes GPU 0 when it is usable and the net has
 * a GPU path, and otherwise the CPU, saying why. Every solver type has a GPU update ({@link CudaSolver}).
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
     * @throws ConfigException when {@code "cuda"} asks for a net without a GPU path
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
                missing(nets).ifPresent(m -> {
                    throw new ConfigException(setting + ", but " + m + ". Train this net on the CPU (\"device\": \"cpu\")");
                });
                return new Decision(device.ordinal(), "training on GPU " + device.ordinal()
                        + (device.ordinal() == 0 ? " (" + cuda.name() + ")" : ""));
            }
            default -> {
                if (!cuda.usable()) {
                    return new Decision(-1, "pipeline.device \"auto\": training on the CPU (" + cuda.reason() + ")");
                }
                Optional<String> m = missing(nets);
                if (m.isPresent()) {
                    return new Decision(-1, "pipeline.device \"auto\": training on the CPU, the GPU " + cuda.name()
                            + " is there but " + m.get());
                }
                return new Decision(0, "pipeline.device \"auto\": training on GPU 0 (" + cuda.name() + ")");
            }
        }
    }

    /** The first layer of the run without a GPU path, or empty. */
    private static Optional<String> missing(List<Net> nets) {
        for (Net net : nets) {
            Optional<String> m = CudaNet.unsupported(net, 0, net.layers().size());
            if (m.isPresent()) {
                return m;
            }
        }
        return Optional.empty();
    }
}
