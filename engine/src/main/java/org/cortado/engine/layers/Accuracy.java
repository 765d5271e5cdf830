package org.cortado.engine.layers;

import java.util.Arrays;
import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;

/**
 * Caffe's {@code Accuracy}: the fraction of positions whose label is among the {@code top_k} highest
 * scores. Bottoms and their layout as for {@link SoftmaxWithLoss}: scores {@code (outer, C, inner)}
 * around {@code axis} and one label per {@code (outer, inner)} position.
 *
 * <p>Fields: {@code top_k} (1, at most C), {@code axis} (1), {@code ignore_label} (none). Tops: the
 * accuracy, a scalar; optionally the per-class accuracy {@code (C)}: for each class, the fraction of
 * its positions that were counted correct (0 for a class with no position).
 *
 * <p>Ties, exactly as Caffe: a position counts as correct when fewer than {@code top_k} <em>other</em>
 * classes score {@code >=} the true class. A class tied with the true one therefore counts against it:
 * with all scores equal and {@code top_k = 1}, nothing is correct. With no counted position the
 * accuracy is 0. No gradient: asking for one is an error.
 */
public final class Accuracy extends Layer {
    private final int topK;
    private final int axisParam;
    private final boolean hasIgnoreLabel;
    private final int ignoreLabel;

    private int outer;
    private int channels;
    private int inner;
    private int[] perClassCount = new int[0];

    public Accuracy(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        topK = j.positive("top_k", j.getInt("top_k", 1));
        axisParam = j.getInt("axis", 1);
        hasIgnoreLabel = j.has("ignore_label");
        ignoreLabel = hasIgnoreLabel ? j.requireInt("ignore_label") : 0;
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
    public boolean canPropagateDown(int i) {
        return false;
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        Blob label = bottom.get(1);
        int a = axis("axis", x, axisParam);
        outer = x.count(0, a);
        channels = x.dim(a);
        inner = x.count(a + 1);
        if (topK > channels) {
            throw error("top_k (" + topK + ") must be <= the number of classes (" + channels + ") of bottom '"
                    + x.name() + "' " + Shapes.str(x.shape()));
        }
        if (label.count() != outer * inner) {
            throw error("label '" + label.name() + "' of shape " + Shapes.str(label.shape()) + " has " + label.count()
                    + " labels; scores '" + x.name() + "' of shape " + Shapes.str(x.shape()) + " with axis " + a
                    + " need " + (outer * inner));
        }
        top.get(0).reshape();
        if (top.size() > 1) {
            top.get(1).reshape(channels);
        }
        if (perClassCount.length < channels) {
            perClassCount = new int[channels];
        }
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] x = bottom.get(0).x();        // (outer, C, inner)
        float[] labels = bottom.get(1).x();   // (outer, inner)
        float[] perClass = top.size() > 1 ? top.get(1).x() : null;
        if (perClass != null) {
            Arrays.fill(perClass, 0, channels, 0f);
            Arrays.fill(perClassCount, 0, channels, 0);
        }
        int correct = 0;
        int counted = 0;
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int at = o * inner + i;
                int c = classIndex(labels[at], channels, hasIgnoreLabel, ignoreLabel, "at position " + at);
                if (c < 0) {
                    continue;
                }
                int base = o * channels * inner + i;
                float truth = x[base + c * inner];
                int better = -1; // the true class itself counts once below
                for (int k = 0; k < channels && better < topK; k++) {
                    if (x[base + k * inner] >= truth) {
                        better++;
                    }
                }
                boolean hit = better < topK;
                if (hit) {
                    correct++;
                }
                if (perClass != null) {
                    perClassCount[c]++;
                    if (hit) {
                        perClass[c]++;
                    }
                }
                counted++;
            }
        }
        top.get(0).x()[0] = counted == 0 ? 0f : (float) correct / counted;
        if (perClass != null) {
            for (int c = 0; c < channels; c++) {
                perClass[c] = perClassCount[c] == 0 ? 0f : perClass[c] / perClassCount[c];
            }
        }
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        for (boolean down : propagateDown) {
            if (down) {
                throw error("has no gradient; it cannot backpropagate");
            }
        }
    }
}
