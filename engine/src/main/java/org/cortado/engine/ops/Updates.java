package org.cortado.engine.ops;

/**
 * The fused per-parameter updates of {@link org.cortado.engine.solver.Solver}: regularization, the
 * update rule and {@code w -= update} in one pass, element by element (every element is independent,
 * so this equals regularizing all of {@code g} first, as Caffe does, bit for bit). {@code g} receives the
 * regularized gradient, as Caffe's diff does. {@code decay} is {@code weight_decay * decay_mult},
 * {@code a} the learning rate times {@code lr_mult}.
 *
 * <p>The GPU's {@code sgd_update} and {@code adam_update} kernels (module {@code kernels}) compute the
 * same and are tested against these.
 */
public final class Updates {
    private Updates() {}

    /** L2 adds {@code decay * w}; L1 adds {@code decay * sign(w)} (Caffe's {@code caffe_sign}). */
    private static float regularized(float g, float w, float decay, boolean l1) {
        if (decay == 0) {
            return g;
        }
        return l1 ? g + decay * ((w > 0 ? 1 : 0) - (w < 0 ? 1 : 0)) : g + decay * w;
    }

    /**
     * SGD with momentum in Caffe's form, {@code h = mu*h + a*g; w -= h}; Nesterov:
     * {@code w -= (1+mu)*h - mu*h_previous}.
     */
    public static void sgd(int n, float a, float mu, float decay, boolean l1, boolean nesterov,
                           float[] w, float[] g, float[] h) {
        for (int i = 0; i < n; i++) {
            float gi = regularized(g[i], w[i], decay, l1);
            g[i] = gi;
            float previous = h[i];
            h[i] = mu * previous + a * gi;
            w[i] -= nesterov ? (1 + mu) * h[i] - mu * previous : h[i];
        }
    }

    /**
     * Adam: {@code h = (1-mu)*g + mu*h; h2 = (1-mu2)*g^2 + mu2*h2; w -= step * h / (sqrt(h2) + delta)},
     * {@code step} the learning rate with Adam's bias correction. AdamW ({@code adamw}) decays the
     * weights instead, decoupled: {@code w -= a*decay*w} first, and {@code g} is not regularized.
     */
    public static void adam(int n, float a, float step, float mu, float mu2, float delta, float decay, boolean l1,
                            boolean adamw, float[] w, float[] g, float[] h, float[] h2) {
        float shrink = a * decay;
        for (int i = 0; i < n; i++) {
            if (adamw) {
                w[i] -= shrink * w[i];
            } else {
                g[i] = regularized(g[i], w[i], decay, l1);
            }
            h[i] = (1 - mu) * g[i] + mu * h[i];
            h2[i] = (1 - mu2) * (g[i] * g[i]) + mu2 * h2[i];
            w[i] -= step * (h[i] / ((float) Math.sqrt(h2[i]) + delta));
        }
    }
}
