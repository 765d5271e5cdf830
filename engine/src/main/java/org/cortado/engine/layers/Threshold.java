package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.ops.Activations;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's {@code Threshold}: {@code y = x > threshold ? 1 : 0}, element-wise; any shape.
 *
 * <p>Fields (Caffe's {@code threshold_param}): {@code threshold} (0). In place is allowed.
 *
 * <p>Backward: {@code dx = 0}, the derivative of a step function away from its jump. Caffe's
 * ThresholdLayer has no backward at all ({@code NOT_IMPLEMENTED}, a crash if a gradient is asked of
 * it); here the gradient is written as zeros so that a net may train the layers after it.
 */
public final class Threshold extends Layer {
    private final float threshold;

    public Threshold(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        threshold = config.json().getFloat("threshold", 0f);
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

    /** The threshold. */
    public float threshold() {
        return threshold;
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] x = bottom.get(0).x();
        float[] y = top.get(0).x();
        Activations.parallel(par(), bottom.get(0).count(), Activations.RELU_WORK, (from, to) -> {
            for (int i = from; i < to; i++) {
                y[i] = x[i] > threshold ? 1f : 0f;
            }
        });
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (propagateDown[0]) {
            java.util.Arrays.fill(bottom.get(0).dx(), 0, bottom.get(0).count(), 0f);
        }
    }

    /** Forward FLOPs: one per element (see {@link Layer#flops}). */
    @Override
    public long flops(List<Blob> bottom, List<Blob> top) {
        return top.get(0).count();
    }
}
