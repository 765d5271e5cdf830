package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.ops.Activations;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's {@code Swish}: {@code y = x * s} with {@code s = sigmoid(beta * x) = 1 / (1 + exp(-beta * x))},
 * element-wise; any shape.
 *
 * <p>Fields (Caffe's {@code swish_param}): {@code beta} (1). Backward, Caffe's form from the output and
 * the kept sigmoid: {@code dx = dy * (beta * y + s * (1 - beta * y))}. Since that needs no input, in
 * place is allowed, as in Caffe.
 */
public final class Swish extends Layer {
    private final float beta;
    private float[] sig = new float[0]; // s = sigmoid(beta * x), kept for backward

    public Swish(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        beta = config.json().getFloat("beta", 1f);
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
        if (sig.length < bottom.get(0).count()) {
            sig = new float[bottom.get(0).count()];
        }
    }

    /** The scale of the sigmoid's input. */
    public float beta() {
        return beta;
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] x = bottom.get(0).x();
        float[] y = top.get(0).x();
        float[] s = sig;
        Activations.parallel(par(), bottom.get(0).count(), Activations.TRANSCENDENTAL_WORK, (from, to) -> {
            for (int i = from; i < to; i++) {
                double v = x[i];
                double si = 1.0 / (1.0 + Math.exp(-beta * v));
                s[i] = (float) si;
                y[i] = (float) (v * si);
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
        float[] s = sig;
        Activations.parallel(par(), bottom.get(0).count(), Activations.RELU_WORK, (from, to) -> {
            for (int i = from; i < to; i++) {
                double by = (double) beta * y[i];
                dx[i] = (float) (dy[i] * (by + s[i] * (1 - by)));
            }
        });
    }

    /** Forward FLOPs: one per element (see {@link Layer#flops}). */
    @Override
    public long flops(List<Blob> bottom, List<Blob> top) {
        return top.get(0).count();
    }
}
