package org.cortado.engine.ops;

/**
 * The geometry of a 2-D convolution (or its transpose) over one image: input {@code (c, h, w)},
 * kernel, stride, pad, dilation, and the output size Caffe computes:
 * {@code out = (in + 2*pad - (dilation*(kernel-1) + 1)) / stride + 1}, rounded down.
 *
 * <p>{@code im2col} turns an image into a {@code (c*kh*kw, outH*outW)} column matrix, so that a
 * convolution is the GEMM {@code W (outC/group x c/group*kh*kw) * col}.
 */
public record ConvGeom(int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw) {

    public int outH() {
        return (h + 2 * ph - (dh * (kh - 1) + 1)) / sh + 1;
    }

    public int outW() {
        return (w + 2 * pw - (dw * (kw - 1) + 1)) / sw + 1;
    }

    /** Rows of the column matrix: {@code c * kh * kw}. */
    public int colRows() {
        return c * kh * kw;
    }

    /** Columns of the column matrix: {@code outH * outW}. */
    public int colCols() {
        return outH() * outW();
    }

    public int imageSize() {
        return c * h * w;
    }

    /** True when im2col is the identity (1x1 kernel, stride 1, no pad): the image is its own column matrix. */
    public boolean isPointwise() {
        return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0;
    }
}
