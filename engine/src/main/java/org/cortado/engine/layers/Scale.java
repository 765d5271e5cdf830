package org.cortado.engine.layers;

import java.util.Arrays;
import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.fill.Filler;
import org.cortado.engine.ops.Elementwise;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;

/**
 * Caffe's {@code Scale}: multiplies the bottom by a scale {@code s} broadcast over the axes before and
 * after it, plus an optional bias {@code b} of the same shape. Viewing {@code x} as
 * {@code (outer, D, inner)} where {@code D = count(s)} covers axes {@code [axis, axis + rank(s))}:
 * <pre>
 *   y[o, d, i]  = x[o, d, i] * s[d] (+ b[d])
 *   dx[o, d, i] = dy[o, d, i] * s[d]
 *   ds[d]       = sum_{o, i} dy[o, d, i] * x[o, d, i]      db[d] = sum_{o, i} dy[o, d, i]
 * </pre>
 *
 * <p>Fields (Caffe's defaults): {@code axis} (1; negative counts from the end), {@code num_axes} (1;
 * -1 means all axes from {@code axis} on, 0 a single scalar), {@code filler} (constant 1),
 * {@code bias_term} (false), {@code bias_filler} (constant 0).
 *
 * <p>With one bottom the scale is learnable blob 0, of shape {@code x.shape[axis : axis + num_axes]}.
 * With two bottoms the scale is bottom 1 (its shape must equal {@code x.shape[axis : axis + rank]};
 * {@code num_axes} is ignored, and a 0-axis bottom 1 is a scalar) and gets a gradient, written rather
 * than accumulated as it is a bottom. The bias, when {@code bias_term}, is the next learnable blob,
 * with the scale's shape. Param diffs accumulate. In place is allowed (forward keeps a copy of
 * {@code x} for {@code ds}), as in Caffe.
 */
public final class Scale extends Layer {
    private final int axisParam;
    private final int numAxes;
    private final Filler filler;
    private final boolean biasTerm;
    private final Filler biasFiller;

    private int biasIndex = -1;   // index of the bias in params(), or -1
    private int outer;
    private int dim;
    private int inner;
    private float[] xCopy = new float[0];  // (outer, dim, inner) the bottom, kept when in place
    private boolean folded;                // the preceding BatchNorm does this layer's work (see foldInto)

    public Scale(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        axisParam = j.getInt("axis", 1);
        numAxes = j.getInt("num_axes", 1);
        if (numAxes < -1) {
            throw j.error("num_axes", "must be >= -1, got " + numAxes);
        }
        filler = Filler.parse(j, "filler", Filler.constant(1));
        biasTerm = j.getBool("bias_term", false);
        biasFiller = Filler.parse(j, "bias_filler", Filler.ZERO);
    }

    @Override
    public int maxBottoms() {
        return 2;
    }

    @Override
    public boolean allowsInPlace() {
        return true;
    }

    @Override
    public void setUp(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        var rng = ctx.rng(name() + "/fill");
        int[] shape;
        if (bottom.size() > 1) {
            shape = bottom.get(1).shape();
        } else {
            int a = axis("axis", x, axisParam);
            int end = numAxes == -1 ? x.rank() : a + numAxes;
            if (end > x.rank()) {
                throw error("axis " + a + " + num_axes " + numAxes + " extends past the " + x.rank()
                        + " axes of bottom '" + x.name() + "' of shape " + Shapes.str(x.shape()));
            }
            shape = Arrays.copyOfRange(x.shape(), a, end);
            filler.fill(addParam(shape).data(), rng);
        }
        if (biasTerm) {
            biasIndex = params().size();
            biasFiller.fill(addParam(shape).data(), rng);
        }
    }

