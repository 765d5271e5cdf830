package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;

/**
 * Caffe's {@code HingeLoss}: the one-vs-all hinge loss of scores {@code x (N, K)} (any shape
 * {@code (N, ...)}, {@code K = count / N}) against integer labels {@code l_n}. With
 * {@code s_nk = -1} for the true class {@code k = l_n} and {@code +1} for every other class (Caffe
 * flips the sign of the true class's score), and {@code h_nk = max(0, 1 + s_nk * x_nk)}:
 * <pre>
 *   L1 (default): loss = sum_nk h_nk / N          dx_nk = s_nk * [h_nk > 0] * lossWeight / N
 *   L2:           loss = sum_nk h_nk^2 / N        dx_nk = 2 * s_nk * h_nk * lossWeight / N
 * </pre>
 * Bottoms: scores and labels, one per item ({@code N} values, a class index 0..K-1 stored as a float).
 * Top: the loss, a scalar. Fields: {@code norm} (L1; or L2), {@code loss_weight} (1).
 *
 * <p>This differs from PyTorch's {@code multi_margin_loss}, which sums {@code max(0, 1 - x_y + x_k)}
 * over {@code k != y} and divides by K as well; Caffe's formula is followed.
 */
public final class HingeLoss extends Layer {

    /** Caffe's {@code HingeLossParameter.Norm}. */
    public enum Norm { L1, L2 }

    private final Norm norm;

    private float[] margin = new float[0];   // (N, K): h_nk from the last forward
    private int num;
    private int dim;

    public HingeLoss(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        norm = j.getEnum("norm", Norm.class, Norm.L1);
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
        Blob label = bottom.get(1);
        if (x.rank() == 0 || label.rank() == 0 || label.dim(0) != x.dim(0) || label.count() != x.dim(0)) {
            throw error("label '" + label.name() + "' " + Shapes.str(label.shape()) + " must hold one class index per"
                    + " item of scores '" + x.name() + "' " + Shapes.str(x.shape()));
        }
        num = x.dim(0);
        dim = x.count(1);
        if (margin.length < x.count()) {
            margin = new float[x.count()];
        }
        top.get(0).reshape();
    }

    private int label(float[] labels, int n) {
        return classIndex(labels[n], dim, false, 0, "of item " + n);
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] x = bottom.get(0).x();        // (N, K)
        float[] labels = bottom.get(1).x();   // (N)
        double loss = 0;
        for (int n = 0; n < num; n++) {
            int l = label(labels, n);
            for (int k = 0; k < dim; k++) {
                float s = k == l ? -1f : 1f;
                float h = Math.max(0f, 1f + s * x[n * dim + k]);
                margin[n * dim + k] = h;
                loss += norm == Norm.L1 ? h : (double) h * h;
            }
        }
        top.get(0).x()[0] = (float) (loss / num);
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (propagateDown.length > 1 && propagateDown[1]) {
            throw error("cannot backpropagate to the labels '" + bottom.get(1).name() + "'");
        }
        if (!propagateDown[0]) {
            return;
        }
        float[] dx = bottom.get(0).dx();
        float[] labels = bottom.get(1).x();
        float lossWeight = top.get(0).dx()[0];
        for (int n = 0; n < num; n++) {
            int l = label(labels, n);
            for (int k = 0; k < dim; k++) {
                float s = k == l ? -1f : 1f;
                float h = margin[n * dim + k];
                dx[n * dim + k] = norm == Norm.L1
                        ? (h > 0 ? s * lossWeight / num : 0f)
                        : 2 * s * h * lossWeight / num;
            }
        }
    }
}
