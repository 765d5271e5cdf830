package org.cortado.engine.layers;

import java.nio.file.Path;
import java.util.List;
import org.cortado.engine.CortadoException;
import org.cortado.engine.config.Json;
import org.cortado.engine.io.Npy;
import org.cortado.engine.layers.SoftmaxWithLoss.Normalization;
import org.cortado.engine.ops.Scratch;
import org.cortado.engine.ops.Softmax;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;
import org.cortado.engine.tensor.Tensor;

/**
 * Caffe's {@code InfogainLoss} (the current form, with its own softmax along {@code axis}): a
 * multinomial logistic loss in which label {@code l} rewards every class {@code k} by
 * {@code H[l, k]}. With scores {@code (outer, C, inner)} around {@code axis}, {@code p} their softmax
 * over C, and one label {@code l} per position {@code (o, i)}:
 * <pre>
 *   loss     = -sum_{(o,i) not ignored} sum_k H[l, k] * log(max(p[o, k, i], 1e-20)) / normalizer
 *   dx[o,k,i] = (p[o, k, i] * sum_k' H[l, k'] - H[l, k]) * lossWeight / normalizer   (0 at ignored positions)
 * </pre>
 * With {@code H} the identity this is {@link SoftmaxWithLoss}. As in Caffe the gradient is the exact
 * one of the unclamped loss.
 *
 * <p>Bottoms: scores, labels (only the count {@code outer * inner} must match, as in Caffe), and
 * optionally {@code H} {@code (C, C)} (any shape of {@code C * C} values); without a third bottom,
 * {@code H} is read from {@code source}. Caffe's {@code source} is a binaryproto {@code BlobProto},
 * which is out of scope here: {@code source} must be a {@code .npy} file of {@code C * C} values
 * (resolved against the working directory). No gradient flows to the labels or to {@code H}.
 * Tops: the loss, a scalar; optionally the probabilities, shaped like the scores (output only).
 *
 * <p>Fields: {@code axis} (1), {@code source} (required without a third bottom), {@code ignore_label}
 * (none), {@code normalization} (VALID; FULL {@code outer * inner}, BATCH_SIZE {@code outer}, NONE 1,
 * never below 1), {@code loss_weight} (1). Caffe rejects the deprecated {@code normalize} for this
 * layer, and so does this one.
 */
public final class InfogainLoss extends Layer {
    private final int axisParam;
    private final boolean hasIgnoreLabel;
    private final int ignoreLabel;
    private final Normalization normalization;
    private final Tensor sourceH;          // (C, C) from source, or null when H is a bottom

    private final Blob prob;               // (outer, C, inner)
    private final Scratch scratch = new Scratch();
    private double[] rowSum = new double[0];   // (C): sum_k H[l, k]
    private int outer;
    private int channels;
    private int inner;
    private int validCount;

    public InfogainLoss(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        axisParam = j.getInt("axis", 1);
        hasIgnoreLabel = j.has("ignore_label");
        ignoreLabel = hasIgnoreLabel ? j.requireInt("ignore_label") : 0;
        if (j.has("normalize")) {
            throw j.error("normalize", "is deprecated in Caffe and not accepted by InfogainLoss; use \"normalization\"");
        }
        normalization = j.getEnum("normalization", Normalization.class, Normalization.VALID);
        String source = j.getString("source", null);
        if (source == null) {
            sourceH = null;
        } else if (!source.endsWith(".npy")) {
            throw j.error("source", "layer '" + name() + "' (InfogainLoss): the infogain matrix must be a .npy file,"
                    + " got \"" + source + "\" (Caffe's binaryproto is not supported: convert it to .npy)");
        } else {
            try {
                sourceH = Npy.read(Path.of(source));
            } catch (CortadoException | java.io.UncheckedIOException e) {
                throw j.error("source", "layer '" + name() + "' (InfogainLoss): cannot read the infogain matrix: "
                        + e.getMessage());
            }
        }
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
        return 3;
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
    public void setUp(List<Blob> bottom, List<Blob> top) {
        if (bottom.size() < 3 && sourceH == null) {
            throw error("needs the infogain matrix H: a third bottom or the field \"source\" (a .npy file)");
        }
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
                    + " labels; scores '" + x.name() + "' of shape " + Shapes.str(x.shape()) + " with axis " + a
                    + " need " + (outer * inner));
        }
        int hCount = bottom.size() > 2 ? bottom.get(2).count() : sourceH.count();
        if (hCount != channels * channels) {
            String what = bottom.size() > 2 ? "bottom '" + bottom.get(2).name() + "' " + Shapes.str(bottom.get(2).shape())
                    : "source matrix " + Shapes.str(sourceH.shape());
            throw error("infogain matrix H (" + what + ") must hold " + channels + "x" + channels + " values, got "
                    + hCount);
        }
        if (rowSum.length < channels) {
            rowSum = new double[channels];
        }
        prob.reshapeLike(x);
        top.get(0).reshape();
        if (top.size() > 1) {
            top.get(1).reshapeLike(x);
        }
    }

    private float[] h(List<Blob> bottom) {
        return bottom.size() > 2 ? bottom.get(2).x() : sourceH.data();
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
        float[] h = h(bottom);                // (C, C)
        double loss = 0;
        int valid = 0;
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int l = label(labels, o, i);
                if (l < 0) {
                    continue;
                }
                for (int k = 0; k < channels; k++) {
                    loss -= h[l * channels + k]
                            * Math.log(Math.max(p[(o * channels + k) * inner + i], MultinomialLogisticLoss.LOG_THRESHOLD));
                }
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
        if (propagateDown.length > 2 && propagateDown[2]) {
            throw error("cannot backpropagate to the infogain matrix '" + bottom.get(2).name() + "'");
        }
        if (!propagateDown[0]) {
            return;
        }
        float[] h = h(bottom);
        for (int l = 0; l < channels; l++) {
            double s = 0;
            for (int k = 0; k < channels; k++) {
                s += h[l * channels + k];
            }
            rowSum[l] = s;
        }
        float[] dx = bottom.get(0).dx();
        float[] p = prob.x();
        float[] labels = bottom.get(1).x();
        float scale = top.get(0).dx()[0] / normalizer();
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int l = label(labels, o, i);
                for (int k = 0; k < channels; k++) {
                    int q = (o * channels + k) * inner + i;
                    dx[q] = l < 0 ? 0f : (float) ((p[q] * rowSum[l] - h[l * channels + k]) * scale);
                }
            }
        }
    }
}
