package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.ops.Scratch;
import org.cortado.engine.ops.Softmax;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;

/**
 * Caffe's {@code SoftmaxWithLoss}: the multinomial logistic loss of the softmax of the scores,
 * {@code loss = -sum log(p[label]) / normalizer}.
 *
 * <p>Bottoms: scores {@code (outer, C, inner)} around {@code axis} (e.g. {@code (N, C)} or
 * {@code (N, C, H, W)}) and labels, one per {@code (outer, inner)} position (e.g. {@code (N)} or
 * {@code (N, H, W)}; only the count must match, as in Caffe), each a class index {@code 0..C-1} stored
 * as a float. Tops: the loss, a scalar (shape {@code []}); optionally the probabilities, shaped like the
 * scores. As in Caffe, the probabilities top is an output only: no gradient flows back from it.
 *
 * <p>Fields: {@code axis} (1), {@code ignore_label} (none: every label counts),
 * {@code normalization} (VALID), and Caffe's legacy {@code normalize}, used only when
 * {@code normalization} is absent: true means VALID, false BATCH_SIZE. The normalizer, never below 1:
 * <ul>
 *   <li>FULL: {@code outer * inner}, ignored positions included;</li>
 *   <li>VALID: the number of positions whose label is not {@code ignore_label};</li>
 *   <li>BATCH_SIZE: {@code outer};</li>
 *   <li>NONE: 1.</li>
 * </ul>
 * Backward: {@code dscores = (p - onehot(label)) * lossWeight / normalizer}, zero at ignored positions,
 * where {@code lossWeight} is the loss top's diff (the net puts {@code loss_weight} there). A label
 * outside {@code [0, C)} that is not {@code ignore_label}, or not a whole number, is an error.
 */
public final class SoftmaxWithLoss extends Layer {

    /** Caffe's {@code LossParameter.NormalizationMode}; shared by the losses that take it. */
    public enum Normalization {
        FULL, VALID, BATCH_SIZE, NONE;

        /**
         * Caffe's {@code LossLayer::GetNormalizer}: what the summed loss is divided by, never below 1.
         *
         * @param full  every loss term (FULL)
         * @param valid the terms not ignored (VALID)
         * @param batch the batch size (BATCH_SIZE)
         */
        public float normalizer(double full, double valid, double batch) {
            double n = switch (this) {
                case FULL -> full;
                case VALID -> valid;
                case BATCH_SIZE -> batch;
                case NONE -> 1;
            };
            return (float) Math.max(1.0, n);
        }
    }

    private final int axisParam;
    private final boolean hasIgnoreLabel;
    private final int ignoreLabel;
    private final Normalization normalization;

    private final Blob prob;             // (outer, C, inner), like the scores
    private final Scratch scratch = new Scratch();
    private int outer;
    private int channels;
    private int inner;
    private int validCount;              // non-ignored positions in the last forward

    public SoftmaxWithLoss(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        axisParam = j.getInt("axis", 1);
        hasIgnoreLabel = j.has("ignore_label");
        ignoreLabel = hasIgnoreLabel ? j.requireInt("ignore_label") : 0;
        boolean hasNormalize = j.has("normalize");
        boolean normalize = j.getBool("normalize", true);
        Normalization mode = j.getEnum("normalization", Normalization.class, null);
        if (mode == null) {
            mode = !hasNormalize || normalize ? Normalization.VALID : Normalization.BATCH_SIZE;
        }
        normalization = mode;
        prob = new Blob(name() + "/prob");
    }

    public Normalization normalization() {
        return normalization;
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
    public int maxTops() {
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
        Blob label = bottom.get(1);
        int a = axis("axis", x, axisParam);
        outer = x.count(0, a);
        channels = x.dim(a);
        inner = x.count(a + 1);
        if (label.count() != outer * inner) {
            throw error("label '" + label.name() + "' of shape " + Shapes.str(label.shape()) + " has " + label.count()
                    + " labels; scores '" + x.name() + "' of shape " + Shapes.str(x.shape()) + " with softmax axis "
                    + a + " need " + (outer * inner) + " (one per position, class indexes 0.." + (channels - 1) + ")");
        }
        prob.reshapeLike(x);
        top.get(0).reshape();
        if (top.size() > 1) {
            top.get(1).reshapeLike(x);
        }
    }

    /** The softmax axis's outer count, channels and inner count for the current bottom, for other backends. */
    public int outer() {
        return outer;
    }

    public int channels() {
        return channels;
    }

    public int inner() {
        return inner;
    }

    /** The ignore label, or empty when there is none. */
    public java.util.OptionalInt ignoreLabel() {
        return hasIgnoreLabel ? java.util.OptionalInt.of(ignoreLabel) : java.util.OptionalInt.empty();
    }

    /** The class index at position {@code (o, i)}, or -1 when it is {@code ignore_label}. */
    private int label(float[] labels, int o, int i) {
        int at = o * inner + i;
        return classIndex(labels[at], channels, hasIgnoreLabel, ignoreLabel, "at position " + at);
    }

    private float normalizer() {
        return normalization.normalizer((double) outer * inner, validCount, outer);
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] p = prob.x();                 // (outer, C, inner)
        Softmax.forward(par(), outer, channels, inner, bottom.get(0).x(), p, scratch);
        float[] labels = bottom.get(1).x();   // (outer, inner)
        double loss = 0;
        int valid = 0;
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int c = label(labels, o, i);
                if (c < 0) {
                    continue;
                }
                loss -= Math.log(Math.max(p[(o * channels + c) * inner + i], Float.MIN_NORMAL));
                valid++;
            }
        }
        validCount = valid;
        top.get(0).x()[0] = (float) (loss / normalizer());
        if (top.size() > 1) {
            top.get(1).data().copyFrom(prob.data());
        }
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (propagateDown.length > 1 && propagateDown[1]) {
            throw error("cannot backpropagate to the labels '" + bottom.get(1).name() + "'");
        }
        if (!propagateDown[0]) {
            return;
        }
        float[] dx = bottom.get(0).dx();      // (outer, C, inner)
        float[] p = prob.x();
        float[] labels = bottom.get(1).x();
        System.arraycopy(p, 0, dx, 0, prob.count());
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int c = label(labels, o, i);
                if (c < 0) {
                    for (int k = 0; k < channels; k++) {
                        dx[(o * channels + k) * inner + i] = 0f;
                    }
                } else {
                    dx[(o * channels + c) * inner + i] -= 1f;
                }
            }
        }
        float scale = top.get(0).dx()[0] / normalizer();
        for (int q = 0; q < prob.count(); q++) {
            dx[q] *= scale;
        }
    }
}
