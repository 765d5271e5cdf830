package org.cortado.engine.layers;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's numerical gradient check. The objective is {@code L = sum_t sum_i R_t[i] * top_t[i]} with
 * fixed random weights {@code R} (so {@code dL/dtop = R}); the layer's analytic gradients from
 * {@code backward} are compared with central differences {@code (L(v+h) - L(v-h)) / 2h}, summed in
 * double, for every element of the checked bottoms and of every learnable blob.
 *
 * <p>An element passes when {@code |analytic - numeric| <= threshold * max(|analytic|, |numeric|, 1)}.
 * Elements within {@code kinkRange} of {@code kink} (ReLU's 0, a max-pool tie) are skipped, because the
 * function is not differentiable there.
 */
public final class GradientChecker {
    private final double step;
    private final double threshold;
    private double kink = 0;
    private double kinkRange = -1;
    private Runnable beforeForward = () -> {};

    public GradientChecker(double step, double threshold) {
        this.step = step;
        this.threshold = threshold;
    }

    public GradientChecker() {
        this(1e-2, 1e-2);
    }

    /** Skip bottom elements with {@code |x - kink| < range}. */
    public GradientChecker kink(double kink, double range) {
        this.kink = kink;
        this.kinkRange = range;
        return this;
    }

    /** Runs before every forward (e.g. to reset a dropout layer's random stream). */
    public GradientChecker beforeForward(Runnable r) {
        this.beforeForward = r;
        return this;
    }

    /** Sets the layer up on {@code bottom} and checks all bottoms and all learnable blobs. */
    public void checkAll(Layer layer, List<Blob> bottom, List<Blob> top) {
        int[] all = new int[bottom.size()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        check(layer, bottom, top, all);
    }

    /** Sets the layer up and checks the bottoms listed in {@code checked} and all learnable blobs. */
    public void check(Layer layer, List<Blob> bottom, List<Blob> top, int... checked) {
        layer.setUp(bottom, top);
        layer.reshape(bottom, top);
        Random r = new Random(1701);
        List<float[]> weights = new ArrayList<>();
        forward(layer, bottom, top);
        for (Blob t : top) {
            float[] w = new float[t.count()];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (r.nextDouble() * 2 - 1);
            }
            weights.add(w);
        }
        // Analytic gradients.
        for (Blob p : layer.params()) {
            p.zeroDiff();
        }
        for (int t = 0; t < top.size(); t++) {
            System.arraycopy(weights.get(t), 0, top.get(t).dx(), 0, top.get(t).count());
        }
        boolean[] down = new boolean[bottom.size()];
        for (int i : checked) {
            down[i] = true;
        }
        for (Blob b : bottom) {
            java.util.Arrays.fill(b.dx(), 0, b.count(), Float.NaN);
        }
        layer.backward(top, down, bottom);
        List<Blob> blobs = new ArrayList<>();
        List<float[]> analytic = new ArrayList<>();
        List<Boolean> isBottom = new ArrayList<>();
        for (int i : checked) {
            blobs.add(bottom.get(i));
            analytic.add(bottom.get(i).diff().toArray());
            isBottom.add(true);
        }
        for (Blob p : layer.params()) {
            blobs.add(p);
            analytic.add(p.diff().toArray());
            isBottom.add(false);
        }
        // Numeric gradients.
        int checkedCount = 0;
        for (int b = 0; b < blobs.size(); b++) {
            float[] v = blobs.get(b).x();
            for (int i = 0; i < blobs.get(b).count(); i++) {
                float orig = v[i];
                if (isBottom.get(b) && kinkRange > 0 && Math.abs(orig - kink) < kinkRange) {
                    continue;
                }
                v[i] = (float) (orig + step);
                double plus = objective(layer, bottom, top, weights);
                v[i] = (float) (orig - step);
                double minus = objective(layer, bottom, top, weights);
                v[i] = orig;
                double numeric = (plus - minus) / (2 * step);
                double a = analytic.get(b)[i];
                double scale = Math.max(Math.max(Math.abs(a), Math.abs(numeric)), 1.0);
                if (!(Math.abs(a - numeric) <= threshold * scale)) {
                    fail(layer + ": gradient of " + (isBottom.get(b) ? "bottom" : "param") + " '"
                            + blobs.get(b).name() + "'[" + i + "]: analytic " + a + ", numeric " + numeric);
                }
                checkedCount++;
            }
        }
        if (checkedCount == 0) {
            fail(layer + ": no element was checked");
        }
    }

    private void forward(Layer layer, List<Blob> bottom, List<Blob> top) {
        beforeForward.run();
        layer.forward(bottom, top);
    }

    private double objective(Layer layer, List<Blob> bottom, List<Blob> top, List<float[]> weights) {
        forward(layer, bottom, top);
        double l = 0;
        for (int t = 0; t < top.size(); t++) {
            float[] y = top.get(t).x();
            float[] w = weights.get(t);
            for (int i = 0; i < top.get(t).count(); i++) {
                l += (double) w[i] * y[i];
            }
        }
        return l;
    }
}
