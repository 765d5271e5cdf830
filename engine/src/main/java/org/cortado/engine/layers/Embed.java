package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.fill.Filler;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;

/**
 * Caffe's {@code Embed}: a lookup table. The bottom holds integer indices (stored as floats) into
 * {@code [0, input_dim)}; every index {@code n} becomes the row {@code W[x_n]} of the weights
 * {@code W (input_dim, num_output)}, plus the bias: {@code y[n, :] = W[x_n, :] + b}. The top has the
 * bottom's shape plus a last axis of {@code num_output}. Backward accumulates
 * {@code dW[x_n, :] += dy[n, :]} and {@code db += sum_n dy[n, :]}; the indices get no gradient (Caffe
 * refuses to propagate to them).
 *
 * <p>Fields: {@code num_output} (required, {@code > 0}), {@code input_dim} (required, {@code > 0}),
 * {@code bias_term} (true), {@code weight_filler} and {@code bias_filler} (Caffe's default: constant 0).
 * An index that is not an integer or lies outside {@code [0, input_dim)} is an error naming the layer
 * (Caffe only checks it in debug builds). Learnable blobs: weights {@code (input_dim, num_output)}, bias
 * {@code (num_output)}. Equals PyTorch's {@code nn.Embedding} plus a bias.
 */
public final class Embed extends Layer {
    private final int numOutput;
    private final int inputDim;
    private final boolean biasTerm;
    private final Filler weightFiller;
    private final Filler biasFiller;

    public Embed(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        numOutput = j.positive("num_output", j.requireInt("num_output"));
        inputDim = j.positive("input_dim", j.requireInt("input_dim"));
        biasTerm = j.getBool("bias_term", true);
        weightFiller = Filler.parse(j, "weight_filler", Filler.ZERO);
        biasFiller = Filler.parse(j, "bias_filler", Filler.ZERO);
    }

    public int numOutput() {
        return numOutput;
    }

    public int inputDim() {
        return inputDim;
    }

    public boolean biasTerm() {
        return biasTerm;
    }

    @Override
    public boolean canPropagateDown(int i) {
        return false;
    }

    @Override
    public void setUp(List<Blob> bottom, List<Blob> top) {
        var rng = ctx.rng(name() + "/fill");
        weightFiller.fill(addParam(inputDim, numOutput).data(), rng);
        if (biasTerm) {
            biasFiller.fill(addParam(numOutput).data(), rng);
        }
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        if (top.get(0) == x) {
            throw error("cannot run in place");
        }
        int[] in = x.shape();
        int[] out = java.util.Arrays.copyOf(in, in.length + 1);
        out[in.length] = numOutput;
        top.get(0).reshape(out);
    }

    /** Index number {@code n} of the bottom, checked. */
    private int index(Blob x, int n) {
        float v = x.x()[n];
        int i = (int) v;
        if (i != v || i < 0 || i >= inputDim) {
            throw error("index " + v + " at position " + n + " of bottom '" + x.name() + "' of shape "
                    + Shapes.str(x.shape()) + " is not an integer in [0, " + inputDim + ")");
        }
        return i;
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        float[] w = param(0).x();       // (input_dim, num_output)
        float[] y = top.get(0).x();     // (M, num_output), M = count of x
        int m = x.count();
        for (int n = 0; n < m; n++) {
            System.arraycopy(w, index(x, n) * numOutput, y, n * numOutput, numOutput);
        }
        if (biasTerm) {
            float[] b = param(1).x();   // (num_output)
            for (int n = 0; n < m; n++) {
                for (int k = 0; k < numOutput; k++) {
                    y[n * numOutput + k] += b[k];
                }
            }
        }
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (propagateDown[0]) {
            throw error("cannot propagate down to the indices");
        }
        Blob x = bottom.get(0);
        float[] dy = top.get(0).dx();   // (M, num_output)
        float[] dw = param(0).dx();     // (input_dim, num_output)
        int m = x.count();
        for (int n = 0; n < m; n++) {
            int row = index(x, n) * numOutput;
            for (int k = 0; k < numOutput; k++) {
                dw[row + k] += dy[n * numOutput + k];
            }
        }
        if (biasTerm) {
            float[] db = param(1).dx(); // (num_output)
            for (int k = 0; k < numOutput; k++) {
                double s = 0;
                for (int n = 0; n < m; n++) {
                    s += dy[n * numOutput + k];
                }
                db[k] += (float) s;
            }
        }
    }
}
