package org.cortado.engine.layers;

import java.util.Arrays;
import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;

/**
 * Caffe's {@code Slice}: the inverse of {@code Concat}. The bottom is cut along {@code axis} into one
 * piece per top: top {@code t} holds indices {@code [p_{t-1}, p_t)} of that axis, with
 * {@code p_{-1} = 0}, {@code p_{T-1} = shape[axis]} and the inner points from {@code slice_point}. Without
 * {@code slice_point} the axis is split into {@code T} equal pieces (an axis not divisible by {@code T}
 * is an error). Backward copies each top diff back into its piece of the bottom diff.
 *
 * <p>Fields: {@code axis} (1; negative counts from the end) or the legacy {@code slice_dim} (1, must be
 * {@code >= 0}; not both), {@code slice_point} (empty; otherwise exactly {@code T - 1} strictly
 * increasing points inside {@code (0, shape[axis])}). One or more tops; not in place.
 */
public final class Slice extends Layer {
    private final int axisParam;
    private final int[] slicePoints;

    public Slice(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        if (j.has("axis") && j.has("slice_dim")) {
            throw j.error("slice_dim", "give either axis or slice_dim (legacy), not both");
        }
        axisParam = j.has("slice_dim") ? j.nonNegative("slice_dim", j.getInt("slice_dim", 1)) : j.getInt("axis", 1);
        slicePoints = j.ints("slice_point");
    }

    @Override
    public int maxTops() {
        return Integer.MAX_VALUE;
    }

    /** Where each piece starts on the axis; entry {@code T} is the axis length. */
    private int[] bounds(Blob x, int a, int pieces) {
        int dim = x.dim(a);
        int[] start = new int[pieces + 1];
        if (slicePoints.length == 0) {
            if (dim % pieces != 0) {
                throw error("axis " + a + " of bottom '" + x.name() + "' of shape " + Shapes.str(x.shape())
                        + " (" + dim + ") cannot be split evenly into " + pieces + " tops");
            }
            for (int t = 0; t <= pieces; t++) {
                start[t] = t * (dim / pieces);
            }
            return start;
        }
        if (slicePoints.length != pieces - 1) {
            throw error("slice_point " + Arrays.toString(slicePoints) + " needs one point fewer than the "
                    + pieces + " tops");
        }
        for (int t = 0; t < slicePoints.length; t++) {
            start[t + 1] = slicePoints[t];
        }
        start[pieces] = dim;
        for (int t = 0; t < pieces; t++) {
            if (start[t + 1] <= start[t]) {
                throw error("slice_point " + Arrays.toString(slicePoints) + " must be strictly increasing inside (0, "
                        + dim + ") for axis " + a + " of bottom '" + x.name() + "' of shape " + Shapes.str(x.shape()));
            }
        }
        return start;
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        int a = axis("axis", x, axisParam);
        int[] start = bounds(x, a, top.size());
        for (int t = 0; t < top.size(); t++) {
            if (top.get(t) == x) {
                throw error("cannot run in place: top '" + x.name() + "' is the bottom");
            }
            int[] shape = x.shape();
            shape[a] = start[t + 1] - start[t];
            top.get(t).reshape(shape);
        }
    }

    /** The axis the bottom is cut along. */
    public int axisOf(Blob x) {
        return axis("axis", x, axisParam);
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        copy(bottom.get(0), top, true);
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (propagateDown[0]) {
            copy(bottom.get(0), top, false);
        }
    }

    /** Forward: pieces of x into the tops; backward: top diffs into the pieces of dx. */
    private void copy(Blob x, List<Blob> top, boolean forward) {
        int a = axis("axis", x, axisParam);
        int outer = x.count(0, a);
        int bottomInner = x.count(a);         // one row of x (outer, bottomInner)
        int off = 0;
        for (Blob t : top) {
            int inner = t.count(a);           // one row of y_t (outer, inner)
            for (int o = 0; o < outer; o++) {
                if (forward) {
                    System.arraycopy(x.x(), o * bottomInner + off, t.x(), o * inner, inner);
                } else {
                    System.arraycopy(t.dx(), o * inner, x.dx(), o * bottomInner + off, inner);
                }
            }
            off += inner;
        }
    }
}
