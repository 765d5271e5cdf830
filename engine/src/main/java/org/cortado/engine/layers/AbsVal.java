package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.ops.Activations;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's {@code AbsVal}: {@code y = |x|}, element-wise; any shape; no fields.
 *
 * <p>Backward: {@code dx = dy * sign(x)} with {@code sign(0) = 0} (Caffe's {@code caffe_cpu_sign},
 * and PyTorch's {@code torch.abs}). Not in place, as in Caffe: backward needs the sign of the input,
 * which the output has lost.
 */
public final class AbsVal extends Layer {

    public AbsVal(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
    }

    @Override
    public void setUp(List<Blob> bottom, List<Blob> top) {
        if (top.get(0) == bottom.get(0)) {
            throw error("does not work in place: backward needs the sign of the input");
        }
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        top.get(0).reshapeLike(bottom.get(0));
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] x = bottom.get(0).x();
        float[] y = top.get(0).x();
        Activations.parallel(par(), bottom.get(0).count(), Activations.RELU_WORK, (from, to) -> {
            for (int i = from; i < to; i++) {
                y[i] = Math.abs(x[i]);
            }
        });
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (!propagateDown[0]) {
            return;
        }
        float[] x = bottom.get(0).x();
        float[] dy = top.get(0).dx();
        float[] dx = bottom.get(0).dx();
        Activations.parallel(par(), bottom.get(0).count(), Activations.RELU_WORK, (from, to) -> {
            for (int i = from; i < to; i++) {
                dx[i] = x[i] > 0 ? dy[i] : x[i] < 0 ? -dy[i] : 0f;
            }
        });
    }

    /** Forward FLOPs: one per element (see {@link Layer#flops}). */
    @Override
    public long flops(List<Blob> bottom, List<Blob> top) {
        return top.get(0).count();
    }
}
