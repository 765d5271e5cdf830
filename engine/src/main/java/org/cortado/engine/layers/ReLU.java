package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.ops.Activations;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's {@code ReLU}: {@code y = max(x, 0) + negative_slope * min(x, 0)}, element-wise; any shape.
 *
 * <p>Fields: {@code negative_slope} (0; a leaky ReLU when positive). In place is allowed. Backward:
 * {@code dx = dy * (x > 0 ? 1 : negative_slope)}, reading the bottom data as Caffe does; in place that
 * is the output, which has the sign of the input when {@code negative_slope >= 0}. A negative slope
 * flips the sign, so in place it is refused (Caffe silently computes a wrong gradient there).
 */
public final class ReLU extends Layer {
    private final float slope;

    public ReLU(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        slope = config.json().getFloat("negative_slope", 0f);
    }

    public float negativeSlope() {
        return slope;
    }

    @Override
    public boolean allowsInPlace() {
        return true;
    }

    @Override
    public void setUp(List<Blob> bottom, List<Blob> top) {
        if (top.get(0) == bottom.get(0) && slope < 0) {
            throw error("in place needs negative_slope >= 0 (the output must keep the sign of the input), got "
                    + slope);
        }
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
        Activations.parallel(par(), bottom.get(0).count(), Activations.RELU_WORK,
                (from, to) -> Activations.reluForward(slope, x, y, from, to));
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (!propagateDown[0]) {
            return;
        }
        float[] x = bottom.get(0).x(); // the output when in place: same sign, see the class comment
        float[] dy = top.get(0).dx();
        float[] dx = bottom.get(0).dx();
        Activations.parallel(par(), bottom.get(0).count(), Activations.RELU_WORK,
                (from, to) -> Activations.reluBackward(slope, x, dy, dx, from, to));
    }

    /** Forward FLOPs: one per element (see {@link Layer#flops}). */
    @Override
    public long flops(List<Blob> bottom, List<Blob> top) {
        return top.get(0).count();
    }
}
