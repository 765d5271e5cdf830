package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;

/**
 * Caffe's {@code ArgMax}: the indices (and optionally the values) of the {@code top_k} largest entries.
 * Values are ranked as Caffe's {@code partial_sort} of {@code (value, index)} pairs with
 * {@code std::greater}: by value descending, and among equal values the larger index first (PyTorch's
 * {@code topk} leaves the order of ties unspecified).
 * <ul>
 *   <li>Without {@code axis}: each item {@code n} (axis 0) is flattened, {@code x (N, D)} with
 *       {@code D = count(1)}; the top has shape {@code (N, 1, top_k)} holding the indices, or
 *       {@code (N, 2, top_k)} with the indices in channel 0 and the values in channel 1 when
 *       {@code out_max_val}, padded with trailing 1s to the bottom's rank (at least 3 axes).</li>
 *   <li>With {@code axis}: the top has the bottom's shape with {@code shape[axis] = top_k} and holds the
 *       indices along that axis, or the values instead when {@code out_max_val}.</li>
 * </ul>
 * Fields: {@code out_max_val} (false), {@code top_k} (1; at most the number of ranked entries),
 * {@code axis} (none; negative counts from the end). Indices are written as floats. No gradient: it
 * cannot propagate down (Caffe's backward is not implemented).
 */
public final class ArgMax extends Layer {
    private final boolean outMaxVal;
    private final int topK;
    private final Integer axisParam;   // null: Caffe's has_axis() false

    public ArgMax(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        outMaxVal = j.getBool("out_max_val", false);
        topK = j.positive("top_k", j.getInt("top_k", 1));
        axisParam = j.has("axis") ? j.getInt("axis", 0) : null;
    }

    @Override
    public boolean canPropagateDown(int i) {
        return false;
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        if (top.get(0) == x) {
            throw error("cannot run in place");
        }
        int[] shape;
        if (axisParam != null) {
            int a = axis("axis", x, axisParam);
            if (topK > x.dim(a)) {
                throw error("top_k " + topK + " is larger than axis " + a + " of bottom '" + x.name() + "' of shape "
                        + Shapes.str(x.shape()) + " (" + x.dim(a) + ")");
            }
            shape = x.shape();
            shape[a] = topK;
        } else {
            if (x.rank() < 1 || topK > x.count(1)) {
                throw error("top_k " + topK + " is larger than the " + (x.rank() < 1 ? 0 : x.count(1))
                        + " values per item of bottom '" + x.name() + "' of shape "
                        + Shapes.str(x.shape()));
            }
            shape = new int[Math.max(3, x.rank())];
            java.util.Arrays.fill(shape, 1);
            shape[0] = x.dim(0);
            shape[1] = outMaxVal ? 2 : 1;
            shape[2] = topK;
        }
        top.get(0).reshape(shape);
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        float[] xv = x.x();
        float[] y = top.get(0).x();
        int dim;
        int axisDist;
        if (axisParam != null) {
            int a = axis("axis", x, axisParam);
            dim = x.dim(a);
            axisDist = x.count(a + 1);
        } else {
            dim = x.count(1);
            axisDist = 1;
        }
        int num = dim == 0 ? 0 : x.count() / dim;
        int[] best = new int[topK];
        for (int i = 0; i < num; i++) {
            int base = i / axisDist * dim * axisDist + i % axisDist;   // element j is at base + j * axisDist
            // Selection of the top_k by (value desc, index desc), as Caffe's partial_sort with greater<pair>.
            for (int k = 0; k < topK; k++) {
                int pick = -1;
                for (int j = 0; j < dim; j++) {
                    boolean taken = false;
                    for (int q = 0; q < k && !taken; q++) {
                        taken = best[q] == j;
                    }
                    if (taken) {
                        continue;
                    }
                    if (pick < 0 || xv[base + j * axisDist] > xv[base + pick * axisDist]
                            || (xv[base + j * axisDist] == xv[base + pick * axisDist] && j > pick)) {
                        pick = j;
                    }
                }
                best[k] = pick;
            }
            for (int k = 0; k < topK; k++) {
                float value = xv[base + best[k] * axisDist];
                if (axisParam != null) {
                    y[(i / axisDist * topK + k) * axisDist + i % axisDist] = outMaxVal ? value : best[k];
                } else if (outMaxVal) {
                    y[2 * i * topK + k] = best[k];
                    y[2 * i * topK + topK + k] = value;
                } else {
                    y[i * topK + k] = best[k];
                }
            }
        }
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (propagateDown[0]) {
            throw error("has no gradient (it cannot propagate down)");
        }
    }
}
