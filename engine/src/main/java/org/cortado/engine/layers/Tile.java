package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's {@code Tile}: repeats the bottom {@code tiles} times along {@code axis}. With
 * {@code outer = count(0, axis)} and {@code inner = count(axis)}, the bottom is {@code x (outer, inner)}
 * and the top {@code y (outer, tiles, inner)} with {@code y[o, t, i] = x[o, i]}; so
 * {@code shape[axis]} becomes {@code shape[axis] * tiles} (whole blocks repeat, as {@code torch.Tensor.repeat},
 * not each element as {@code repeat_interleave}). Backward sums the copies:
 * {@code dx[o, i] = sum_t dy[o, t, i]}.
 *
 * <p>Fields: {@code axis} (1; negative counts from the end), {@code tiles} (required, {@code > 0}).
 */
public final class Tile extends Layer {
    private final int axisParam;
    private final int tiles;

    public Tile(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        axisParam = j.getInt("axis", 1);
        tiles = j.positive("tiles", j.requireInt("tiles"));
    }

    public int tiles() {
        return tiles;
    }

    /** The axis of bottom {@code x} that is tiled. */
    public int axisOf(Blob x) {
        return axis("axis", x, axisParam);
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        if (top.get(0) == x) {
            throw error("cannot run in place");
        }
        int a = axis("axis", x, axisParam);
        int[] out = x.shape();
        out[a] *= tiles;
        top.get(0).reshape(out);
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        int a = axis("axis", x, axisParam);
        int outer = x.count(0, a);
        int inner = x.count(a);
        float[] xv = x.x();              // (outer, inner)
        float[] y = top.get(0).x();      // (outer, tiles, inner)
        for (int o = 0; o < outer; o++) {
            for (int t = 0; t < tiles; t++) {
                System.arraycopy(xv, o * inner, y, (o * tiles + t) * inner, inner);
            }
        }
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (!propagateDown[0]) {
            return;
        }
        Blob x = bottom.get(0);
        int a = axis("axis", x, axisParam);
        int outer = x.count(0, a);
        int inner = x.count(a);
        float[] dy = top.get(0).dx();    // (outer, tiles, inner)
        float[] dx = x.dx();             // (outer, inner)
        for (int o = 0; o < outer; o++) {
            System.arraycopy(dy, o * tiles * inner, dx, o * inner, inner);
            for (int t = 1; t < tiles; t++) {
                int off = (o * tiles + t) * inner;
                for (int i = 0; i < inner; i++) {
                    dx[o * inner + i] += dy[off + i];
                }
            }
        }
    }
}
