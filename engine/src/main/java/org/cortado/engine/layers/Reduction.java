package org.cortado.engine.layers;

import java.util.Arrays;
import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's {@code Reduction}: reduces all axes from {@code axis} on (not just that one axis), so the
 * bottom is {@code x (outer, inner)} with {@code outer = count(0, axis)}, {@code inner = count(axis)}
 * and the top has shape {@code bottom.shape[0:axis]} (a scalar for {@code axis} 0). Per row, summed in
 * double:
 * <ul>
 *   <li>{@code SUM}: {@code y = c * sum_i x_i}; {@code dx_i = c * dy}</li>
 *   <li>{@code ASUM}: {@code y = c * sum_i |x_i|}; {@code dx_i = c * sign(x_i) * dy} ({@code sign(0) = 0})</li>
 *   <li>{@code SUMSQ}: {@code y = c * sum_i x_i^2}; {@code dx_i = 2 c x_i dy}</li>
 *   <li>{@code MEAN}: {@code y = c / inner * sum_i x_i}; {@code dx_i = c / inner * dy}</li>
 * </ul>
 * Fields: {@code operation} (SUM; ASUM, SUMSQ, MEAN), {@code axis} (0; negative counts from the end),
 * {@code coeff} (1). Not in place.
 */
public final class Reduction extends Layer {
    public enum Op { SUM, ASUM, SUMSQ, MEAN }

    private final Op op;
    private final int axisParam;
    private final float coeff;

    public Reduction(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        op = j.getEnum("operation", Op.class, Op.SUM);
        axisParam = j.getInt("axis", 0);
        coeff = j.getFloat("coeff", 1f);
    }

    public Op op() {
        return op;
    }

    public float coeff() {
        return coeff;
    }

    /** The first reduced axis of bottom {@code x}: the axes from it on are reduced. */
    public int axisOf(Blob x) {
        return axis("axis", x, axisParam);
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        if (top.get(0) == x) {
            throw error("cannot run in place");
        }
        int a = axis("axis", x, axisParam);
        top.get(0).reshape(Arrays.copyOf(x.shape(), a));
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        int a = axis("axis", x, axisParam);
        int outer = x.count(0, a);
        int inner = x.count(a);
        float[] xv = x.x();             // (outer, inner)
        float[] y = top.get(0).x();     // (outer)
        for (int o = 0; o < outer; o++) {
            int off = o * inner;
            double s = 0;
            for (int i = 0; i < inner; i++) {
                float v = xv[off + i];
                s += switch (op) {
                    case SUM, MEAN -> v;
                    case ASUM -> Math.abs(v);
                    case SUMSQ -> (double) v * v;
                };
            }
            double scale = op == Op.MEAN ? (double) coeff / inner : coeff;
            y[o] = (float) (scale * s);
        }
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (!propagateDown[0]) {
            return;
        }
        Blob x = bottom.get(0);
        int a = axis("axis", x, axisParam);
        int outer = x.count(0, a);
        int inner = x.count(a);
        float[] xv = x.x();             // (outer, inner)
        float[] dx = x.dx();
        float[] dy = top.get(0).dx();   // (outer)
        for (int o = 0; o < outer; o++) {
            int off = o * inner;
            float g = op == Op.MEAN ? (float) ((double) coeff / inner * dy[o]) : coeff * dy[o];
            for (int i = 0; i < inner; i++) {
                float v = xv[off + i];
                dx[off + i] = switch (op) {
                    case SUM, MEAN -> g;
                    case ASUM -> Math.signum(v) * g;
                    case SUMSQ -> 2 * v * g;
                };
            }
        }
    }
}
