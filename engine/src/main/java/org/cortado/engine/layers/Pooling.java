package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.ShapeException;
import org.cortado.engine.config.Json;
import org.cortado.engine.ops.Pooling.Geom;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's {@code Pooling}: max or average over 2-D windows of each channel of an {@code (N, C, H, W)}
 * bottom, giving {@code (N, C, outH, outW)}. Window placement, output size and the average's divisor are
 * Caffe's, see {@link org.cortado.engine.ops.Pooling}:
 * {@code out = ceil((in + 2*pad - kernel) / stride) + 1}, minus one if {@code pad > 0} and the last
 * window would start in the padding past the image (so a 32x32 input with kernel 3, stride 2 gives 16x16).
 *
 * <p>Fields: {@code pool} (MAX or AVE; MAX), {@code kernel_size} or {@code kernel_h}/{@code kernel_w}
 * (required unless {@code global_pooling}), {@code stride} or {@code stride_h}/{@code stride_w} (1),
 * {@code pad} or {@code pad_h}/{@code pad_w} (0, and smaller than the kernel), {@code global_pooling}
 * (false: when true the kernel is the whole input and kernel, stride and pad must not be set otherwise),
 * {@code round_mode} (CEIL, or FLOOR for {@code floor} in the output size).
 *
 * <p>STOCHASTIC (Caffe's, there GPU-only): in TRAIN each window outputs one of its inputs, drawn
 * with probability proportional to its value (inputs must be non-negative: put it after a ReLU),
 * and backward routes {@code dy} there; in TEST the output is {@code sum(x^2) / sum(x)}. As in
 * Caffe its windows ignore {@code pad}. The draws come from the seed, the layer name and the
 * training pass, so a resumed run repeats them.
 *
 * <p>MAX may have a second top, the mask: for each output the index {@code y*W + x} of its max within
 * the input plane, as a float (Caffe's {@code top_mask}). Ties go to the first position in row-major
 * order. Backward routes {@code dy} to that position (MAX) or spreads {@code dy / divisor} over the
 * window (AVE).
 */
public final class Pooling extends Layer {

    /** Caffe's {@code PoolingParameter.PoolMethod}. */
    public enum Method { MAX, AVE, STOCHASTIC }

    /** Caffe's {@code PoolingParameter.RoundMode}. */
    public enum RoundMode { CEIL, FLOOR }

    private final Method method;
    private final boolean global;
    private final Window kernel;          // null when global
    private final Window stride;
    private final Window pad;
    private final RoundMode roundMode;

    private Geom geom;
    private int planes;
    private int[] mask = new int[0];      // (N, C, outH, outW) argmax (MAX) or drawn position (STOCHASTIC)
    private float[] uniforms = new float[0]; // STOCHASTIC in TRAIN: one U(0, 1) draw per output
    private long streamSeed;
    private java.util.SplittableRandom rng;

    public Pooling(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        method = j.getEnum("pool", Method.class, Method.MAX);
        global = j.getBool("global_pooling", false);
        if (global) {
            for (String key : new String[] {"kernel_size", "kernel_h", "kernel_w"}) {
                if (j.has(key)) {
                    throw j.error(key, "must not be set with global_pooling: the kernel is the whole input");
                }
            }
        }
        kernel = global ? null : Window.parse(j, "kernel_size", "kernel", -1, 1);
        stride = Window.parse(j, "stride", "stride", 1, 1);
        pad = Window.parse(j, "pad", "pad", 0, 0);
        roundMode = j.getEnum("round_mode", RoundMode.class, RoundMode.CEIL);
        streamSeed = ctx.rng(config.name() + "/stochastic").nextLong();
        rng = new java.util.SplittableRandom(streamSeed);
        boolean padHw = j.has("pad_h");
        if (global && (stride.h() != 1 || stride.w() != 1 || pad.h() != 0 || pad.w() != 0)) {
            throw j.error(stride.h() != 1 || stride.w() != 1 ? "stride" : "pad",
                    "with global_pooling only stride 1 and pad 0 are allowed");
        }
        if (!global && pad.h() >= kernel.h()) {
            throw j.error(padHw ? "pad_h" : "pad", "must be < the kernel height " + kernel.h() + ", got " + pad.h());
        }
        if (!global && pad.w() >= kernel.w()) {
            throw j.error(padHw ? "pad_w" : "pad", "must be < the kernel width " + kernel.w() + ", got " + pad.w());
        }
    }

    /** STOCHASTIC: the draws of training pass {@code pass} (as Dropout's masks). */
    @Override
    public void beginPass(long pass) {
        rng = new java.util.SplittableRandom(org.cortado.engine.layers.LayerContext.mix(streamSeed, "step " + pass));
    }

    @Override
    public int maxTops() {
        return method == Method.MAX ? 2 : 1;
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        requireRank(bottom, 0, 4);
        Blob x = bottom.get(0);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        int kh = global ? h : kernel.h();
        int kw = global ? w : kernel.w();
        try {
            geom = new Geom(h, w, kh, kw, stride.h(), stride.w(), pad.h(), pad.w(), roundMode == RoundMode.CEIL);
        } catch (ShapeException e) {
            throw error("bottom '" + x.name() + "' (" + h + "x" + w + "): " + e.getMessage());
        }
        planes = n * c;
        for (Blob t : top) {
            t.reshape(n, c, geom.outH(), geom.outW());
        }
        if (method != Method.AVE && mask.length < planes * geom.outSize()) {
            mask = new int[planes * geom.outSize()];
        }
        if (method == Method.STOCHASTIC && uniforms.length < planes * geom.outSize()) {
            uniforms = new float[planes * geom.outSize()];
        }
    }

    /** The method, the geometry of one plane and the plane count for the current bottom, for other backends. */
    public Method method() {
        return method;
    }

    public Geom geom() {
        return geom;
    }

    public int planes() {
        return planes;
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] x = bottom.get(0).x();    // (N, C, H, W)
        float[] y = top.get(0).x();       // (N, C, outH, outW)
        if (method == Method.AVE) {
            org.cortado.engine.ops.Pooling.aveForward(par(), geom, planes, x, y);
            return;
        }
        if (method == Method.STOCHASTIC) {
            if (ctx.phase() == org.cortado.engine.net.Phase.TRAIN) {
                for (int i = 0; i < planes * geom.outSize(); i++) {
                    uniforms[i] = rng.nextFloat();
                }
                org.cortado.engine.ops.Pooling.stochasticForwardTrain(geom, planes, x, y, mask, uniforms);
            } else {
                org.cortado.engine.ops.Pooling.stochasticForwardTest(geom, planes, x, y);
            }
            return;
        }
        org.cortado.engine.ops.Pooling.maxForward(par(), geom, planes, x, y, mask);
        if (top.size() > 1) {
            float[] m = top.get(1).x();   // (N, C, outH, outW)
            for (int i = 0; i < planes * geom.outSize(); i++) {
                m[i] = mask[i];
            }
        }
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (!propagateDown[0]) {
            return;
        }
        float[] dy = top.get(0).dx();
        float[] dx = bottom.get(0).dx();
        if (method == Method.AVE) {
            org.cortado.engine.ops.Pooling.aveBackward(par(), geom, planes, dy, dx);
        } else {
            org.cortado.engine.ops.Pooling.maxBackward(par(), geom, planes, dy, mask, dx);
        }
    }

    /** Forward FLOPs: one per window element per output (see {@link Layer#flops}). */
    @Override
    public long flops(List<Blob> bottom, List<Blob> top) {
        return (long) top.get(0).count() * geom.kh() * geom.kw();
    }
}
