package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.ops.Activations;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's {@code Sigmoid}: {@code y = 1 / (1 + exp(-x))}, element-wise; any shape; no fields.
 * In place is allowed: backward needs only the output, {@code dx = dy * y * (1 - y)}.
 */
public final class Sigmoid extends Layer {

    public Sigmoid(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
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

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] x = bottom.get(0).x();
        float[] y = top.get(0).x();
        Activations.parallel(par(), bottom.get(0).count(), Activations.TRANSCENDENTAL_WORK,
                (from, to) -> Activations.sigmoidForward(x, y, from, to));
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (!propagateDown[0]) {
            return;
        }
        float[] y = top.get(0).x();
        float[] dy = top.get(0).dx();
        float[] dx = bottom.get(0).dx();
        Activations.parallel(par(), top.get(0).count(), Activations.RELU_WORK,
                (from, to) -> Activations.sigmoidBackward(y, dy, dx, from, to));
    }

    /** Forward FLOPs: one per element (see {@link Layer#flops}). */
    @Override
    public long flops(List<Blob> bottom, List<Blob> top) {
        return top.get(0).count();
    }
}
