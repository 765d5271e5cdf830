package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.fill.Filler;
import org.cortado.engine.ops.Conv;
import org.cortado.engine.ops.ConvGeom;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's {@code Convolution}: 2-D cross-correlation of a {@code (N, C, H, W)} bottom with
 * {@code num_output} filters, optionally grouped and dilated.
 *
 * <p>Fields: {@code num_output} (required), {@code kernel_size} or {@code kernel_h}/{@code kernel_w}
 * (required), {@code stride} (1), {@code pad} (0), {@code dilation} (1), {@code group} (1),
 * {@code bias_term} (true), {@code weight_filler} and {@code bias_filler} (Caffe's default: constant 0).
 * Learnable blobs: weights {@code (num_output, C/group, kh, kw)}, bias {@code (num_output)}.
 * Output: {@code (N, num_output, outH, outW)}, {@code out = (in + 2*pad - (dilation*(k-1)+1))/stride + 1}.
 * Several bottoms are convolved with the same filters into as many tops.
 */
public final class Convolution extends Layer {
    private final int numOutput;
    private final Window kernel;
    private final Window stride;
    private final Window pad;
    private final Window dilation;
    private final int group;
    private final boolean biasTerm;
    private final Filler weightFiller;
    private final Filler biasFiller;

    private ConvGeom geom;
    private final Conv.Workspace workspace = new Conv.Workspace();

    public Convolution(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        ConvParams p = ConvParams.parse(config.json());
        numOutput = p.numOutput();
        kernel = p.kernel();
        stride = p.stride();
        pad = p.pad();
        dilation = p.dilation();
        group = p.group();
        biasTerm = p.biasTerm();
        weightFiller = p.weightFiller();
        biasFiller = p.biasFiller();
    }

    @Override
    public int maxBottoms() {
        return Integer.MAX_VALUE;
    }

    @Override
    public int maxTops() {
        return Integer.MAX_VALUE;
    }

    @Override
    public void setUp(List<Blob> bottom, List<Blob> top) {
        if (top.size() != bottom.size()) {
            throw error("needs as many tops as bottoms, got " + bottom.size() + " bottoms and " + top.size() + " tops");
        }
        requireRank(bottom, 0, 4);
        int channels = bottom.get(0).dim(1);
        if (channels % group != 0) {
            throw error("input channels (" + channels + ") must be divisible by group (" + group + ")");
        }
        var rng = ctx.rng(name() + "/fill");
        weightFiller.fill(addParam(numOutput, channels / group, kernel.h(), kernel.w()).data(), rng);
        if (biasTerm) {
            biasFiller.fill(addParam(numOutput).data(), rng);
        }
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        for (int i = 0; i < bottom.size(); i++) {
            requireRank(bottom, i, 4);
            if (!java.util.Arrays.equals(bottom.get(i).shape(), x.shape())) {
                throw error("all bottoms must have the same shape; '" + bottom.get(i).name() + "' differs from '"
                        + x.name() + "'");
            }
        }
        if (x.dim(1) != param(0).dim(1) * group) {
            throw error("bottom '" + x.name() + "' has " + x.dim(1) + " channels, the weights expect "
                    + param(0).dim(1) * group);
        }
        geom = new ConvGeom(x.dim(1), x.dim(2), x.dim(3), kernel.h(), kernel.w(), stride.h(), stride.w(),
                pad.h(), pad.w(), dilation.h(), dilation.w());
        if (geom.outH() < 1 || geom.outW() < 1) {
            throw error("kernel " + kernel.h() + "x" + kernel.w() + " (dilation " + dilation.h() + "x" + dilation.w()
                    + ") does not fit the padded input " + (x.dim(2) + 2 * pad.h()) + "x" + (x.dim(3) + 2 * pad.w()));
        }
        for (Blob t : top) {
            t.reshape(x.dim(0), numOutput, geom.outH(), geom.outW());
        }
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] b = biasTerm ? param(1).x() : null;
        for (int i = 0; i < bottom.size(); i++) {
            // x (N, C, H, W) -> y (N, num_output, outH, outW)
            Conv.forward(par(), bottom.get(i).dim(0), geom, numOutput, group, bottom.get(i).x(), param(0).x(), b,
                    top.get(i).x(), workspace);
        }
    }

    /** The geometry of the current bottom shape (after reshape), for other backends. */
    public ConvGeom geom() {
        return geom;
    }

    public int numOutput() {
        return numOutput;
    }

    public int group() {
        return group;
    }

    public boolean biasTerm() {
        return biasTerm;
    }

    /** What ran the last pass: oneDNN and the implementations it chose, or im2col + GEMM. */
    public String implementation() {
        return workspace.implementation();
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        float[] db = biasTerm ? param(1).dx() : null;
        for (int i = 0; i < bottom.size(); i++) {
            Conv.backward(par(), bottom.get(i).dim(0), geom, numOutput, group, bottom.get(i).x(), param(0).x(),
                    top.get(i).dx(), param(0).dx(), db, propagateDown[i] ? bottom.get(i).dx() : null, workspace);
        }
    }

    /** Forward FLOPs: {@code top.count * (2 * C/group * kh * kw + bias)} per bottom (see {@link Layer#flops}). */
    @Override
    public long flops(List<Blob> bottom, List<Blob> top) {
        long n = 0;
        for (int i = 0; i < top.size(); i++) {
            long macs = (long) (bottom.get(i).dim(1) / group) * kernel.h() * kernel.w();
            n += top.get(i).count() * (2 * macs + (biasTerm ? 1 : 0));
        }
        return n;
    }
}
