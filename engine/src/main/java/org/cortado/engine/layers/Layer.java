package org.cortado.engine.layers;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.cortado.engine.ShapeException;
import org.cortado.engine.ops.Parallel;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;

/**
 * Caffe's layer contract, narrowed:
 * <ol>
 *   <li>the constructor reads the layer's own config fields (and validates them, naming the JSON path);</li>
 *   <li>{@link #setUp} runs once with the first bottom shapes: checks them and creates and fills the
 *       learnable blobs ({@link #params()});</li>
 *   <li>{@link #reshape} sets the top shapes from the bottom shapes; the net calls it before the first
 *       forward and whenever an input shape changes (a new batch size);</li>
 *   <li>{@link #forward} reads bottom data and writes top data;</li>
 *   <li>{@link #backward} reads top diff (and whatever data it needs) and writes bottom diff for each
 *       bottom with {@code propagateDown[i]}; it <b>accumulates</b> into the diffs of its learnable
 *       blobs, which the solver clears after each update (this is what makes {@code iter_size} and
 *       shared parameters work).</li>
 * </ol>
 * A layer that allows it ({@link #allowsInPlace()}) may have its top be the same blob as its bottom.
 */
public abstract class Layer {
    protected final LayerConfig config;
    protected final LayerContext ctx;
    private final List<Blob> params = new ArrayList<>();

    protected Layer(LayerConfig config, LayerContext ctx) {
        this.config = config;
        this.ctx = ctx;
    }

    public final String name() {
        return config.name();
    }

    public final String type() {
        return config.type();
    }

    public final LayerConfig config() {
        return config;
    }

    protected final Parallel par() {
        return ctx.parallel();
    }

    /** The learnable blobs, in Caffe's order (weights, then bias). */
    public final List<Blob> params() {
        return Collections.unmodifiableList(params);
    }

    /** Creates learnable blob number {@link #params()}{@code .size()} with the given shape. */
    protected final Blob addParam(int... shape) {
        Blob b = new Blob(name() + "/" + params.size(), shape);
        params.add(b);
        return b;
    }

    /** Replaces learnable blob {@code i} by {@code owner} (parameter sharing, done by the net). */
    public final void shareParam(int i, Blob owner) {
        params.set(i, owner);
    }

    /** Learnable blob {@code i}; always fetch it through here, as the net may have shared it. */
    protected final Blob param(int i) {
        return params.get(i);
    }

    /** How many bottoms this layer takes: {@code [min, max]}. */
    public int minBottoms() {
        return 1;
    }

    public int maxBottoms() {
        return 1;
    }

    /** How many tops this layer produces: {@code [min, max]}. */
    public int minTops() {
        return 1;
    }

    public int maxTops() {
        return 1;
    }

    /** Loss layers report true: their first top gets {@code loss_weight} 1 unless configured. */
    public boolean isLoss() {
        return false;
    }

    /** Whether the top may be the bottom blob itself (ReLU, Dropout, ...). */
    public boolean allowsInPlace() {
        return false;
    }

    /** Whether the gradient may flow to bottom {@code i} at all (false for labels). */
    public boolean canPropagateDown(int i) {
        return true;
    }

    /**
     * Called by the net before each forward of a training pass with a counter that grows by one per
     * pass ({@code iter * iter_size + k}). Layers with randomness (Dropout) derive their stream from it,
     * so a resumed run draws the same masks as an uninterrupted one. The default does nothing.
     */
    public void beginPass(long pass) {}

    /**
     * Whether learnable blob {@code i} holds running statistics rather than a learned parameter
     * (BatchNorm's mean, variance and factor). Such blobs are saved with the weights but are not counted
     * as parameters ({@code Net.paramCount()}, like PyTorch's {@code parameters()} leaves out buffers).
     */
    public boolean isStatistic(int i) {
        return false;
    }

