package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.ops.Activations;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's {@code Log}: {@code y = log_base(shift + scale * x) = ln(shift + scale * x) / ln(base)},
 * element-wise; any shape. A non-positive argument gives NaN or -infinity, as in Caffe and PyTorch.
 *
 * <p>Fields (Caffe's {@code log_param}): {@code base} (-1, meaning e; otherwise must be > 0 and not 1,
 * Caffe's checks that {@code 1 / ln(base)} is finite), {@code scale} (1), {@code shift} (0).
 *
 * <p>Backward: {@code dx = dy * scale / (ln(base) * (shift + scale * x))}. Not in place: backward
 * needs the input. (Caffe accepts in place and then reads the output as the input, a wrong gradient;
 * here it is refused.)
 */
public final class Log extends Layer {
    private final double scale;
    private final double shift;
    private final double logBase;

    public Log(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        double base = j.getDouble("base", -1);
        scale = j.getDouble("scale", 1);
        shift = j.getDouble("shift", 0);
        if (base != -1 && !(base > 0 && base != 1)) {
            throw j.error("base", "must be > 0 and not 1, or -1 for e, got " + base);
        }
        logBase = base == -1 ? 1 : Math.log(base);
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

    /** The input scale. */
    public double scale() {
        return scale;
    }

    /** The input shift. */
    public double shift() {
        return shift;
    }

    /** {@code ln(base)} (1 for base e). */
    public double logBase() {
        return logBase;
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] x = bottom.get(0).x();
        float[] y = top.get(0).x();
        Activations.parallel(par(), bottom.get(0).count(), Activations.TRANSCENDENTAL_WORK, (from, to) -> {
            for (int i = from; i < to; i++) {
                y[i] = (float) (Math.log(shift + scale * x[i]) / logBase);
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
        double num = scale / logBase;
        Activations.parallel(par(), bottom.get(0).count(), Activations.RELU_WORK, (from, to) -> {
            for (int i = from; i < to; i++) {
                dx[i] = (float) (dy[i] * num / (shift + scale * x[i]));
            }
        });
    }

    /** Forward FLOPs: one per element (see {@link Layer#flops}). */
    @Override
    public long flops(List<Blob> bottom, List<Blob> top) {
        return top.get(0).count();
    }
}
