package org.cortado.engine.layers;

import java.util.Arrays;
import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;

/**
 * Caffe's {@code Eltwise}: combines two or more bottoms of the same shape element by element.
 * <ul>
 *   <li>{@code SUM}: {@code y = sum_b c_b x_b}; backward {@code dx_b = c_b dy}.</li>
 *   <li>{@code PROD}: {@code y = prod_b x_b}; backward {@code dx_b = dy * prod_{k != b} x_k}, computed as
 *       that product when {@code stable_prod_grad} is true, and as {@code dy * y / x_b} (Caffe's faster
 *       form, which divides by zero at {@code x_b = 0}) when it is false.</li>
 *   <li>{@code MAX}: {@code y = max_b x_b}; backward routes {@code dy} to the one bottom that won:
 *       {@code dx_b = dy} where {@code b} is the argmax and 0 elsewhere. Ties are broken exactly as
 *       Caffe's loop does: between bottoms 0 and 1 the later one wins ({@code a > b ? a : b}), after that
 *       a later bottom must be strictly greater to take over. (PyTorch's {@code torch.max} of a stack may
 *       break ties differently; only tie-free values compare equal.)</li>
 * </ul>
 * Fields: {@code operation} (SUM; PROD, MAX), {@code coeff} (empty = all 1; only for SUM, one per
 * bottom), {@code stable_prod_grad} (true). Not in place.
 */
public final class Eltwise extends Layer {
    public enum Op { PROD, SUM, MAX }

    private final Op op;
    private final double[] coeff;
    private final boolean stableProdGrad;
    private int[] argmax = new int[0];   // MAX: index of the winning bottom, per element

    public Eltwise(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        op = j.getEnum("operation", Op.class, Op.SUM);
        coeff = j.doubles("coeff");
        if (coeff.length > 0 && op != Op.SUM) {
            throw j.error("coeff", "only the SUM operation takes coefficients, operation is " + op);
        }
        stableProdGrad = j.getBool("stable_prod_grad", true);
    }

    @Override
    public int minBottoms() {
        return 2;
    }

    @Override
    public int maxBottoms() {
        return Integer.MAX_VALUE;
    }

    @Override
    public void setUp(List<Blob> bottom, List<Blob> top) {
        if (coeff.length > 0 && coeff.length != bottom.size()) {
            throw error("coeff has " + coeff.length + " values, needs one per bottom (" + bottom.size() + ")");
        }
    }

    public Op op() {
        return op;
    }

    /** The SUM coefficient of bottom {@code b} (1 when none are given). */
    public float coeff(int b) {
        return c(b);
    }

    public boolean stableProdGrad() {
        return stableProdGrad;
    }

    private float c(int b) {
        return coeff.length == 0 ? 1f : (float) coeff[b];
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        Blob first = bottom.get(0);
        for (Blob b : bottom) {
            if (b == top.get(0)) {
                throw error("cannot run in place: top '" + b.name() + "' is a bottom");
            }
            if (!Arrays.equals(b.shape(), first.shape())) {
                throw error("bottom '" + b.name() + "' of shape " + Shapes.str(b.shape()) + " differs from bottom '"
                        + first.name() + "' of shape " + Shapes.str(first.shape()));
            }
        }
        top.get(0).reshapeLike(first);
        if (op == Op.MAX && argmax.length < first.count()) {
            argmax = new int[first.count()];
        }
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        int n = top.get(0).count();
        float[] y = top.get(0).x();
        switch (op) {
            case SUM -> {
                Arrays.fill(y, 0, n, 0f);
                for (int b = 0; b < bottom.size(); b++) {
                    float cb = c(b);
                    float[] x = bottom.get(b).x();
                    for (int i = 0; i < n; i++) {
                        y[i] += cb * x[i];
                    }
                }
            }
            case PROD -> {
                System.arraycopy(bottom.get(0).x(), 0, y, 0, n);
                for (int b = 1; b < bottom.size(); b++) {
                    float[] x = bottom.get(b).x();
                    for (int i = 0; i < n; i++) {
                        y[i] *= x[i];
                    }
                }
            }
            case MAX -> {
                float[] x0 = bottom.get(0).x();
                float[] x1 = bottom.get(1).x();
                for (int i = 0; i < n; i++) {     // Caffe: a > b ? a : b, so a tie goes to bottom 1
                    boolean first = x0[i] > x1[i];
                    y[i] = first ? x0[i] : x1[i];
                    argmax[i] = first ? 0 : 1;
                }
                for (int b = 2; b < bottom.size(); b++) {
                    float[] x = bottom.get(b).x();
                    for (int i = 0; i < n; i++) { // strictly greater: a tie keeps the earlier bottom
                        if (x[i] > y[i]) {
                            y[i] = x[i];
                            argmax[i] = b;
                        }
                    }
                }
            }
        }
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        int n = top.get(0).count();
        float[] y = top.get(0).x();
        float[] dy = top.get(0).dx();
        for (int b = 0; b < bottom.size(); b++) {
            if (!propagateDown[b]) {
                continue;
            }
            float[] x = bottom.get(b).x();
            float[] dx = bottom.get(b).dx();
            switch (op) {
                case SUM -> {
                    float cb = c(b);
                    for (int i = 0; i < n; i++) {
                        dx[i] = cb * dy[i];
                    }
                }
                case PROD -> {
                    if (stableProdGrad) {
                        // dx_b = dy * prod_{k != b} x_k, in Caffe's order: the product of the others first
                        boolean init = false;
                        for (int k = 0; k < bottom.size(); k++) {
                            if (k == b) {
                                continue;
                            }
                            float[] xk = bottom.get(k).x();
                            if (!init) {
                                System.arraycopy(xk, 0, dx, 0, n);
                                init = true;
                            } else {
                                for (int i = 0; i < n; i++) {
                                    dx[i] *= xk[i];
                                }
                            }
                        }
                        for (int i = 0; i < n; i++) {
                            dx[i] *= dy[i];
                        }
                    } else {
                        for (int i = 0; i < n; i++) {
                            dx[i] = dy[i] * y[i] / x[i];
                        }
                    }
                }
                case MAX -> {
                    for (int i = 0; i < n; i++) {
                        dx[i] = argmax[i] == b ? dy[i] : 0f;
                    }
                }
            }
        }
    }

    /** Forward FLOPs: {@code bottoms - 1} per element, plus {@code bottoms} with coefficients (see {@link Layer#flops}). */
    @Override
    public long flops(List<Blob> bottom, List<Blob> top) {
        long count = top.get(0).count();
        return count * (bottom.size() - 1) + (coeff.length > 0 ? count * bottom.size() : 0);
    }
}
