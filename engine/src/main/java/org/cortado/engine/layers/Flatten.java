package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;

/**
 * Caffe's {@code Flatten}: merges axes {@code axis..end_axis} (inclusive) into one, e.g.
 * {@code (N, C, H, W) -> (N, C*H*W)} with the defaults. The values are unchanged (row-major order);
 * forward copies the data, backward copies the diff back. Not in place (as Caffe).
 *
 * <p>Fields: {@code axis} (1), {@code end_axis} (-1); negative values count from the end, and
 * {@code end_axis} must not come before {@code axis}.
 */
public final class Flatten extends Layer {
    private final int axisParam;
    private final int endAxisParam;

    public Flatten(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        axisParam = j.getInt("axis", 1);
        endAxisParam = j.getInt("end_axis", -1);
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        if (top.get(0) == x) {
            throw error("cannot run in place");
        }
        int a = axis("axis", x, axisParam);
        int e = axis("end_axis", x, endAxisParam);
        if (e < a) {
            throw error("end_axis " + endAxisParam + " (" + e + ") comes before axis " + axisParam + " (" + a
                    + ") for bottom '" + x.name() + "' of shape " + Shapes.str(x.shape()));
        }
        int[] in = x.shape();
        int[] out = new int[in.length - (e - a)];
        System.arraycopy(in, 0, out, 0, a);
        out[a] = x.count(a, e + 1);
        System.arraycopy(in, e + 1, out, a + 1, in.length - e - 1);
        top.get(0).reshape(out);
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        System.arraycopy(bottom.get(0).x(), 0, top.get(0).x(), 0, bottom.get(0).count());
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (propagateDown[0]) {
            System.arraycopy(top.get(0).dx(), 0, bottom.get(0).dx(), 0, bottom.get(0).count());
        }
    }
}
