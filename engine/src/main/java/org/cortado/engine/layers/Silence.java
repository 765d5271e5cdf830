package org.cortado.engine.layers;

import java.util.Arrays;
import java.util.List;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's {@code Silence}: consumes any number of bottoms and produces no top, so that blobs nobody
 * else reads are not reported as net outputs. Forward does nothing; backward writes a zero gradient,
 * {@code dx = 0}, to every bottom that propagates down (the loss does not depend on them through this
 * layer). No fields.
 */
public final class Silence extends Layer {

    public Silence(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
    }

    @Override
    public int maxBottoms() {
        return Integer.MAX_VALUE;
    }

    @Override
    public int minTops() {
        return 0;
    }

    @Override
    public int maxTops() {
        return 0;
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {}

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {}

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        for (int i = 0; i < bottom.size(); i++) {
            if (propagateDown[i]) {
                Arrays.fill(bottom.get(i).dx(), 0, bottom.get(i).count(), 0f);
            }
        }
    }
}
