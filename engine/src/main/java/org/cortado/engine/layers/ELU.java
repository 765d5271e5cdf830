package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.ops.Activations;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's {@code ELU}: {@code y = x > 0 ? x : alpha * (exp(x) - 1)}, element-wise; any shape.
 *
 * <p>Fields (Caffe's {@code elu_param}): {@code alpha} (1). Backward, Caffe's rule:
 * {@code dx = dy * (x > 0 ? 1 : y + alpha)} (at {@code x = 0} the negative side, {@code alpha}; PyTorch's
 * {@code F.elu} is the same). In place is allowed when {@code alpha >= 0}: then {@code y > 0} exactly
 * when {@code x > 0}, so the output can stand for the input in the test. A negative {@code alpha}
 * breaks that, and in place is refused (Caffe silently computes a wrong gradient there).
 */
public final class ELU extends Layer {
    private final float alpha;

    public ELU(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        alpha = config.json().getFloat("alpha", 1f);
    }

    public float alpha() {
        return alpha;
    }

    @Override
    public boolean allowsInPlace() {
        return true;
    }

    @Override
    public void setUp(List<Blob> bottom, List<Blob> top) {
        if (top.get(0) == bottom.get(0) && alpha < 0) {
            throw error("in place needs alpha >= 0 (the output must keep the sign of the input), got " + alpha);
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
        Activations.parallel(par(), bottom.get(0).count(), Activations.TRANSCENDENTAL_WORK, (from, to) -> {
            for (int i = from; i < to; i++) {
                float v = x[i];
                y[i] = v > 0 ? v : (float) (alpha * Math.expm1(v));
            }
        });
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (!propagateDown[0]) {
            return;
        }
        float[] x = bottom.get(0).x(); // the output when in place: same sign, see the class comment
        float[] y = top.get(0).x();
        float[] dy = top.get(0).dx();
        float[] dx = bottom.get(0).dx();
        Activations.parallel(par(), bottom.get(0).count(), Activations.RELU_WORK, (from, to) -> {
            for (int i = from; i < to; i++) {
                dx[i] = x[i] > 0 ? dy[i] : dy[i] * (y[i] + alpha);
            }
        });
    }

    /** Forward FLOPs: one per element (see {@link Layer#flops}). */
    @Override
    public long flops(List<Blob> bottom, List<Blob> top) {
        return top.get(0).count();
    }
}
