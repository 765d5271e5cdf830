package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.ops.Activations;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's {@code Clip}: {@code y = max(min, min(x, max))}, element-wise; any shape.
 *
 * <p>Fields (Caffe's {@code clip_param}): {@code min} and {@code max}, both required (no defaults in
 * Caffe either). {@code min > max} is refused (Caffe does not check it and outputs {@code min}
 * everywhere).
 *
 * <p>Backward, Caffe's rule: {@code dx = dy * (min <= x <= max ? 1 : 0)}: the gradient passes at the
 * bounds themselves (as PyTorch's {@code torch.clamp}). Not in place: backward needs the input, and
 * the clipped output would always lie within the bounds. (Caffe accepts in place and then passes every
 * gradient; here it is refused.)
 */
public final class Clip extends Layer {
    private final float min;
    private final float max;

    public Clip(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        min = (float) j.requireDouble("min");
        max = (float) j.requireDouble("max");
        if (!(min <= max)) {
            throw j.error("max", "must be >= min (" + min + "), got " + max);
        }
    }

    @Override
    public void setUp(List<Blob> bottom, List<Blob> top) {
        if (top.get(0) == bottom.get(0)) {
            throw error("does not work in place: backward needs the unclipped input");
        }
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        top.get(0).reshapeLike(bottom.get(0));
    }

    /** The lower bound. */
    public float min() {
        return min;
    }

    /** The upper bound. */
    public float max() {
        return max;
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] x = bottom.get(0).x();
        float[] y = top.get(0).x();
        Activations.parallel(par(), bottom.get(0).count(), Activations.RELU_WORK, (from, to) -> {
            for (int i = from; i < to; i++) {
                y[i] = Math.max(min, Math.min(x[i], max));
            }
        });
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (!propagateDown[0]) {
            return;
        }
        float[] x = bottom.get(0).x();
        float[] dy = top.get(0).dx();
        float[] dx = bottom.get(0).dx();
        Activations.parallel(par(), bottom.get(0).count(), Activations.RELU_WORK, (from, to) -> {
            for (int i = from; i < to; i++) {
                dx[i] = x[i] >= min && x[i] <= max ? dy[i] : 0f;
            }
        });
    }

    /** Forward FLOPs: one per element (see {@link Layer#flops}). */
    @Override
    public long flops(List<Blob> bottom, List<Blob> top) {
        return top.get(0).count();
    }
}
