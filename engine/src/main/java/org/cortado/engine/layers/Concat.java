package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;

/**
 * Caffe's {@code Concat}: joins its bottoms along one axis. With {@code outer = count(0, axis)} and
 * {@code inner_b = shape_b[axis] * count(axis + 1)}, row {@code o} of the top is the rows {@code o} of
 * the bottoms one after the other: {@code y[o, off_b + i] = x_b[o, i]} where {@code off_b} is the sum of
 * the earlier bottoms' {@code inner}. Backward hands each bottom its own slice of the top diff:
 * {@code dx_b[o, i] = dy[o, off_b + i]}.
 *
 * <p>Fields: {@code axis} (1; negative counts from the end) or the legacy {@code concat_dim} (1, must be
 * {@code >= 0}); giving both is an error, as in Caffe. All bottoms have the same rank and the same shape
 * outside {@code axis}. One or more bottoms; not in place.
 */
public final class Concat extends Layer {
    private final int axisParam;

    public Concat(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        if (j.has("axis") && j.has("concat_dim")) {
            throw j.error("concat_dim", "give either axis or concat_dim (legacy), not both");
        }
        axisParam = j.has("concat_dim") ? j.nonNegative("concat_dim", j.getInt("concat_dim", 1)) : j.getInt("axis", 1);
    }

    @Override
    public int maxBottoms() {
        return Integer.MAX_VALUE;
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        Blob first = bottom.get(0);
        int a = axis("axis", first, axisParam);
        int[] out = first.shape();
        out[a] = 0;
        for (Blob b : bottom) {
            if (b == top.get(0)) {
                throw error("cannot run in place: top '" + b.name() + "' is a bottom");
            }
            boolean fits = b.rank() == first.rank();
            for (int d = 0; fits && d < b.rank(); d++) {
                fits = d == a || b.dim(d) == first.dim(d);
            }
            if (!fits) {
                throw error("bottom '" + b.name() + "' of shape " + Shapes.str(b.shape()) + " does not match bottom '"
                        + first.name() + "' of shape " + Shapes.str(first.shape()) + " outside axis " + a);
            }
            out[a] += b.dim(a);
        }
        top.get(0).reshape(out);
    }

    /** The axis the bottoms are joined along, for a top of {@code y}'s rank. */
    public int axisOf(Blob y) {
        return axis("axis", y, axisParam);
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        Blob y = top.get(0);
        int a = axis("axis", y, axisParam);
        int outer = y.count(0, a);
        int topInner = y.count(a);            // one row of y (outer, topInner)
        int off = 0;
        for (Blob b : bottom) {
            int inner = b.count(a);           // one row of x_b (outer, inner)
            for (int o = 0; o < outer; o++) {
                System.arraycopy(b.x(), o * inner, y.x(), o * topInner + off, inner);
            }
            off += inner;
        }
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        Blob y = top.get(0);
        int a = axis("axis", y, axisParam);
        int outer = y.count(0, a);
        int topInner = y.count(a);
        int off = 0;
        for (int k = 0; k < bottom.size(); k++) {
            Blob b = bottom.get(k);
            int inner = b.count(a);
            if (propagateDown[k]) {
                for (int o = 0; o < outer; o++) {
                    System.arraycopy(y.dx(), o * topInner + off, b.dx(), o * inner, inner);
                }
            }
            off += inner;
        }
    }
}
