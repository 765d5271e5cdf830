package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.fill.Filler;
import org.cortado.engine.ops.Activations;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;

/**
 * Caffe's {@code PReLU}: a ReLU with a learnable negative slope per channel,
 * {@code y[n,c,i] = max(x[n,c,i], 0) + w[c] * min(x[n,c,i], 0)}, where {@code c} indexes axis 1 and
 * {@code i} the axes after it; with {@code channel_shared} one slope {@code w} serves every channel.
 * The bottom needs at least 2 axes (Caffe's check); {@code C = shape[1]} is fixed at setUp.
 *
 * <p>Fields (Caffe's {@code prelu_param}): {@code filler} (constant 0.25), {@code channel_shared}
 * (false). Learnable blob: the slopes, shape {@code (C)}, or a scalar (no axes) when shared, as Caffe.
 *
 * <p>Backward, Caffe's rule (the gradient at {@code x = 0} takes the negative side):
 * {@code dx = dy * (x > 0 ? 1 : w[c])} and {@code dw[c] += sum over n, i of dy * x * (x <= 0)}
 * (over every element when shared). PyTorch's {@code F.prelu} has the same rule.
 *
 * <p>In place is allowed, as in Caffe: forward then keeps a copy of the input, which backward needs
 * (the output loses the sign of the input when a slope is negative).
 */
public final class PReLU extends Layer {
    private final Filler filler;
    private final boolean channelShared;

    private int channels;          // C, fixed at setUp
    private float[] saved = new float[0]; // the input, kept when in place

    public PReLU(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        filler = Filler.parse(j, "filler", Filler.constant(0.25));
        channelShared = j.getBool("channel_shared", false);
    }

    /** Whether one slope serves every channel ({@code channel_shared}). */
    public boolean channelShared() {
        return channelShared;
    }

    @Override
    public boolean allowsInPlace() {
        return true;
    }

    @Override
    public void setUp(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        if (x.rank() < 2) {
            throw error("bottom '" + x.name() + "' must have at least 2 axes (N, C, ...), got shape "
                    + Shapes.str(x.shape()));
        }
        channels = x.dim(1);
        Blob w = channelShared ? addParam() : addParam(channels);
        filler.fill(w.data(), ctx.rng(name() + "/fill"));
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        if (x.rank() < 2 || (!channelShared && x.dim(1) != channels)) {
            throw error("bottom '" + x.name() + "' of shape " + Shapes.str(x.shape()) + " must have " + channels
                    + " channels on axis 1, as at setUp");
        }
        if (top.get(0) != x) {
            top.get(0).reshapeLike(x);
        }
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        Blob b = bottom.get(0);
        float[] x = b.x();      // (N, C, inner)
        float[] y = top.get(0).x();
        int n = b.count();
        if (top.get(0) == b) {
            if (saved.length < n) {
                saved = new float[n];
            }
            System.arraycopy(x, 0, saved, 0, n);
        }
        float[] w = param(0).x(); // (C) or scalar
        int inner = b.count(2);
        int c = b.dim(1);
        Activations.parallel(par(), n, Activations.RELU_WORK, (from, to) -> {
            for (int i = from; i < to; i++) {
                float slope = channelShared ? w[0] : w[(i / inner) % c];
                float v = x[i];
                y[i] = Math.max(v, 0f) + slope * Math.min(v, 0f);
            }
        });
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        Blob b = bottom.get(0);
        int n = b.count();
        float[] x = top.get(0) == b ? saved : b.x(); // the input, even in place
        float[] dy = top.get(0).dx();
        float[] w = param(0).x();
        float[] dw = param(0).dx();
        int inner = b.count(2);
        int c = b.dim(1);
        int outer = b.dim(0);
        // dw[c] += sum_{n,i} dy * x * (x <= 0), summed in double, before dx may overwrite dy in place.
        double[] sums = new double[channelShared ? 1 : c];
        for (int o = 0; o < outer; o++) {
            for (int ch = 0; ch < c; ch++) {
                int base = (o * c + ch) * inner;
                double s = 0;
                for (int i = base; i < base + inner; i++) {
                    if (x[i] <= 0) {
                        s += (double) dy[i] * x[i];
                    }
                }
                sums[channelShared ? 0 : ch] += s;
            }
        }
        for (int k = 0; k < sums.length; k++) {
            dw[k] += (float) sums[k];
        }
        if (propagateDown[0]) {
            float[] dx = b.dx();
            Activations.parallel(par(), n, Activations.RELU_WORK, (from, to) -> {
                for (int i = from; i < to; i++) {
                    float slope = channelShared ? w[0] : w[(i / inner) % c];
                    dx[i] = x[i] > 0 ? dy[i] : slope * dy[i];
                }
            });
        }
    }

    /** Forward FLOPs: one per element (see {@link Layer#flops}). */
    @Override
    public long flops(List<Blob> bottom, List<Blob> top) {
        return top.get(0).count();
    }
}
