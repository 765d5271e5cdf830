package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;

/**
 * Caffe's {@code MultinomialLogisticLoss}: the negative log-likelihood of given probabilities
 * {@code p (N, K)} (any shape {@code (N, ...)}, {@code K = count / N}; typically a Softmax output)
 * at integer labels {@code l_n}:
 * <pre>
 *   loss  = -sum_n log(max(p[n, l_n], 1e-20)) / N
 *   dp_nk = -lossWeight / (N * max(p[n, l_n], 1e-20))  for k = l_n, 0 otherwise
 * </pre>
 * {@code 1e-20} is Caffe's {@code kLOG_THRESHOLD}. Bottoms: probabilities and labels, one per item
 * ({@code N} values, class indexes 0..K-1 stored as floats). Top: the loss, a scalar. No fields
 * besides {@code loss_weight} (1); as in Caffe there is no {@code ignore_label} nor
 * {@code normalization}. PyTorch's {@code nll_loss(log(p.clamp(min=1e-20)), l)} is the same value.
 */
public final class MultinomialLogisticLoss extends Layer {
    static final float LOG_THRESHOLD = 1e-20f;

    private int num;
    private int dim;

    public MultinomialLogisticLoss(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
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
        Blob p = bottom.get(0);
        Blob label = bottom.get(1);
        if (p.rank() == 0 || label.rank() == 0 || label.dim(0) != p.dim(0) || label.count() != p.dim(0)) {
            throw error("label '" + label.name() + "' " + Shapes.str(label.shape()) + " must hold one class index per"
                    + " item of probabilities '" + p.name() + "' " + Shapes.str(p.shape()));
        }
        num = p.dim(0);
        dim = p.count(1);
        top.get(0).reshape();
    }

    private int label(float[] labels, int n) {
        return classIndex(labels[n], dim, false, 0, "of item " + n);
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] p = bottom.get(0).x();        // (N, K)
        float[] labels = bottom.get(1).x();   // (N)
        double loss = 0;
        for (int n = 0; n < num; n++) {
            loss -= Math.log(Math.max(p[n * dim + label(labels, n)], LOG_THRESHOLD));
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
        float[] p = bottom.get(0).x();
        float[] dp = bottom.get(0).dx();
        float[] labels = bottom.get(1).x();
        java.util.Arrays.fill(dp, 0, num * dim, 0f);
        float scale = -top.get(0).dx()[0] / num;
        for (int n = 0; n < num; n++) {
            int l = label(labels, n);
            dp[n * dim + l] = scale / Math.max(p[n * dim + l], LOG_THRESHOLD);
        }
    }
}
