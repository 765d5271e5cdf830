package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;

/**
 * Caffe's {@code ContrastiveLoss} (Hadsell, Chopra and LeCun 2006) over pairs of feature vectors
 * {@code a_n}, {@code b_n} {@code (N, C)} with a similarity label {@code y_n} (nonzero after truncation
 * to an int, as Caffe's {@code static_cast<int>}: similar). With {@code d_n = ||a_n - b_n||_2} and
 * {@code m = margin}:
 * <pre>
 *   loss = sum_n [ y_n * d_n^2 + (1 - y_n) * max(m - d_n, 0)^2 ] / (2 N)
 *   da_n = (a_n - b_n) * lossWeight / N                                   (similar)
 *   da_n = -(m - d_n) / (d_n + 1e-4) * (a_n - b_n) * lossWeight / N       (dissimilar, m - d_n > 0; else 0)
 *   db_n = -da_n
 * </pre>
 * With {@code legacy_version} the dissimilar term is {@code max(m - d_n^2, 0)} and its gradient
 * {@code -(a_n - b_n) * lossWeight / N}. The {@code 1e-4} is Caffe's guard against {@code d_n = 0}:
 * the dissimilar gradient is therefore Caffe's, a factor {@code d / (d + 1e-4)} off the exact one.
 *
 * <p>Bottoms: {@code a} and {@code b} {@code (N, C)} (or {@code (N, C, 1, 1)}) and the label
 * ({@code N} values). Top: the loss, a scalar. No gradient flows to the label. Fields: {@code margin}
 * (1.0), {@code legacy_version} (false), {@code loss_weight} (1). PyTorch has no such loss; the
 * fixtures compute it from the formula above with autograd.
 */
public final class ContrastiveLoss extends Layer {
    private final float margin;
    private final boolean legacy;

    private float[] diff = new float[0];     // (N, C): a - b
    private float[] distSq = new float[0];   // (N): ||a - b||^2
    private int num;
    private int channels;

    public ContrastiveLoss(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        margin = j.getFloat("margin", 1f);
        legacy = j.getBool("legacy_version", false);
    }

    @Override
    public int minBottoms() {
        return 3;
    }

    @Override
    public int maxBottoms() {
        return 3;
    }

    @Override
    public boolean isLoss() {
        return true;
    }

    @Override
    public boolean canPropagateDown(int i) {
        return i != 2;
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        Blob a = bottom.get(0);
        Blob b = bottom.get(1);
        Blob y = bottom.get(2);
        if (a.rank() < 2 || a.count(2) != 1 || b.rank() < 2 || b.count(2) != 1 || a.dim(0) != b.dim(0)
                || a.dim(1) != b.dim(1)) {
            throw error("bottoms '" + a.name() + "' " + Shapes.str(a.shape()) + " and '" + b.name() + "' "
                    + Shapes.str(b.shape()) + " must both be (N, C) (or (N, C, 1, 1)) with the same N and C");
        }
        if (y.rank() == 0 || y.dim(0) != a.dim(0) || y.count() != a.dim(0)) {
            throw error("similarity label '" + y.name() + "' " + Shapes.str(y.shape()) + " must hold one value per"
                    + " pair, " + a.dim(0) + " in all");
        }
        num = a.dim(0);
        channels = a.dim(1);
        if (diff.length < num * channels) {
            diff = new float[num * channels];
        }
        if (distSq.length < num) {
            distSq = new float[num];
        }
        top.get(0).reshape();
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] a = bottom.get(0).x();   // (N, C)
        float[] b = bottom.get(1).x();   // (N, C)
        float[] y = bottom.get(2).x();   // (N)
        double loss = 0;
        for (int n = 0; n < num; n++) {
            double sq = 0;
            for (int c = 0; c < channels; c++) {
                int q = n * channels + c;
                diff[q] = a[q] - b[q];
                sq += (double) diff[q] * diff[q];
            }
            distSq[n] = (float) sq;
            if ((int) y[n] != 0) {
                loss += sq;
            } else if (legacy) {
                loss += Math.max(margin - sq, 0.0);
            } else {
                double m = Math.max(margin - Math.sqrt(sq), 0.0);
                loss += m * m;
            }
        }
        top.get(0).x()[0] = (float) (loss / num / 2);
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (propagateDown.length > 2 && propagateDown[2]) {
            throw error("cannot backpropagate to the similarity label '" + bottom.get(2).name() + "'");
        }
        float[] y = bottom.get(2).x();
        for (int k = 0; k < 2; k++) {
            if (!propagateDown[k]) {
                continue;
            }
            float alpha = (k == 0 ? 1f : -1f) * top.get(0).dx()[0] / num;
            float[] d = bottom.get(k).dx();
            for (int n = 0; n < num; n++) {
                float beta;
                if ((int) y[n] != 0) {
                    beta = alpha;
                } else {
                    float mdist;
                    if (legacy) {
                        mdist = margin - distSq[n];
                        beta = -alpha;
                    } else {
                        float dist = (float) Math.sqrt(distSq[n]);
                        mdist = margin - dist;
                        beta = -alpha * mdist / (dist + 1e-4f);
                    }
                    if (!(mdist > 0f)) {
                        beta = 0f;
                    }
                }
                for (int c = 0; c < channels; c++) {
                    d[n * channels + c] = beta * diff[n * channels + c];
                }
            }
        }
    }
}
