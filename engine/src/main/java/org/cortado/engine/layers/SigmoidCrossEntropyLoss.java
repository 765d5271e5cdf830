package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.layers.SoftmaxWithLoss.Normalization;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;

/**
 * Caffe's {@code SigmoidCrossEntropyLoss}: the cross-entropy between targets {@code t} in [0, 1] and
 * the sigmoid of the scores {@code x}, computed from {@code x} directly in Caffe's stable form
 * <pre>
 *   loss = -sum_i [ x_i * (t_i - [x_i >= 0]) - log(1 + exp(x_i - 2 * x_i * [x_i >= 0])) ] / normalizer
 *   dx_i = (sigmoid(x_i) - t_i) * lossWeight / normalizer        (0 where t_i is ignored)
 * </pre>
 * which equals {@code -[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))]} without overflowing.
 *
 * <p>Bottoms: scores {@code (N, ...)} and targets with the same count and the same first dimension.
 * Top: the loss, a scalar. No gradient flows to the targets.
 *
 * <p>Fields (Caffe's {@code loss_param}): {@code ignore_label} (none): an element whose target,
 * truncated to an int as Caffe's {@code static_cast<int>} does, equals it contributes nothing;
 * {@code normalization}: FULL ({@code N * count/N}), VALID (non-ignored elements), BATCH_SIZE
 * ({@code N}), NONE (1), never below 1; when absent, Caffe's legacy {@code normalize} decides (true:
 * VALID, false: BATCH_SIZE), and when both are absent this layer uses <b>BATCH_SIZE</b>: that is what
 * Caffe's {@code SigmoidCrossEntropyLossLayer::LayerSetUp} does, although {@code caffe.proto}'s
 * default for {@code normalization} is VALID. {@code loss_weight} (1) scales the gradient through
 * the top's diff. PyTorch's {@code binary_cross_entropy_with_logits} computes the same per-element
 * terms; its {@code reduction='mean'} divides by the element count (Caffe's FULL), not by N.
 */
public final class SigmoidCrossEntropyLoss extends Layer {
    private final boolean hasIgnoreLabel;
    private final int ignoreLabel;
    private final Normalization normalization;

    private float[] sigmoid = new float[0];   // (count), sigmoid of the scores from the last forward
    private int num;
    private int count;
    private int validCount;

    public SigmoidCrossEntropyLoss(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        hasIgnoreLabel = j.has("ignore_label");
        ignoreLabel = hasIgnoreLabel ? j.requireInt("ignore_label") : 0;
        boolean hasNormalize = j.has("normalize");
        boolean normalize = j.getBool("normalize", false);
        Normalization mode = j.getEnum("normalization", Normalization.class, null);
        if (mode == null) {
            mode = hasNormalize && normalize ? Normalization.VALID : Normalization.BATCH_SIZE;
        }
        normalization = mode;
    }

    public Normalization normalization() {
        return normalization;
    }

    /** The ignore label, if any: an element whose target, truncated to an int, equals it counts for nothing. */
    public java.util.OptionalInt ignoreLabel() {
        return hasIgnoreLabel ? java.util.OptionalInt.of(ignoreLabel) : java.util.OptionalInt.empty();
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
    public boolean isLoss() {
        return true;
    }

    @Override
    public boolean canPropagateDown(int i) {
        return i == 0;
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        Blob t = bottom.get(1);
        if (x.rank() == 0 || t.rank() == 0 || x.dim(0) != t.dim(0) || x.count() != t.count()) {
            throw error("scores '" + x.name() + "' " + Shapes.str(x.shape()) + " and targets '" + t.name() + "' "
                    + Shapes.str(t.shape()) + " must have the same count and the same first dimension");
        }
        num = x.dim(0);
        count = x.count();
        if (sigmoid.length < count) {
            sigmoid = new float[count];
        }
        top.get(0).reshape();
    }

    private boolean ignored(float target) {
        return hasIgnoreLabel && (int) target == ignoreLabel;
    }

    private float normalizer() {
        return normalization.normalizer(count, validCount, num);
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] x = bottom.get(0).x();   // (N, ...)
        float[] t = bottom.get(1).x();   // (N, ...), same count
        double loss = 0;
        int valid = 0;
        for (int i = 0; i < count; i++) {
            sigmoid[i] = (float) (1.0 / (1.0 + Math.exp(-x[i])));
            if (ignored(t[i])) {
                continue;
            }
            double pos = x[i] >= 0 ? 1 : 0;
            loss -= x[i] * (t[i] - pos) - Math.log1p(Math.exp(x[i] - 2 * x[i] * pos));
            valid++;
        }
        validCount = valid;
        top.get(0).x()[0] = (float) (loss / normalizer());
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (propagateDown.length > 1 && propagateDown[1]) {
            throw error("cannot backpropagate to the targets '" + bottom.get(1).name() + "'");
        }
        if (!propagateDown[0]) {
            return;
        }
        float[] dx = bottom.get(0).dx();
        float[] t = bottom.get(1).x();
        float scale = top.get(0).dx()[0] / normalizer();
        for (int i = 0; i < count; i++) {
            dx[i] = ignored(t[i]) ? 0f : (sigmoid[i] - t[i]) * scale;
        }
    }
}
