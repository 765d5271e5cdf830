package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.ops.Scratch;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;

/**
 * Caffe's {@code Softmax}: {@code y = exp(x) / sum exp(x)} along {@code axis}, computed stably (the max
 * along the axis is subtracted first). Same shape out as in; in place is allowed.
 *
 * <p>Fields: {@code axis} (1; negative counts from the end). The bottom is viewed as
 * {@code (outer, channels, inner)} around the axis, see {@link org.cortado.engine.ops.Softmax}.
 * Backward: {@code dx = y * (dy - sum_axis(dy * y))}.
 */
public final class Softmax extends Layer {
    private final int axisParam;
    private final Scratch scratch = new Scratch();
    private int outer;
    private int channels;
    private int inner;

    public Softmax(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        axisParam = config.json().getInt("axis", 1);
    }

    @Override
    public boolean allowsInPlace() {
        return true;
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        int a = axis("axis", x, axisParam);
        outer = x.count(0, a);
        channels = x.dim(a);
        inner = x.count(a + 1);
        if (top.get(0) != x) {
            top.get(0).reshapeLike(x);
        }
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        org.cortado.engine.ops.Softmax.forward(par(), outer, channels, inner, bottom.get(0).x(), top.get(0).x(),
                scratch);
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (!propagateDown[0]) {
            return;
        }
        org.cortado.engine.ops.Softmax.backward(par(), outer, channels, inner, top.get(0).x(), top.get(0).dx(),
                bottom.get(0).dx(), scratch);
    }

    /** The bottom viewed as {@code (outer, channels, inner)} around the axis, for the current shape. */
    public int outer() {
        return outer;
    }

    public int channels() {
        return channels;
    }

    public int inner() {
        return inner;
    }

    /** Forward FLOPs: three per element (exp, sum, divide) (see {@link Layer#flops}). */
    @Override
    public long flops(List<Blob> bottom, List<Blob> top) {
        return 3L * top.get(0).count();
    }
}
