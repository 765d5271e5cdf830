package org.cortado.pipeline;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import org.cortado.kernels.CudaDevice;

/**
 * The GPU of a run placed on {@code "cuda"}: opens the CUDA context on its own dedicated thread (every
 * GPU call of the run's stages and optimizer runs there, through {@link CudaDevice#call}) and closes it
 * when the run ends, after the stages and the optimizer that use it. It is deployed first, so a GPU
 * that cannot be opened (the kernels not built, a driver too old for them) fails the run at start. At
 * the end it says the most GPU memory the run held.
 */
public final class GpuVerticle extends VerticleBase {
    private final RunContext ctx;
    private volatile CudaDevice device;

    public GpuVerticle(RunContext ctx) {
        this.ctx = ctx;
    }

    /** The open GPU; valid from this verticle's start to its stop. */
    public CudaDevice device() {
        if (device == null) {
            throw new IllegalStateException("the GPU verticle has not started");
        }
        return device;
    }

    @Override
    public Future<?> start() {
        device = CudaDevice.open(ctx.gpu());
        ctx.log().accept("GPU " + ctx.gpu() + ": " + device.name());
        return Future.succeededFuture();
    }

    @Override
    public Future<?> stop() {
        CudaDevice d = device;
        if (d != null) {
            ctx.log().accept(String.format(java.util.Locale.ROOT, "GPU %d: peak memory %.1f MiB", ctx.gpu(),
                    d.memory().peak() / 1048576.0));
            d.close();
            device = null;
        }
        return Future.succeededFuture();
    }
}
