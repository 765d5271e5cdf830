package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.fill.Filler;
import org.cortado.engine.ops.Conv;
import org.cortado.engine.ops.ConvGeom;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's {@code Deconvolution}: the transposed convolution (PyTorch's {@code ConvTranspose2d}),
 * which maps each input pixel to a kernel-sized patch of the output. With the {@code bilinear}
 * weight filler, stride f and kernel 2f - f % 2 it is FCN's learnable upsampler.
 *
 * <p>Fields as {@link Convolution}'s: {@code num_output} (required), {@code kernel_size} or
 * {@code kernel_h}/{@code kernel_w} (required), {@code stride} (1), {@code pad} (0), {@code dilation}
 * (1), {@code group} (1), {@code bias_term} (true), {@code weight_filler}, {@code bias_filler}
 * (constant 0). Learnable blobs as Caffe lays them out: weights {@code (C, num_output/group, kh, kw)}
 * (C = input channels; PyTorch's layout too), bias {@code (num_output)}. Output
 * {@code (N, num_output, outH, outW)} with {@code out = stride*(in - 1) + dilation*(k - 1) + 1 - 2*pad}.
 *
 * <p>It is exactly the backward-data pass of a convolution whose input is this layer's output, so
 * it reuses {@link Conv} with the roles swapped ({@code g} below describes that convolution):
 * <pre>
 *   forward:   y  = col2im(W^T x) + b          (Conv.backward's dx, with dy := x)
 *   backward:  dx = conv(dy, W)                 (Conv.forward, no bias)
 *              dW += x * im2col(dy)^T           (Conv.backward's dW, with x := dy and dy := x)
 *              db += sum over N, H, W of dy
 * </pre>
 */
public final class Deconvolution extends Layer {
    private final int numOutput;
    private final Window kernel;
    private final Window stride;
    private final Window pad;
    private final Window dilation;
    private final int group;
    private final boolean biasTerm;
    private final Filler weightFiller;
    private final Filler biasFiller;

    private ConvGeom geom; // the convolution from this layer's output (num_output, outH, outW) to its input
    private int channels;
    private final Conv.Workspace workspace = new Conv.Workspace();

    public Deconvolution(LayerConfig config, LayerContext ctx) {
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
    public void setUp(List<Blob> bottom, List<Blob> top) {
        requireRank(bottom, 0, 4);
        channels = bottom.get(0).dim(1);
        if (channels % group != 0) {
            throw error("input channels (" + channels + ") must be divisible by group (" + group + ")");
        }
        var rng = ctx.rng(name() + "/fill");
        weightFiller.fill(addParam(channels, numOutput / group, kernel.h(), kernel.w()).data(), rng);
        if (biasTerm) {
            biasFiller.fill(addParam(numOutput).data(), rng);
        }
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        requireRank(bottom, 0, 4);
        Blob x = bottom.get(0);
        if (x.dim(1) != channels) {
            throw error("bottom '" + x.name() + "' has " + x.dim(1) + " channels, the weights expect " + channels);
        }
        int outH = stride.h() * (x.dim(2) - 1) + dilation.h() * (kernel.h() - 1) + 1 - 2 * pad.h();
        int outW = stride.w() * (x.dim(3) - 1) + dilation.w() * (kernel.w() - 1) + 1 - 2 * pad.w();
        if (outH < 1 || outW < 1) {
            throw error("pad " + pad.h() + "x" + pad.w() + " leaves no output for input " + x.dim(2) + "x" + x.dim(3)
                    + " (output would be " + outH + "x" + outW + ")");
        }
        geom = new ConvGeom(numOutput, outH, outW, kernel.h(), kernel.w(), stride.h(), stride.w(), pad.h(), pad.w(),
                dilation.h(), dilation.w());
        top.get(0).reshape(x.dim(0), numOutput, outH, outW);
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        Blob y = top.get(0);
        int n = x.dim(0);
        // x (N, C, H, W) -> y (N, num_output, outH, outW)
        Conv.backward(par(), n, geom, channels, group, null, param(0).x(), x.x(), null, null, y.x(), workspace);
        if (biasTerm) {
            float[] b = param(1).x();
            int plane = geom.h() * geom.w();
            float[] out = y.x();
            for (int i = 0; i < n; i++) {
                for (int o = 0; o < numOutput; o++) {
                    float bo = b[o];
                    int base = (i * numOutput + o) * plane;
                    for (int q = 0; q < plane; q++) {
                        out[base + q] += bo;
                    }
                }
            }
        }
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        Blob x = bottom.get(0);
        Blob y = top.get(0);
        int n = x.dim(0);
        if (biasTerm) {
            float[] db = param(1).dx();
            int plane = geom.h() * geom.w();
            float[] dy = y.dx();
            for (int o = 0; o < numOutput; o++) {
                double acc = 0;
                for (int i = 0; i < n; i++) {
                    int base = (i * numOutput + o) * plane;
                    for (int q = 0; q < plane; q++) {
                        acc += dy[base + q];
                    }
                }
                db[o] += (float) acc;
            }
        }
        // dW: the convolution's weight gradient with its input := dy and its output gradient := x.
        Conv.backward(par(), n, geom, channels, group, y.dx(), param(0).x(), x.x(), param(0).dx(), null, null,
                workspace);
        if (propagateDown[0]) {
            Conv.forward(par(), n, geom, channels, group, y.dx(), param(0).x(), null, x.dx(), workspace);
        }
    }

    /** The convolution from this layer's output to its input (whose backward-data pass is this layer's forward). */
    public ConvGeom geom() {
        return geom;
    }

    /** Input channels (the weights' first axis). */
    public int channels() {
        return channels;
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

    /** Forward FLOPs: each input value times {@code num_output/group * kh * kw} weights, plus the bias (see {@link Layer#flops}). */
    @Override
    public long flops(List<Blob> bottom, List<Blob> top) {
        long n = 0;
        for (int i = 0; i < top.size(); i++) {
            long macs = (long) (numOutput / group) * kernel.h() * kernel.w();
            n += bottom.get(i).count() * 2 * macs + (biasTerm ? top.get(i).count() : 0);
        }
        return n;
    }
}
