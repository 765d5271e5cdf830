package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's {@code Split}: copies one bottom to each of its tops. This is how a net feeds one blob to
 * several layers: each consumer gets its own top (and so its own diff), and backward sums them,
 * {@code dx = sum_t dy_t}. No fields; not in place.
 */
public final class Split extends Layer {

    public Split(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
    }

    @Override
    public int maxTops() {
        return Integer.MAX_VALUE;
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        for (Blob t : top) {
            if (t == bottom.get(0)) {
                throw error("cannot run in place: top '" + t.name() + "' is the bottom");
            }
            t.reshapeLike(bottom.get(0));
        }
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        int n = bottom.get(0).count();
        for (Blob t : top) {
            System.arraycopy(bottom.get(0).x(), 0, t.x(), 0, n);
        }
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (!propagateDown[0]) {
            return;
        }
        int n = bottom.get(0).count();
        float[] dx = bottom.get(0).dx();
        System.arraycopy(top.get(0).dx(), 0, dx, 0, n);
        for (int t = 1; t < top.size(); t++) {
            float[] dy = top.get(t).dx();
            for (int i = 0; i < n; i++) {
                dx[i] += dy[i];
            }
        }
    }
}
