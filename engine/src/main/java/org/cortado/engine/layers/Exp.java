package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.ops.Activations;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's {@code Exp}: {@code y = base^(shift + scale * x)}, element-wise; any shape. Computed as Caffe
 * does: {@code y = outer * exp(inner * x)} with {@code inner = ln(base) * scale} and
 * {@code outer = base^shift} ({@code ln(base) = 1} and {@code outer = e^shift} for the natural base).
 *
 * <p>Fields (Caffe's {@code exp_param}): {@code base} (-1, meaning e; otherwise must be > 0),
 * {@code scale} (1), {@code shift} (0). Backward: {@code dx = dy * y * inner}, from the output alone,
 * so in place is allowed.
 */
public final class Exp extends Layer {
    private final double inner;
    private final double outer;

    public Exp(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        double base = j.getDouble("base", -1);
        double scale = j.getDouble("scale", 1);
        double shift = j.getDouble("shift", 0);
        if (base != -1 && !(base > 0)) {
            throw j.error("base", "must be > 0, or -1 for e, got " + base);
        }
        double logBase = base == -1 ? 1 : Math.log(base);
        inner = logBase * scale;
        outer = shift == 0 ? 1 : base == -1 ? Math.exp(shift) : Math.pow(base, shift);
    }

    @Override
    public boolean allowsInPlace() {
        return true;
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        if (top.get(0) != bottom.get(0)) {
            top.get(0).reshapeLike(bottom.get(0));
        }
    }

    /** {@code ln(base) * scale}, the factor inside the exponential. */
    public double inner() {
        return inner;
    }

    /** {@code base^shift}, the factor outside it. */
    public double outer() {
        return outer;
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] x = bottom.get(0).x();
        float[] y = top.get(0).x();
        Activations.parallel(par(), bottom.get(0).count(), Activations.TRANSCENDENTAL_WORK, (from, to) -> {
            for (int i = from; i < to; i++) {
                y[i] = (float) (outer * Math.exp(inner * x[i]));
            }
        });
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (!propagateDown[0]) {
            return;
        }
        float[] y = top.get(0).x();
        float[] dy = top.get(0).dx();
        float[] dx = bottom.get(0).dx();
        Activations.parallel(par(), bottom.get(0).count(), Activations.RELU_WORK, (from, to) -> {
            for (int i = from; i < to; i++) {
                dx[i] = (float) ((double) dy[i] * y[i] * inner);
            }
        });
    }

    /** Forward FLOPs: one per element (see {@link Layer#flops}). */
    @Override
    public long flops(List<Blob> bottom, List<Blob> top) {
        return top.get(0).count();
    }
}