    /**
     * Floating-point operations of one forward pass for the current shapes (the whole batch), counted as
     * the inference computation:
     * <ul>
     *   <li>a multiply-add is 2 FLOPs: Convolution {@code top.count * (2 * C/group * kh * kw + bias)},
     *       Deconvolution {@code bottom.count * 2 * num_output/group * kh * kw + top.count * bias},
     *       InnerProduct {@code top.count * (2 * K + bias)};</li>
     *   <li>Pooling: one per window element per output ({@code top.count * kh * kw});</li>
     *   <li>element-wise layers: one per top element per operation (ReLU, Sigmoid, TanH and the other
     *       activations 1; Scale 1, plus 1 with a bias; Bias 1; BatchNorm 2 (subtract, multiply);
     *       Eltwise {@code bottoms - 1}, plus {@code bottoms} with coefficients; Softmax 3 (exp, sum,
     *       divide); LRN across channels {@code 2 * local_size + 3}, within a channel
     *       {@code 2 * local_size² + 3});</li>
     *   <li>0 (this default): layers that only move or copy data (Input, Split, Concat, Slice, Flatten,
     *       Reshape, Crop, Tile, Silence, Embed, ArgMax), loss and accuracy layers, and work done only
     *       while training (BatchNorm's batch statistics, Dropout's mask).</li>
     * </ul>
     */
    public long flops(List<Blob> bottom, List<Blob> top) {
        return 0;
    }

    /** Checks the bottoms and creates the learnable blobs. Called once; the default does nothing. */
    public void setUp(List<Blob> bottom, List<Blob> top) {}

    public abstract void reshape(List<Blob> bottom, List<Blob> top);

    public abstract void forward(List<Blob> bottom, List<Blob> top);

    public abstract void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom);

    /** An error about this layer: {@code layer 'conv1' (Convolution) at net.layers[0]: message}. */
    protected final ShapeException error(String message) {
        return new ShapeException("layer '" + name() + "' (" + type() + ") at " + config.path() + ": " + message);
    }

    /**
     * Where {@code b} (a scale or bias, Caffe's Scale/Bias layers) lines up with {@code x}: from axis
     * {@code axisParam} (0 for a scalar {@code b}), {@code b}'s dimensions must equal {@code x}'s;
     * otherwise an error naming this layer, {@code what} and both shapes.
     */
    protected final int broadcastAxis(Blob x, Blob b, int axisParam, String what) {
        int a = b.rank() == 0 ? 0 : axis("axis", x, axisParam);
        boolean fits = a + b.rank() <= x.rank();
        for (int i = 0; fits && i < b.rank(); i++) {
            fits = x.dim(a + i) == b.dim(i);
        }
        if (!fits) {
            throw error(what + " of shape " + org.cortado.engine.tensor.Shapes.str(b.shape()) + " does not match bottom '"
                    + x.name() + "' of shape " + org.cortado.engine.tensor.Shapes.str(x.shape()) + " from axis " + a);
        }
        return a;
    }

    /**
     * A label as a class index: Caffe casts labels to int; here a value that is not a whole number in
     * {@code [0, classes)} is an error naming this layer, the value and {@code where} it is
     * ("at position 3"). Returns -1 for {@code ignore_label} (when {@code hasIgnore}).
     */
    protected final int classIndex(float v, int classes, boolean hasIgnore, int ignoreLabel, String where) {
        int c = (int) v;
        if (hasIgnore && c == ignoreLabel && c == v) {
            return -1;
        }
        if (c != v || c < 0 || c >= classes) {
            throw error("label " + v + " " + where + " is not a class index in [0, " + classes + ")"
                    + (hasIgnore ? " nor ignore_label " + ignoreLabel : ""));
        }
        return c;
    }

    /**
     * The canonical index of a configured axis ({@code field}: "axis", "end_axis", ...) of blob {@code x} (negative values count from
     * the end, as in Caffe); out of range is an error naming this layer.
     */
    protected final int axis(String field, Blob x, int axis) {
        int r = x.rank();
        if (axis < -r || axis >= r) {
            throw error(field + " " + axis + " is out of range for bottom '" + x.name() + "' of shape "
                    + Shapes.str(x.shape()));
        }
        return axis < 0 ? axis + r : axis;
    }

    /** Fails unless bottom {@code i} has rank {@code rank}. */
    protected final void requireRank(List<Blob> bottom, int i, int rank) {
        if (bottom.get(i).rank() != rank) {
            throw error("bottom '" + bottom.get(i).name() + "' must have " + rank + " axes, got shape "
                    + Shapes.str(bottom.get(i).shape()));
        }
    }

    @Override
    public String toString() {
        return name() + " (" + type() + ")";
    }
}
