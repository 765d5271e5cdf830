package org.cortado.engine.layers;

import java.util.Arrays;
import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.fill.Filler;
import org.cortado.engine.ops.Gemm;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;

/**
 * Caffe's {@code InnerProduct} (fully connected): the bottom is viewed as a matrix {@code x (M, K)}
 * with {@code M = count(0, axis)} rows and {@code K = count(axis)} columns, and
 * {@code y (M, num_output) = x W^T + b}.
 *
 * <p>Fields: {@code num_output} (required), {@code bias_term} (true), {@code weight_filler} and
 * {@code bias_filler} (Caffe's default: constant 0), {@code axis} (1; negative counts from the end),
 * {@code transpose} (false). Learnable blobs: weights {@code (num_output, K)}, or {@code (K, num_output)}
 * when {@code transpose} is true (then {@code y = x W + b}); bias {@code (num_output)}.
 * Output shape: {@code bottom.shape[0:axis] + [num_output]}. {@code K} is fixed at setUp; a later
 * bottom with a different {@code count(axis)} is an error.
 */
public final class InnerProduct extends Layer {
    private final int numOutput;
    private final boolean biasTerm;
    private final Filler weightFiller;
    private final Filler biasFiller;
    private final int axisParam;
    private final boolean transpose;

    private int k;      // columns of x, fixed at setUp
    private int m;      // rows of x, for the current bottom shape
    private double[] biasSums = new double[0];

    public InnerProduct(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        numOutput = j.positive("num_output", j.requireInt("num_output"));
        biasTerm = j.getBool("bias_term", true);
        weightFiller = Filler.parse(j, "weight_filler", Filler.ZERO);
        biasFiller = Filler.parse(j, "bias_filler", Filler.ZERO);
        axisParam = j.getInt("axis", 1);
        transpose = j.getBool("transpose", false);
    }

    @Override
    public void setUp(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        k = x.count(axis("axis", x, axisParam));
        var rng = ctx.rng(name() + "/fill");
        Blob w = transpose ? addParam(k, numOutput) : addParam(numOutput, k);
        weightFiller.fill(w.data(), rng);
        if (biasTerm) {
            biasFiller.fill(addParam(numOutput).data(), rng);
        }
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        int a = axis("axis", x, axisParam);
        if (x.count(a) != k) {
            throw error("bottom '" + x.name() + "' of shape " + Shapes.str(x.shape()) + " has " + x.count(a)
                    + " inputs per row from axis " + a + ", the weights expect " + k);
        }
        m = x.count(0, a);
        int[] shape = Arrays.copyOf(x.shape(), a + 1);
        shape[a] = numOutput;
        top.get(0).reshape(shape);
    }

    /** Rows of the current bottom (after reshape) and inputs per row, for other backends. */
    public int rows() {
        return m;
    }

    public int inputs() {
        return k;
    }

    public int numOutput() {
        return numOutput;
    }

    public boolean biasTerm() {
        return biasTerm;
    }

    /** Weights stored (K, N) instead of (N, K). */
    public boolean transpose() {
        return transpose;
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] x = bottom.get(0).x();   // (M, K)
        float[] w = param(0).x();        // (N, K), or (K, N) when transposed
        float[] y = top.get(0).x();      // (M, N)
        int n = numOutput;
        float beta = 0f;
        if (biasTerm) {
            float[] b = param(1).x();    // (N)
            for (int i = 0; i < m; i++) {
                System.arraycopy(b, 0, y, i * n, n);
            }
            beta = 1f;
        }
        // y = x W^T (+ b), or x W (+ b) when transposed
        Gemm.gemm(par(), false, !transpose, m, n, k, 1f, x, 0, k, w, 0, transpose ? n : k, beta, y, 0, n);
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        float[] x = bottom.get(0).x();   // (M, K)
        float[] dy = top.get(0).dx();    // (M, N)
        float[] w = param(0).x();
        float[] dw = param(0).dx();
        int n = numOutput;
        if (transpose) {
            // dW (K, N) += x^T dy
            Gemm.gemm(par(), true, false, k, n, m, 1f, x, 0, k, dy, 0, n, 1f, dw, 0, n);
        } else {
            // dW (N, K) += dy^T x
            Gemm.gemm(par(), true, false, n, k, m, 1f, dy, 0, n, x, 0, k, 1f, dw, 0, k);
        }
        if (biasTerm) {
            // db (N) += column sums of dy, summed in double
            if (biasSums.length < n) {
                biasSums = new double[n];
            }
            Arrays.fill(biasSums, 0, n, 0.0);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    biasSums[j] += dy[i * n + j];
                }
            }
            float[] db = param(1).dx();
            for (int j = 0; j < n; j++) {
                db[j] += (float) biasSums[j];
            }
        }
        if (propagateDown[0]) {
            // dx (M, K) = dy W, or dy W^T when transposed
            Gemm.gemm(par(), false, transpose, m, k, n, 1f, dy, 0, n, w, 0, transpose ? n : k, 0f,
                    bottom.get(0).dx(), 0, k);
        }
    }

    /** Forward FLOPs: {@code top.count * (2 * K + bias)} (see {@link Layer#flops}). */
    @Override
    public long flops(List<Blob> bottom, List<Blob> top) {
        return top.get(0).count() * (2L * k + (biasTerm ? 1 : 0));
    }
}
