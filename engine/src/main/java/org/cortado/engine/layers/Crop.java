package org.cortado.engine.layers;

import java.util.Arrays;
import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;

/**
 * Caffe's {@code Crop}: cuts bottom 0 down to the shape of bottom 1 on the axes from {@code axis} on;
 * the axes before {@code axis} keep bottom 0's size. For every cropped axis {@code d},
 * {@code y[..., i_d, ...] = x[..., i_d + offset_d, ...]}. Bottom 1 only gives the shape and gets no
 * gradient; backward writes {@code dx = 0} except on the kept window, where {@code dx = dy}.
 *
 * <p>Fields: {@code axis} (2; negative counts from the end), {@code offset} (empty: 0 for every cropped
 * axis; one value: that offset on every cropped axis; else exactly one per cropped axis, {@code >= 0}).
 * An offset that puts the window past the end of bottom 0 ({@code offset_d + shape1[d] > shape0[d]}) is
 * an error, as are bottoms of different ranks.
 */
public final class Crop extends Layer {
    private final int axisParam;
    private final int[] offsetParam;
    private int[] offsets = new int[0];   // per axis of bottom 0 (0 before axis)

    public Crop(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        axisParam = j.getInt("axis", 2);
        offsetParam = j.ints("offset");
        for (int o : offsetParam) {
            j.nonNegative("offset", o);
        }
    }

    @Override
    public int minBottoms() {
        return 2;
    }

    @Override
    public int maxBottoms() {
        return 2;
    }

    @Override
    public boolean canPropagateDown(int i) {
        return i == 0;
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        Blob ref = bottom.get(1);
        if (x.rank() != ref.rank()) {
            throw error("bottom '" + x.name() + "' of shape " + Shapes.str(x.shape()) + " and bottom '" + ref.name()
                    + "' of shape " + Shapes.str(ref.shape()) + " must have the same number of axes");
        }
        int a = axis("axis", x, axisParam);
        int cropped = x.rank() - a;
        if (offsetParam.length > 1 && offsetParam.length != cropped) {
            throw error("offset " + Arrays.toString(offsetParam) + " must have one value or one per cropped axis ("
                    + cropped + " from axis " + a + " of shape " + Shapes.str(x.shape()) + ")");
        }
        offsets = new int[x.rank()];
        int[] out = x.shape();
        for (int d = a; d < x.rank(); d++) {
            int o = offsetParam.length == 0 ? 0 : offsetParam.length == 1 ? offsetParam[0] : offsetParam[d - a];
            if (o + ref.dim(d) > x.dim(d)) {
                throw error("offset " + o + " on axis " + d + " crops " + ref.dim(d) + " values (bottom '" + ref.name()
                        + "' of shape " + Shapes.str(ref.shape()) + ") past the end of bottom '" + x.name()
                        + "' of shape " + Shapes.str(x.shape()));
            }
            offsets[d] = o;
            out[d] = ref.dim(d);
        }
        if (top.get(0) == x || top.get(0) == ref) {
            throw error("cannot run in place");
        }
        top.get(0).reshape(out);
    }

    /** The offset on each axis of bottom 0 (0 before {@code axis}), for the current shapes. */
    public int[] offsets() {
        return offsets.clone();
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        copy(bottom.get(0), top.get(0), true);
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (propagateDown[0]) {
            Blob x = bottom.get(0);
            Arrays.fill(x.dx(), 0, x.count(), 0f);
            copy(x, top.get(0), false);
        }
    }

    /**
     * Walks the top row by row (a row: the last axis) and copies it from (forward) or to (backward) the
     * matching row of the bottom, shifted by the offsets.
     */
    private void copy(Blob x, Blob y, boolean forward) {
        int r = y.rank();
        if (r == 0) {
            (forward ? y.x() : x.dx())[0] = (forward ? x.x() : y.dx())[0];
            return;
        }
        int[] xs = x.shape();
        int[] ys = y.shape();
        int[] xStride = new int[r];
        xStride[r - 1] = 1;
        for (int d = r - 2; d >= 0; d--) {
            xStride[d] = xStride[d + 1] * xs[d + 1];
        }
        int rowLen = ys[r - 1];
        int rows = y.count() / Math.max(rowLen, 1);
        if (rowLen == 0) {
            return;
        }
        int[] idx = new int[r];   // index of the current row's first element in y
        for (int row = 0; row < rows; row++) {
            int xOff = 0;
            for (int d = 0; d < r; d++) {
                xOff += (idx[d] + offsets[d]) * xStride[d];
            }
            if (forward) {
                System.arraycopy(x.x(), xOff, y.x(), row * rowLen, rowLen);
            } else {
                System.arraycopy(y.dx(), row * rowLen, x.dx(), xOff, rowLen);
            }
            for (int d = r - 2; d >= 0; d--) {   // next row: odometer over the axes before the last
                if (++idx[d] < ys[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
    }
}