    private Blob scale(List<Blob> bottom) {
        return bottom.size() > 1 ? bottom.get(1) : param(0);
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        Blob s = scale(bottom);
        int a = broadcastAxis(x, s, axisParam, "scale");
        outer = x.count(0, a);
        dim = s.count();
        inner = x.count(a + s.rank());
        if (top.get(0) != x) {
            top.get(0).reshapeLike(x);
        } else if (!folded && xCopy.length < x.count()) {
            xCopy = new float[x.count()];
        }
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] x = bottom.get(0).x();      // (outer, dim, inner)
        float[] s = scale(bottom).x();      // (dim)
        float[] y = top.get(0).x();         // (outer, dim, inner)
        float[] b = biasTerm ? param(biasIndex).x() : null;  // (dim)
        if (folded) {
            return;
        }
        if (top.get(0) == bottom.get(0)) {
            System.arraycopy(x, 0, xCopy, 0, bottom.get(0).count());
        }
        par().forChunks(dim, (long) outer * inner, (chunk, d0, d1) -> {
            for (int o = 0; o < outer; o++) {
                for (int d = d0; d < d1; d++) {
                    int base = (o * dim + d) * inner;
                    float sd = s[d];
                    float bd = b == null ? 0f : b[d];
                    for (int i = 0; i < inner; i++) {
                        y[base + i] = x[base + i] * sd + bd;
                    }
                }
            }
        });
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (folded) {
            return;
        }
        float[] dy = top.get(0).dx();                                    // (outer, dim, inner)
        float[] x = top.get(0) == bottom.get(0) ? xCopy : bottom.get(0).x();
        Blob sBlob = scale(bottom);
        float[] s = sBlob.x();                                           // (dim)
        float[] db = biasTerm ? param(biasIndex).dx() : null;            // (dim), accumulated
        boolean scaleIsBottom = bottom.size() > 1;
        float[] ds = !scaleIsBottom || propagateDown[1] ? sBlob.dx() : null; // (dim)
        float[] dx = propagateDown[0] ? bottom.get(0).dx() : null;       // may be dy itself (in place)
        // Channels are independent: each chunk of channels reduces its own db/ds entries, then scales dx.
        par().forChunks(dim, 3L * outer * inner, (chunk, d0, d1) -> {
            for (int d = d0; d < d1; d++) {
                double sumDy = 0;
                double sumDyX = 0;
                for (int o = 0; o < outer; o++) {
                    int base = (o * dim + d) * inner;
                    if (db != null) {
                        sumDy += Elementwise.sum(inner, dy, base);
                    }
                    if (ds != null) {
                        sumDyX += Elementwise.dot(inner, dy, base, x, base);
                    }
                }
                if (db != null) {
                    db[d] += (float) sumDy;
                }
                if (ds != null) {
                    // a param accumulates; a bottom's diff is written
                    ds[d] = scaleIsBottom ? (float) sumDyX : ds[d] + (float) sumDyX;
                }
                if (dx != null) {
                    float sd = s[d];
                    for (int o = 0; o < outer; o++) {
                        int base = (o * dim + d) * inner;
                        for (int i = 0; i < inner; i++) {
                            dx[base + i] = dy[base + i] * sd;
                        }
                    }
                }
            }
        });
    }

    // ---- folding into a BatchNorm ----

    /**
     * Whether this layer can be folded into a BatchNorm over {@code x}: one bottom (a learned scale),
     * one value per channel of {@code x} (axis 1, one axis), so that it is the affine part PyTorch's
     * {@code BatchNorm2d} has built in.
     */
    boolean foldsOver(Blob x, List<Blob> bottom) {
        return bottom.size() == 1 && x.rank() >= 2 && axis("axis", x, axisParam) == 1
                && param(0).rank() == 1 && param(0).dim(0) == x.dim(1);
    }

    /**
     * Hands this layer's work to the BatchNorm just before it (see {@link BatchNorm#fold}): from now on
     * its own forward and backward do nothing; its learnable blobs stay here, and the BatchNorm reads
     * them and accumulates their gradients.
     */
    void foldInto() {
        folded = true;
        xCopy = new float[0];
    }

    /** Whether the BatchNorm before this layer does its work ({@link BatchNorm#fold}); then this layer's forward and backward do nothing. */
    public boolean folded() {
        return folded;
    }

    /** The scale's learnable blob (null when the scale is bottom 1) and the bias's (null without {@code bias_term}). */
    public Blob scaleParam() {
        return params().isEmpty() || biasIndex == 0 ? null : param(0);
    }

    public Blob biasParam() {
        return biasTerm ? param(biasIndex) : null;
    }

    /** The bottom seen as {@code (outer, dim, inner)} around the scale's axes, as of the last reshape. */
    public int outer() {
        return outer;
    }

    public int dim() {
        return dim;
    }

    public int inner() {
        return inner;
    }

    /** The per-channel scale, its diff, and the bias and its diff (null without bias_term). */
    float[] gamma() {
        return param(0).x();
    }

    float[] gammaDiff() {
        return param(0).dx();
    }

    float[] beta() {
        return biasTerm ? param(biasIndex).x() : null;
    }

    float[] betaDiff() {
        return biasTerm ? param(biasIndex).dx() : null;
    }

    /** Forward FLOPs: one per element, two with the bias (see {@link Layer#flops}). */
    @Override
    public long flops(List<Blob> bottom, List<Blob> top) {
        return top.get(0).count() * (biasTerm ? 2L : 1L);
    }
}
