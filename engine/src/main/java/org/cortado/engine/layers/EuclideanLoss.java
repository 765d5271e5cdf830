package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;

/**
 * Caffe's {@code EuclideanLoss}: half the mean over the batch of the squared distance between two
 * blobs,
 * <pre>
 *   loss = sum_i (a_i - b_i)^2 / (2 N)
 *   da   =  (a - b) * lossWeight / N
 *   db   = -(a - b) * lossWeight / N
 * </pre>
 * where {@code N} is the first dimension. Bottoms: {@code a} and {@code b} with the same first
 * dimension and the same count per item ({@code count(1)}); both get gradients (Caffe allows either
 * to be the "label"). Top: the loss, a scalar. No fields besides {@code loss_weight} (1); Caffe's
 * EuclideanLoss ignores {@code normalization}, and so does this layer (it is rejected as unknown).
 * PyTorch's {@code mse_loss(reduction='sum') / (2 N)} is the same value.
 */
public final class EuclideanLoss extends Layer {
    private float[] diff = new float[0];   // (N, ...): a - b from the last forward
    private int num;
    private int count;

    public EuclideanLoss(LayerConfig config, LayerContext ctx) {
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
    public void reshape(List<Blob> bottom, List<Blob> top) {
        Blob a = bottom.get(0);
        Blob b = bottom.get(1);
        if (a.rank() == 0 || b.rank() == 0 || a.dim(0) != b.dim(0) || a.count(1) != b.count(1)) {
            throw error("bottoms '" + a.name() + "' " + Shapes.str(a.shape()) + " and '" + b.name() + "' "
                    + Shapes.str(b.shape()) + " must have the same first dimension and the same count per item");
        }
        num = a.dim(0);
        count = a.count();
        if (diff.length < count) {
            diff = new float[count];
        }
        top.get(0).reshape();
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] a = bottom.get(0).x();
        float[] b = bottom.get(1).x();
        double sum = 0;
        for (int i = 0; i < count; i++) {
            diff[i] = a[i] - b[i];
            sum += (double) diff[i] * diff[i];
        }
        top.get(0).x()[0] = (float) (sum / num / 2);
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        for (int k = 0; k < 2; k++) {
            if (k >= propagateDown.length || !propagateDown[k]) {
                continue;
            }
            float alpha = (k == 0 ? 1f : -1f) * top.get(0).dx()[0] / num;
            float[] d = bottom.get(k).dx();
            for (int i = 0; i < count; i++) {
                d[i] = alpha * diff[i];
            }
        }
    }
}
