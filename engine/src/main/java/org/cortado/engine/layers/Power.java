package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.ops.Activations;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's {@code Power}: {@code y = (shift + scale * x)^power}, element-wise; any shape.
 *
 * <p>Fields (Caffe's {@code power_param}): {@code power} (1), {@code scale} (1), {@code shift} (0).
 * When {@code power * scale == 0} the output is the constant {@code power == 0 ? 1 : shift^power} and
 * the gradient is 0, as in Caffe.
 *
 * <p>Backward: {@code dx = dy * power * scale * (shift + scale * x)^(power - 1)}. Caffe computes the
 * same derivative as {@code power * scale * y / (shift + scale * x)} (except for powers 1 and 2), which
 * is 0/0 = NaN where the base is 0; here the power is taken directly, so such points get the limit
 * (0 for powers above 1, infinity below). A negative base with a non-integer power gives NaN, as
 * {@code pow} does in Caffe and PyTorch.
 *
 * <p>Not in place: backward needs the input. (Caffe accepts in place and then reads the output as the
 * input, a wrong gradient; here it is refused.)
 */
public final class Power extends Layer {
    private final float power;
    private final float scale;
    private final float shift;

    public Power(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        power = j.getFloat("power", 1f);
        scale = j.getFloat("scale", 1f);
        shift = j.getFloat("shift", 0f);
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

    /** The exponent. */
    public float power() {
        return power;
    }

    /** The input scale. */
    public float scale() {
        return scale;
    }

    /** The input shift. */
    public float shift() {
        return shift;
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] x = bottom.get(0).x();
        float[] y = top.get(0).x();
        int n = bottom.get(0).count();
        if (power * scale == 0) {
            java.util.Arrays.fill(y, 0, n, power == 0 ? 1f : (float) Math.pow(shift, power));
            return;
        }
        Activations.parallel(par(), n, Activations.TRANSCENDENTAL_WORK, (from, to) -> {
            for (int i = from; i < to; i++) {
                y[i] = (float) Math.pow(shift + (double) scale * x[i], power);
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
        double diffScale = (double) power * scale;
        Activations.parallel(par(), bottom.get(0).count(), Activations.TRANSCENDENTAL_WORK, (from, to) -> {
            for (int i = from; i < to; i++) {
                double d = diffScale == 0 ? 0 : power == 1 ? diffScale
                        : diffScale * Math.pow(shift + (double) scale * x[i], power - 1);
                dx[i] = (float) (dy[i] * d);
            }
        });
    }

    /** Forward FLOPs: one per element (see {@link Layer#flops}). */
    @Override
    public long flops(List<Blob> bottom, List<Blob> top) {
        return top.get(0).count();
    }
}
