package org.cortado.engine.layers;

import java.util.Arrays;
import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.fill.Filler;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;

/**
 * Caffe's {@code Bias}: adds a bias {@code b} broadcast over the axes before and after it. Viewing
 * {@code x} as {@code (outer, D, inner)} where {@code D = count(b)} covers axes
 * {@code [axis, axis + rank(b))}:
 * <pre>
 *   y[o, d, i] = x[o, d, i] + b[d]
 *   dx = dy                db[d] = sum_{o, i} dy[o, d, i]
 * </pre>
 *
 * <p>Fields (Caffe's defaults): {@code axis} (1; negative counts from the end), {@code num_axes} (1;
 * -1 means all axes from {@code axis} on, 0 a single scalar), {@code filler} (constant 0).
 *
 * <p>With one bottom the bias is learnable blob 0, of shape {@code x.shape[axis : axis + num_axes]},
 * and its diff accumulates. With two bottoms the bias is bottom 1 (its shape must equal
 * {@code x.shape[axis : axis + rank]}; {@code num_axes} is ignored, a 0-axis bottom 1 is a scalar) and
 * its diff is written. In place is allowed.
 */
public final class Bias extends Layer {
    private final int axisParam;
    private final int numAxes;
    private final Filler filler;

    private int outer;
    private int dim;
    private int inner;

    public Bias(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        axisParam = j.getInt("axis", 1);
        numAxes = j.getInt("num_axes", 1);
        if (numAxes < -1) {
            throw j.error("num_axes", "must be >= -1, got " + numAxes);
        }
        filler = Filler.parse(j, "filler", Filler.ZERO);
    }

    @Override
    public int maxBottoms() {
        return 2;
    }

    @Override
    public boolean allowsInPlace() {
        return true;
    }

    @Override
    public void setUp(List<Blob> bottom, List<Blob> top) {
        if (bottom.size() > 1) {
            return;
        }
        Blob x = bottom.get(0);
        int a = axis("axis", x, axisParam);
        int end = numAxes == -1 ? x.rank() : a + numAxes;
        if (end > x.rank()) {
            throw error("axis " + a + " + num_axes " + numAxes + " extends past the " + x.rank()
                    + " axes of bottom '" + x.name() + "' of shape " + Shapes.str(x.shape()));
        }
        filler.fill(addParam(Arrays.copyOfRange(x.shape(), a, end)).data(), ctx.rng(name() + "/fill"));
    }

    private Blob bias(List<Blob> bottom) {
        return bottom.size() > 1 ? bottom.get(1) : param(0);
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        Blob b = bias(bottom);
        int a = broadcastAxis(x, b, axisParam, "bias");
        outer = x.count(0, a);
        dim = b.count();
        inner = x.count(a + b.rank());
        if (top.get(0) != x) {
            top.get(0).reshapeLike(x);
        }
    }

    /** The axes before the bias's, as one: {@code x} is {@code (outer, dim, inner)}. */
    public int outer() {
        return outer;
    }

    /** The bias's element count. */
    public int dim() {
        return dim;
    }

    /** The axes after the bias's, as one. */
    public int inner() {
        return inner;
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] x = bottom.get(0).x();   // (outer, dim, inner)
        float[] b = bias(bottom).x();    // (dim)
        float[] y = top.get(0).x();      // (outer, dim, inner)
        for (int o = 0; o < outer; o++) {
            for (int d = 0; d < dim; d++) {
                int base = (o * dim + d) * inner;
                float bd = b[d];
                for (int i = 0; i < inner; i++) {
                    y[base + i] = x[base + i] + bd;
                }
            }
        }
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        float[] dy = top.get(0).dx();    // (outer, dim, inner)
        boolean biasIsBottom = bottom.size() > 1;
        if (!biasIsBottom || propagateDown[1]) {
            float[] db = bias(bottom).dx();   // (dim)
            for (int d = 0; d < dim; d++) {
                double sum = 0;
                for (int o = 0; o < outer; o++) {
                    int base = (o * dim + d) * inner;
                    for (int i = 0; i < inner; i++) {
                        sum += dy[base + i];
                    }
                }
                // a param accumulates; a bottom's diff is written
                db[d] = biasIsBottom ? (float) sum : db[d] + (float) sum;
            }
        }
        if (propagateDown[0] && top.get(0) != bottom.get(0)) {
            System.arraycopy(dy, 0, bottom.get(0).dx(), 0, bottom.get(0).count());
        }
    }

    /** Forward FLOPs: one per element (see {@link Layer#flops}). */
    @Override
    public long flops(List<Blob> bottom, List<Blob> top) {
        return top.get(0).count();
    }
}
