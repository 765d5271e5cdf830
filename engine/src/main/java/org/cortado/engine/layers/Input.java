package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;

/**
 * Caffe's {@code Input}: no bottoms, one or more tops whose values are written by whoever feeds the
 * net (the trainer, a data verticle); forward and backward do nothing.
 *
 * <p>Fields: {@code shape} (required): one {@code {dim: [...]}} object per top, or a single one that
 * every top shares, as in Caffe ({@code shape: {dim: [64, 1, 28, 28]}}). Dimensions must be {@code > 0}.
 *
 * <p>Shapes: {@link #setUp} and {@link #reshape} give a top its configured shape only while it has
 * never been shaped (rank 0); once the net has reshaped a top, for example to a new batch size, that
 * shape is kept. {@link #shapes()} gives the configured shapes, one per top, for the net to do so.
 */
public final class Input extends Layer {
    private final int[][] shapes; // one per top

    public Input(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        List<Json> given = j.objects("shape");
        int tops = config.tops().size();
        if (given.isEmpty()) {
            throw j.error("shape", "required: one {\"dim\": [...]} per top");
        }
        if (given.size() != 1 && given.size() != tops) {
            throw j.error("shape", "expected 1 shape or one per top (" + tops + "), got " + given.size());
        }
        int[][] parsed = new int[given.size()][];
        for (int i = 0; i < parsed.length; i++) {
            Json s = given.get(i);
            parsed[i] = s.ints("dim");
            for (int d = 0; d < parsed[i].length; d++) {
                if (parsed[i][d] <= 0) {
                    throw s.error("dim", "dimension " + d + " must be > 0, got " + parsed[i][d]);
                }
            }
            s.rejectUnknown();
        }
        shapes = new int[Math.max(tops, 1)][];
        for (int t = 0; t < shapes.length; t++) {
            shapes[t] = parsed[parsed.length == 1 ? 0 : t];
        }
    }

    /** The configured shapes, one per top (a fresh copy). */
    public int[][] shapes() {
        int[][] out = new int[shapes.length][];
        for (int t = 0; t < out.length; t++) {
            out[t] = shapes[t].clone();
        }
        return out;
    }

    @Override
    public int minBottoms() {
        return 0;
    }

    @Override
    public int maxBottoms() {
        return 0;
    }

    @Override
    public int maxTops() {
        return Integer.MAX_VALUE;
    }

    @Override
    public void setUp(List<Blob> bottom, List<Blob> top) {
        if (top.size() != shapes.length) {
            throw error("configured with " + shapes.length + " shapes, given " + top.size() + " tops");
        }
        reshape(bottom, top);
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        for (int t = 0; t < top.size(); t++) {
            if (top.get(t).rank() == 0) {
                top.get(t).reshape(shapes[t]);
            } else if (top.get(t).rank() != shapes[t].length) {
                throw error("top '" + top.get(t).name() + "' has shape " + Shapes.str(top.get(t).shape())
                        + ", configured as " + Shapes.str(shapes[t]));
            }
        }
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {}

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {}
}
