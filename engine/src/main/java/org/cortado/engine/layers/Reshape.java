package org.cortado.engine.layers;

import java.util.Arrays;
import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;

/**
 * Caffe's {@code Reshape}: changes the shape, not the values (row-major order is kept; forward copies
 * the data, backward copies the diff back). Axes {@code [axis, axis + num_axes)} of the bottom are
 * replaced by {@code shape.dim}; in {@code dim}, {@code 0} copies the bottom's size at the same position
 * ({@code bottom.shape[start + i]} for {@code dim[i] = 0}) and one {@code -1} is inferred so that the
 * count stays the same.
 *
 * <p>Fields: {@code shape: {dim: [...]}} (required), {@code axis} (0; negative counts from the end, with
 * {@code -1} meaning after the last axis, as in Caffe), {@code num_axes} (-1: all axes from
 * {@code axis} on; otherwise {@code >= 0}). Errors: more than one {@code -1}, a dim below {@code -1}, a
 * {@code 0} past the bottom's axes, or a count that does not match. Not in place (Caffe shares the
 * memory instead; here it is a copy).
 */
public final class Reshape extends Layer {
    private final int[] dims;
    private final int axisParam;
    private final int numAxes;

    public Reshape(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        Json shape = j.object("shape");
        dims = shape.ints("dim");
        shape.rejectUnknown();
        int inferred = 0;
        for (int d : dims) {
            if (d < -1) {
                throw shape.error("dim", "every dim must be >= -1 (-1 infers, 0 copies), got " + d);
            }
            inferred += d == -1 ? 1 : 0;
        }
        if (inferred > 1) {
            throw shape.error("dim", "at most one dim may be -1 (inferred), got " + Arrays.toString(dims));
        }
        axisParam = j.getInt("axis", 0);
        numAxes = j.getInt("num_axes", -1);
        if (numAxes < -1) {
            throw j.error("num_axes", "must be >= -1 (-1: all axes from axis on), got " + numAxes);
        }
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        if (top.get(0) == x) {
            throw error("cannot run in place");
        }
        int r = x.rank();
        int[] in = x.shape();
        // Caffe: a negative axis counts from after the last axis (-1 = r).
        int start = axisParam >= 0 ? axisParam : r + axisParam + 1;
        if (start < 0 || start > r) {
            throw error("axis " + axisParam + " is out of range for bottom '" + x.name() + "' of shape " + Shapes.str(in));
        }
        int end = numAxes == -1 ? r : start + numAxes;
        if (end > r) {
            throw error("axis " + axisParam + " with num_axes " + numAxes + " goes past the axes of bottom '" + x.name()
                    + "' of shape " + Shapes.str(in));
        }
        int[] out = new int[start + dims.length + (r - end)];
        System.arraycopy(in, 0, out, 0, start);
        System.arraycopy(in, end, out, start + dims.length, r - end);
        int inferAt = -1;
        long known = 1;
        for (int i = 0; i < dims.length; i++) {
            int d = dims[i];
            if (d == 0) {
                if (start + i >= r) {
                    throw error("dim[" + i + "] = 0 copies axis " + (start + i) + ", which bottom '" + x.name()
                            + "' of shape " + Shapes.str(in) + " does not have");
                }
                d = in[start + i];
            }
            if (d == -1) {
                inferAt = start + i;
            } else {
                out[start + i] = d;
            }
        }
        for (int i = 0; i < out.length; i++) {
            if (i != inferAt) {
                known *= out[i];
            }
        }
        if (inferAt >= 0) {
            if (known == 0 || x.count() % known != 0) {
                throw error("cannot infer dim -1 of " + Arrays.toString(dims) + ": bottom '" + x.name() + "' of shape "
                        + Shapes.str(in) + " has " + x.count() + " values, not a multiple of " + known);
            }
            out[inferAt] = (int) (x.count() / known);
        } else if (known != x.count()) {
            throw error("shape " + Shapes.str(out) + " (" + known + " values) does not fit bottom '" + x.name()
                    + "' of shape " + Shapes.str(in) + " (" + x.count() + " values)");
        }
        top.get(0).reshape(out);
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        System.arraycopy(bottom.get(0).x(), 0, top.get(0).x(), 0, bottom.get(0).count());
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (propagateDown[0]) {
            System.arraycopy(top.get(0).dx(), 0, bottom.get(0).dx(), 0, bottom.get(0).count());
        }
    }
}
