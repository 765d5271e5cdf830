package org.cortado.engine.ops;

/**
 * Caffe's im2col / col2im for one image. Column matrix layout: row {@code (ch*kh + i)*kw + j} holds,
 * for every output position {@code (oy, ox)}, the input value at
 * {@code (ch, oy*sh - ph + i*dh, ox*sw - pw + j*dw)}, or 0 where that falls in the padding.
 *
 * <p>{@link #im2colReference}/{@link #col2imReference} compute that formula element by element and are
 * the specification; {@link #im2col}/{@link #col2im} walk rows and copy runs (the fast path).
 */
public final class Im2col {
    private Im2col() {}

    /** Reference im2col: {@code col (g.colRows(), g.colCols())} from the image at {@code x[xOff..]}. */
    public static void im2colReference(ConvGeom g, float[] x, int xOff, float[] col, int colOff) {
        int oh = g.outH();
        int ow = g.outW();
        for (int ch = 0; ch < g.c(); ch++) {
            for (int i = 0; i < g.kh(); i++) {
                for (int j = 0; j < g.kw(); j++) {
                    int row = (ch * g.kh() + i) * g.kw() + j;
                    for (int oy = 0; oy < oh; oy++) {
                        for (int ox = 0; ox < ow; ox++) {
                            int iy = oy * g.sh() - g.ph() + i * g.dh();
                            int ix = ox * g.sw() - g.pw() + j * g.dw();
                            boolean inside = iy >= 0 && iy < g.h() && ix >= 0 && ix < g.w();
                            col[colOff + row * oh * ow + oy * ow + ox] =
                                    inside ? x[xOff + (ch * g.h() + iy) * g.w() + ix] : 0f;
                        }
                    }
                }
            }
        }
    }

    /** Reference col2im: adds every column entry back to the image position it came from. */
    public static void col2imReference(ConvGeom g, float[] col, int colOff, float[] x, int xOff) {
        int oh = g.outH();
        int ow = g.outW();
        java.util.Arrays.fill(x, xOff, xOff + g.imageSize(), 0f);
        for (int ch = 0; ch < g.c(); ch++) {
            for (int i = 0; i < g.kh(); i++) {
                for (int j = 0; j < g.kw(); j++) {
                    int row = (ch * g.kh() + i) * g.kw() + j;
                    for (int oy = 0; oy < oh; oy++) {
                        for (int ox = 0; ox < ow; ox++) {
                            int iy = oy * g.sh() - g.ph() + i * g.dh();
                            int ix = ox * g.sw() - g.pw() + j * g.dw();
                            if (iy >= 0 && iy < g.h() && ix >= 0 && ix < g.w()) {
                                x[xOff + (ch * g.h() + iy) * g.w() + ix] += col[colOff + row * oh * ow + oy * ow + ox];
                            }
                        }
                    }
                }
            }
        }
    }

    /** Fast im2col into a dense {@code (colRows, colCols)} matrix. */
    public static void im2col(ConvGeom g, float[] x, int xOff, float[] col, int colOff) {
        im2col(g, x, xOff, col, colOff, g.colCols());
    }

    /**
     * Fast im2col into a matrix whose rows are {@code ld >= colCols} apart, so several images can sit
     * side by side in one column matrix (image j at column offset {@code j*colCols}). Per kernel row,
     * the valid output columns are one contiguous range per output row.
     */
    public static void im2col(ConvGeom g, float[] x, int xOff, float[] col, int colOff, int ld) {
        final int h = g.h();
        final int w = g.w();
        final int oh = g.outH();
        final int ow = g.outW();
        final int sw = g.sw();
        int row = 0;
        for (int ch = 0; ch < g.c(); ch++) {
            int plane = xOff + ch * h * w;
            for (int i = 0; i < g.kh(); i++) {
                for (int j = 0; j < g.kw(); j++, row++) {
                    int p = colOff + row * ld;
                    int xShift = j * g.dw() - g.pw();
                    // Valid ox satisfy 0 <= ox*sw + xShift < w.
                    int oxLo = xShift >= 0 ? 0 : Math.min(ow, (-xShift + sw - 1) / sw);
                    int oxHi = Math.max(oxLo, Math.min(ow, w - xShift <= 0 ? 0 : (w - xShift - 1) / sw + 1));
                    for (int oy = 0; oy < oh; oy++) {
                        int iy = oy * g.sh() - g.ph() + i * g.dh();
                        if (iy < 0 || iy >= h) {
                            java.util.Arrays.fill(col, p, p + ow, 0f);
                        } else {
                            java.util.Arrays.fill(col, p, p + oxLo, 0f);
                            int src = plane + iy * w + oxLo * sw + xShift;
                            if (sw == 1) {
                                System.arraycopy(x, src, col, p + oxLo, oxHi - oxLo);
                            } else {
                                for (int ox = oxLo; ox < oxHi; ox++, src += sw) {
                                    col[p + ox] = x[src];
                                }
                            }
                            java.util.Arrays.fill(col, p + oxHi, p + ow, 0f);
                        }
                        p += ow;
                    }
                }
            }
        }
    }

    /** Fast col2im from a dense {@code (colRows, colCols)} matrix. */
    public static void col2im(ConvGeom g, float[] col, int colOff, float[] x, int xOff) {
        col2im(g, col, colOff, g.colCols(), x, xOff);
    }

    /** Fast col2im from a matrix whose rows are {@code ld} apart: zeroes the image, then accumulates each run. */
    public static void col2im(ConvGeom g, float[] col, int colOff, int ld, float[] x, int xOff) {
        final int h = g.h();
        final int w = g.w();
        final int oh = g.outH();
        final int ow = g.outW();
        final int sw = g.sw();
        java.util.Arrays.fill(x, xOff, xOff + g.imageSize(), 0f);
        int row = 0;
        for (int ch = 0; ch < g.c(); ch++) {
            int plane = xOff + ch * h * w;
            for (int i = 0; i < g.kh(); i++) {
                for (int j = 0; j < g.kw(); j++, row++) {
                    int p = colOff + row * ld;
                    int xShift = j * g.dw() - g.pw();
                    int oxLo = xShift >= 0 ? 0 : Math.min(ow, (-xShift + sw - 1) / sw);
                    int oxHi = Math.max(oxLo, Math.min(ow, w - xShift <= 0 ? 0 : (w - xShift - 1) / sw + 1));
                    for (int oy = 0; oy < oh; oy++) {
                        int iy = oy * g.sh() - g.ph() + i * g.dh();
                        if (iy >= 0 && iy < h) {
                            int dst = plane + iy * w + oxLo * sw + xShift;
                            for (int ox = oxLo; ox < oxHi; ox++, dst += sw) {
                                x[dst] += col[p + ox];
                            }
                        }
                        p += ow;
                    }
                }
            }
        }
    }
}
