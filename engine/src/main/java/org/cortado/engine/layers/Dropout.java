package org.cortado.engine.layers;

import java.util.List;
import java.util.SplittableRandom;
import org.cortado.engine.config.Json;
import org.cortado.engine.net.Phase;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's {@code Dropout}, inverted: in the TRAIN phase each element is kept with probability
 * {@code 1 - dropout_ratio} and scaled by {@code 1 / (1 - dropout_ratio)}, else zeroed, so the
 * expected output equals the input; in the TEST phase it is the identity. Any shape; in place allowed.
 *
 * <p>Fields: {@code dropout_ratio} (0.5), in {@code [0, 1)}.
 *
 * <p>Masks, reproducibly: the layer's random stream is derived from the run's seed, the layer name and
 * a step number, {@code stream(step) = SplittableRandom(LayerContext.mix(ctx.rng(name + "/dropout").nextLong(), "step " + step))};
 * each TRAIN forward draws one uniform per element from the current stream. The layer starts at step 0;
 * a net calls {@link #reseed(long)} with the iteration number before each iteration's forward, so a
 * run resumed at iteration {@code t} draws the same masks as one that never stopped, and forwards within
 * one iteration ({@code iter_size}) continue the same stream. The masks do not depend on the thread count.
 *
 * <p>Backward: {@code dx = dy * mask / (1 - ratio)} with the mask of the last forward (TRAIN), or
 * {@code dx = dy} (TEST).
 */
public final class Dropout extends Layer {
    private final float ratio;
    private final float scale;
    private final long streamSeed;
    private SplittableRandom rng;
    private float[] mask = new float[0]; // per element: 0 (dropped) or scale (kept), from the last forward

    public Dropout(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        double r = j.getDouble("dropout_ratio", 0.5);
        if (!(r >= 0 && r < 1)) {
            throw j.error("dropout_ratio", "must be in [0, 1), got " + r);
        }
        ratio = (float) r;
        scale = (float) (1.0 / (1.0 - r));
        streamSeed = ctx.rng(name() + "/dropout").nextLong();
        reseed(0);
    }

    @Override
    public void beginPass(long pass) {
        reseed(pass);
    }

    /** Restarts the mask stream at {@code step} (the iteration number): same seed, name and step, same masks. */
    public void reseed(long step) {
        rng = new SplittableRandom(LayerContext.mix(streamSeed, "step " + step));
    }

    @Override
    public boolean allowsInPlace() {
        return true;
    }

    private boolean training() {
        return ctx.phase() == Phase.TRAIN;
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        if (top.get(0) != bottom.get(0)) {
            top.get(0).reshapeLike(bottom.get(0));
        }
        if (mask.length < bottom.get(0).count()) {
            mask = new float[bottom.get(0).count()];
        }
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] x = bottom.get(0).x();
        float[] y = top.get(0).x();
        int n = bottom.get(0).count();
        if (!training()) {
            if (y != x) {
                System.arraycopy(x, 0, y, 0, n);
            }
            return;
        }
        nextMask(n);
        for (int i = 0; i < n; i++) {
            y[i] = x[i] * mask[i];
        }
    }

    /**
     * Draws the next TRAIN mask of {@code n} elements from the current stream (0 for a dropped element,
     * {@code 1 / (1 - ratio)} for a kept one) and returns it (its first {@code n} values); backward uses
     * it. A GPU forward draws its mask here too, so it drops exactly what the CPU would.
     */
    public float[] nextMask(int n) {
        if (mask.length < n) {
            mask = new float[n];
        }
        // Drawn serially: the mask is a function of the stream alone, whatever the thread count.
        for (int i = 0; i < n; i++) {
            mask[i] = rng.nextFloat() >= ratio ? scale : 0f;
        }
        return mask;
    }

    /** Whether this layer drops (the TRAIN phase) or passes its input through (TEST). */
    public boolean dropping() {
        return training();
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (!propagateDown[0]) {
            return;
        }
        float[] dy = top.get(0).dx();
        float[] dx = bottom.get(0).dx();
        int n = bottom.get(0).count();
        if (!training()) {
            if (dx != dy) {
                System.arraycopy(dy, 0, dx, 0, n);
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            dx[i] = dy[i] * mask[i];
        }
    }
}
