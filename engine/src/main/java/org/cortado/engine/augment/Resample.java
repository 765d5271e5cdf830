package org.cortado.engine.augment;

/**
 * Bilinear resizing of a box of a (C, H, W) image, separably: along the width first (each output
 * column a weighted sum of source columns, row by row), then along the height, in float32: the order
 * and weights of
 * {@code torch.nn.functional.interpolate(mode="bilinear", align_corners=False)} and of its
 * {@code antialias=True} variant (PIL's resampling), which this class is tested against.
 *
 * <p>Weights for an axis of {@code n} source pixels resized to {@code m}, with {@code scale = n / m}:
 * <ul>
 *   <li>bilinear (growing, or {@code antialias} off): source position
 *       {@code s = max(0, scale * (i + 0.5) - 0.5)}, taps {@code floor(s)} and the next one (the
 *       same pixel at the far edge), weights {@code 1 - frac(s)} and {@code frac(s)};</li>
 *   <li>antialiased (shrinking): {@code center = scale * (i + 0.5)}, taps {@code j} in
 *       {@code [int(center - scale + 0.5), int(center + scale + 0.5))} clipped to the axis, weight
 *       {@code max(0, 1 - |j + 0.5 - center| / scale)}, normalized to sum 1.</li>
 * </ul>
 */
final class Resample {
    private Resample() {}

    /** The most taps one output pixel can have on an axis of {@code n} resized to {@code m}. */
    static int maxTaps(int n, int m) {
        return (int) Math.ceil(2.0 * Math.max(1.0, (double) n / m)) + 2;
    }

    /** Per output index {@code i}: taps {@code [start[i], start[i] + size[i])} with weights {@code w[i * stride + k]}. */
    static void weights(int n, int m, boolean antialias, int[] start, int[] size, float[] w, int stride) {
        if (antialias && n > m) {
            double scale = (double) n / m;
            double support = scale;
            double invScale = 1.0 / scale;
            for (int i = 0; i < m; i++) {
                double center = scale * (i + 0.5);
                int lo = Math.max((int) (center - support + 0.5), 0);
                int count = Math.min((int) (center + support + 0.5), n) - lo;
                double total = 0;
                for (int k = 0; k < count; k++) {
                    double x = Math.abs((k + lo - center + 0.5) * invScale);
                    double wk = x < 1 ? 1 - x : 0;
                    w[i * stride + k] = (float) wk;
                    total += wk;
                }
                for (int k = 0; k < count; k++) {
                    w[i * stride + k] = total != 0 ? (float) (w[i * stride + k] / total) : 0f;
                }
                start[i] = lo;
                size[i] = count;
            }
            return;
        }
        // torch's area_pixel_compute_scale and _source_index, float32 as there.
        float scale = (float) n / m;
        for (int i = 0; i < m; i++) {
            float s = (float) (scale * (i + 0.5) - 0.5);
            if (s < 0) {
                s = 0;
            }
            int i0 = (int) s;
            float l1 = s - i0;
            start[i] = i0;
            if (i0 < n - 1) {
                size[i] = 2;
                w[i * stride] = 1f - l1;
                w[i * stride + 1] = l1;
            } else {
                size[i] = 1;
                w[i * stride] = 1f;
            }
        }
    }

    /** Scratch for resizing boxes of images up to (C, H, W) to (C, oh, ow). */
    static final class Scratch {
        final int[] xs;
        final int[] xn;
        final int[] ys;
        final int[] yn;
        final float[] xw;
        final float[] yw;
        final int xStride;
        final int yStride;
        final float[] tmp; // (C, box rows, ow): the image after resampling its rows
        final float[] acc; // one output row
        final int[] box = new int[4];

        Scratch(int[] in, int oh, int ow) {
            xStride = maxTaps(in[2], ow);
            yStride = maxTaps(in[1], oh);
            xs = new int[ow];
            xn = new int[ow];
            ys = new int[oh];
            yn = new int[oh];
            xw = new float[ow * xStride];
            yw = new float[oh * yStride];
            tmp = new float[in[0] * in[1] * ow];
            acc = new float[ow];
        }
    }

    /**
     * Resizes the box {@code [top, top + bh) x [left, left + bw)} of the (C, H, W) image at
     * {@code src[srcOff..]} (bytes when {@code srcB} is set, else {@code srcF}) to (C, oh, ow) at
     * {@code dst[dstOff..]}: uint8 (rounded half to even, clamped) when {@code dstB} is set, else float.
     */
    static void resize(byte[] srcB, float[] srcF, int srcOff, int[] in, int top, int left, int bh, int bw,
                       int oh, int ow, boolean antialias, byte[] dstB, float[] dstF, int dstOff, Scratch s) {
        int channels = in[0];
        int height = in[1];
        int width = in[2];
        weights(bw, ow, antialias, s.xs, s.xn, s.xw, s.xStride);
        weights(bh, oh, antialias, s.ys, s.yn, s.yw, s.yStride);
        float[] tmp = s.tmp;
        for (int c = 0; c < channels; c++) {
            for (int r = 0; r < bh; r++) {
                int base = srcOff + (c * height + top + r) * width + left;
                int o = (c * bh + r) * ow;
                for (int x = 0; x < ow; x++) {
                    int from = base + s.xs[x];
                    int wi = x * s.xStride;
                    float a = 0;
                    if (srcB != null) {
                        for (int k = 0; k < s.xn[x]; k++) {
                            a += (srcB[from + k] & 0xff) * s.xw[wi + k];
                        }
                    } else {
                        for (int k = 0; k < s.xn[x]; k++) {
                            a += srcF[from + k] * s.xw[wi + k];
                        }
                    }
                    tmp[o + x] = a;
                }
            }
        }
        float[] acc = s.acc;
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < oh; y++) {
                java.util.Arrays.fill(acc, 0f);
                int wi = y * s.yStride;
                for (int k = 0; k < s.yn[y]; k++) {
                    float wk = s.yw[wi + k];
                    int row = (c * bh + s.ys[y] + k) * ow;
                    for (int x = 0; x < ow; x++) {
                        acc[x] += tmp[row + x] * wk;
                    }
                }
                int o = dstOff + (c * oh + y) * ow;
                if (dstB != null) {
                    for (int x = 0; x < ow; x++) {
                        dstB[o + x] = (byte) Math.max(0, Math.min(255, (int) Math.rint(acc[x])));
                    }
                } else {
                    System.arraycopy(acc, 0, dstF, o, ow);
                }
            }
        }
    }
}
