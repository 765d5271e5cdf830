package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.ops.Activations;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's {@code BNLL} (binomial normal log likelihood, softplus): {@code y = log(1 + exp(x))},
 * element-wise; any shape; no fields. Computed stably as Caffe does,
 * {@code y = x > 0 ? x + log(1 + exp(-x)) : log(1 + exp(x))}, so {@code exp} never overflows (with
 * {@code log1p} for the last digits).
 *
 * <p>Backward, Caffe's rule: {@code e = exp(min(x, 50))}, {@code dx = dy * e / (e + 1)} (the sigmoid of
 * {@code x}; the clamp at Caffe's {@code kBNLL_THRESHOLD = 50} keeps {@code e} finite). PyTorch's
 * {@code F.softplus} differs above its {@code threshold} (20 by default), where it returns {@code x}.
 *
 * <p>Not in place: backward needs the input. (Caffe accepts in place and then reads the output as the
 * input, a wrong gradient; here it is refused.)
 */
public final class BNLL extends Layer {
    /** Caffe's {@code kBNLL_THRESHOLD}. */
    private static final double THRESHOLD = 50;

    public BNLL(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
    }

    @Override
    public void setUp(List<Blob> bottom, List<Blob> top) {
        if (top.get(0) == bottom.get(0)) {
            throw error("does not work in place: backward needs the input");
        }
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        top.get(0).reshapeLike(bottom.get(0));
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] x = bottom.get(0).x();
        float[] y = top.get(0).x();
        Activations.parallel(par(), bottom.get(0).count(), Activations.TRANSCENDENTAL_WORK, (from, to) -> {
            for (int i = from; i < to; i++) {
                double v = x[i];
                y[i] = (float) (v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v)));
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
        Activations.parallel(par(), bottom.get(0).count(), Activations.TRANSCENDENTAL_WORK, (from, to) -> {
            for (int i = from; i < to; i++) {
                double e = Math.exp(Math.min(x[i], THRESHOLD));
                dx[i] = (float) (dy[i] * e / (e + 1));
            }
        });
    }

    /** Forward FLOPs: one per element (see {@link Layer#flops}). */
    @Override
    public long flops(List<Blob> bottom, List<Blob> top) {
        return top.get(0).count();
    }
}
