package org.cortado.engine.ops;

import java.util.Arrays;
import org.cortado.engine.ShapeException;

/**
 * 2-D max and average pooling over {@code planes} independent {@code (h, w)} planes (a batch
 * {@code (N, C, H, W)} is {@code N*C} planes), with Caffe's window placement and output size.
 *
 * <p>Output {@code (oy, ox)} covers rows {@code [oy*sh - ph, oy*sh - ph + kh)} of the zero-padded
 * plane, and likewise for columns.
 * <ul>
 *   <li>MAX: the largest value among the window's positions inside the image (padding never wins);
 *       {@code mask} records its index {@code y*w + x} within the plane, the first in row-major order on
 *       ties. Backward routes {@code dy} to that index.</li>
 *   <li>AVE: the sum of the window's positions inside the image divided by the window's size clipped
 *       to the padded plane, {@code (min(y0+kh, h+ph) - y0) * (min(x0+kw, w+pw) - x0)}: padding counts
 *       as zeros but the part of a window hanging past the padding does not. Backward spreads
 *       {@code dy / size} over the same positions.</li>
 * </ul>
 *
 * <p>The {@code *Reference} methods are the specification, written from the definition above (loop over
 * the kernel offsets, skip positions outside the image). The others are the fast path: windows clipped
 * once, parallel over planes. Backward overwrites {@code dx}.
 */
public final class Pooling {
    private Pooling() {}

    /**
     * One plane's pooling geometry. Output size, Caffe's rule: {@code out = ceil((in + 2*pad - k) / s) + 1}
     * ({@code floor} when {@code ceil} is false); then, if there is any padding, an output whose window
     * would start in the padding past the image is dropped: {@code if ((out-1)*s >= in + pad) out--}.
     *
     * <p>A geometry where some window holds no image position at all is rejected (Caffe reads out of
     * bounds there): with {@code pad < kernel}, as the layer requires, that only happens when the
     * stride exceeds the kernel and ceil rounding adds a window past the end.
     */
    public record Geom(int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, boolean ceil) {

        public Geom {
            if (h < 1 || w < 1 || kh < 1 || kw < 1 || sh < 1 || sw < 1 || ph < 0 || pw < 0) {
                throw new ShapeException("pooling geometry needs positive sizes, got input " + h + "x" + w
                        + ", kernel " + kh + "x" + kw + ", stride " + sh + "x" + sw + ", pad " + ph + "x" + pw);
            }
            if (h + 2 * ph < kh || w + 2 * pw < kw) {
                throw new ShapeException("kernel " + kh + "x" + kw + " does not fit the padded input "
                        + (h + 2 * ph) + "x" + (w + 2 * pw));
            }
            if (ph >= kh || pw >= kw) {
                throw new ShapeException("pad " + ph + "x" + pw + " must be smaller than the kernel " + kh + "x" + kw);
            }
            boolean padded = ph > 0 || pw > 0;
            if ((outLength(h, kh, sh, ph, padded, ceil) - 1) * sh - ph >= h
                    || (outLength(w, kw, sw, pw, padded, ceil) - 1) * sw - pw >= w) {
                throw new ShapeException("stride " + sh + "x" + sw + " with kernel " + kh + "x" + kw
                        + " leaves the last window of the " + h + "x" + w + " input outside the image");
            }
        }

        public int outH() {
            return outLength(h, kh, sh, ph, ph > 0 || pw > 0, ceil);
        }

        public int outW() {
            return outLength(w, kw, sw, pw, ph > 0 || pw > 0, ceil);
        }

        private static int outLength(int in, int k, int s, int p, boolean padded, boolean ceil) {
            int span = in + 2 * p - k; // >= 0, checked above
            int out = (ceil ? Math.ceilDiv(span, s) : span / s) + 1;
            if (padded && (out - 1) * s >= in + p) {
                out--;
            }
            return out;
        }

        public int inSize() {
            return h * w;
        }

        public int outSize() {
            return outH() * outW();
        }
    }

    // ---- reference ----

    public static void maxForwardReference(Geom g, int planes, float[] x, float[] y, int[] mask) {
        int oh = g.outH(), ow = g.outW();
        for (int p = 0; p < planes; p++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    float best = 0;
                    int arg = -1;
                    for (int i = 0; i < g.kh(); i++) {
                        for (int j = 0; j < g.kw(); j++) {
                            int iy = oy * g.sh() - g.ph() + i, ix = ox * g.sw() - g.pw() + j;
                            if (iy < 0 || iy >= g.h() || ix < 0 || ix >= g.w()) {
                                continue;
                            }
                            float v = x[p * g.inSize() + iy * g.w() + ix];
                            if (arg < 0 || v > best) {
                                best = v;
                                arg = iy * g.w() + ix;
                            }
                        }
                    }
                    y[p * oh * ow + oy * ow + ox] = best;
                    mask[p * oh * ow + oy * ow + ox] = arg;
                }
            }
        }
    }

    public static void maxBackwardReference(Geom g, int planes, float[] dy, int[] mask, float[] dx) {
        Arrays.fill(dx, 0, planes * g.inSize(), 0f);
        int out = g.outSize();
        for (int p = 0; p < planes; p++) {
            for (int q = 0; q < out; q++) {
                dx[p * g.inSize() + mask[p * out + q]] += dy[p * out + q];
            }
        }
    }

    /** The divisor of output {@code (oy, ox)}: its window clipped to the padded plane. */
    static int aveDivisor(Geom g, int oy, int ox) {
        int y0 = oy * g.sh() - g.ph(), x0 = ox * g.sw() - g.pw();
        return (Math.min(y0 + g.kh(), g.h() + g.ph()) - y0) * (Math.min(x0 + g.kw(), g.w() + g.pw()) - x0);
    }

    public static void aveForwardReference(Geom g, int planes, float[] x, float[] y) {
        int oh = g.outH(), ow = g.outW();
        for (int p = 0; p < planes; p++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    double sum = 0;
                    for (int i = 0; i < g.kh(); i++) {
                        for (int j = 0; j < g.kw(); j++) {
                            int iy = oy * g.sh() - g.ph() + i, ix = ox * g.sw() - g.pw() + j;
                            if (iy >= 0 && iy < g.h() && ix >= 0 && ix < g.w()) {
                                sum += x[p * g.inSize() + iy * g.w() + ix];
                            }
                        }
                    }
                    y[p * oh * ow + oy * ow + ox] = (float) (sum / aveDivisor(g, oy, ox));
                }
            }
        }
    }

    public static void aveBackwardReference(Geom g, int planes, float[] dy, float[] dx) {
        Arrays.fill(dx, 0, planes * g.inSize(), 0f);
        int oh = g.outH(), ow = g.outW();
        for (int p = 0; p < planes; p++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    float share = dy[p * oh * ow + oy * ow + ox] / aveDivisor(g, oy, ox);
                    for (int i = 0; i < g.kh(); i++) {
                        for (int j = 0; j < g.kw(); j++) {
                            int iy = oy * g.sh() - g.ph() + i, ix = ox * g.sw() - g.pw() + j;
                            if (iy >= 0 && iy < g.h() && ix >= 0 && ix < g.w()) {
                                dx[p * g.inSize() + iy * g.w() + ix] += share;
                            }
                        }
                    }
                }
            }
        }
    }

    // ---- fast path: windows clipped once, parallel over planes ----

    /**
     * Fast MAX forward with argmax. The obvious loop ({@code if (v > best)} per element) mispredicts
     * about half its branches on real activations, and C2 does not turn that float compare into a
     * conditional move. So for the common 2x2 and 3x3 windows that lie wholly inside the image, values
     * are compared as integers ({@link #orderKey}, same order as the floats), the winner is selected
     * with arithmetic, no branch, and the window is reduced as a tree (each row, then the rows), which
     * keeps the dependency chains short. Other windows (other sizes, clipped by padding or by ceil
     * rounding) go through the plain loop. Ties keep the first position in row-major order, as Caffe's
     * {@code >} does; {@code y} is the winner's own value.
     */
    public static void maxForward(Parallel par, Geom g, int planes, float[] x, float[] y, int[] mask) {
        final int oh = g.outH(), ow = g.outW(), in = g.inSize(), h = g.h(), w = g.w();
        final int kh = g.kh(), kw = g.kw(), sh = g.sh(), sw = g.sw(), ph = g.ph(), pw = g.pw();
        final int square = kh == kw && (kh == 2 || kh == 3) ? kh : 0;
        // Output columns lo..hi have windows inside the image horizontally.
        final int lo = Math.min(ow, Math.ceilDiv(pw, sw));
        final int hi = w + pw - kw < 0 ? lo : Math.max(lo, Math.min(ow, Math.floorDiv(w + pw - kw, sw) + 1));
        par.forChunks(planes, (long) oh * ow * kh * kw, (chunk, p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int xb = p * in;
                for (int oy = 0; oy < oh; oy++) {
                    int yr = (p * oh + oy) * ow;
                    int y0 = oy * sh - ph;
                    int r0 = Math.max(y0, 0), r1 = Math.min(y0 + kh, h);
                    int fastFrom = square != 0 && r1 - r0 == kh ? lo : ow;
                    int fastTo = fastFrom == ow ? ow : hi;
                    for (int ox = 0; ox < fastFrom; ox++) {
                        mask[yr + ox] = maxWindow(x, xb, w, r0, r1, ox * sw - pw, kw);
                    }
                    if (square == 2) {
                        for (int ox = fastFrom; ox < fastTo; ox++) {
                            mask[yr + ox] = max2x2(x, xb, r0 * w + ox * sw - pw, w);
                        }
                    } else if (square == 3) {
                        for (int ox = fastFrom; ox < fastTo; ox++) {
                            mask[yr + ox] = max3x3(x, xb, r0 * w + ox * sw - pw, w);
                        }
                    }
                    for (int ox = fastTo; ox < ow; ox++) {
                        mask[yr + ox] = maxWindow(x, xb, w, r0, r1, ox * sw - pw, kw);
                    }
                    for (int ox = 0; ox < ow; ox++) {
                        y[yr + ox] = x[xb + mask[yr + ox]];
                    }
                }
            }
        });
    }

    /** The first position of the largest value in rows r0..r1 and columns x0..x0+kw clipped to the image. */
    private static int maxWindow(float[] x, int xb, int w, int r0, int r1, int x0, int kw) {
        int c0 = Math.max(x0, 0), c1 = Math.min(x0 + kw, w);
        int arg = r0 * w + c0;
        float best = x[xb + arg];
        for (int iy = r0; iy < r1; iy++) {
            for (int ix = c0; ix < c1; ix++) {
                float v = x[xb + iy * w + ix];
                if (v > best) {
                    best = v;
                    arg = iy * w + ix;
                }
            }
        }
        return arg;
    }

    /** {@link #maxWindow} for a 2x2 window at plane offset {@code i} (wholly inside the image). */
    private static int max2x2(float[] x, int xb, int i, int w) {
        int j = i + w;
        int a = orderKey(x[xb + i]), b = orderKey(x[xb + i + 1]);
        int c = orderKey(x[xb + j]), d = orderKey(x[xb + j + 1]);
        int g0 = later(a, b), g1 = later(c, d);
        int top = pick(a, b, g0), bottom = pick(c, d, g1);
        return pick(i + (g0 & 1), j + (g1 & 1), later(top, bottom));
    }

    /** {@link #maxWindow} for a 3x3 window at plane offset {@code i} (wholly inside the image). */
    private static int max3x3(float[] x, int xb, int i, int w) {
        int j = i + w, k = j + w;
        int a0 = orderKey(x[xb + i]), a1 = orderKey(x[xb + i + 1]), a2 = orderKey(x[xb + i + 2]);
        int b0 = orderKey(x[xb + j]), b1 = orderKey(x[xb + j + 1]), b2 = orderKey(x[xb + j + 2]);
        int c0 = orderKey(x[xb + k]), c1 = orderKey(x[xb + k + 1]), c2 = orderKey(x[xb + k + 2]);
        // Each row: its first two, then the third; positions as 0, 1, 2 within the row.
        int ga = later(a0, a1), gb = later(b0, b1), gc = later(c0, c1);
        int ka = pick(a0, a1, ga), kb = pick(b0, b1, gb), kc = pick(c0, c1, gc);
        int ha = later(ka, a2), hb = later(kb, b2), hc = later(kc, c2);
        int ia = pick(i + (ga & 1), i + 2, ha), ib = pick(j + (gb & 1), j + 2, hb), ic = pick(k + (gc & 1), k + 2, hc);
        ka = pick(ka, a2, ha);
        kb = pick(kb, b2, hb);
        kc = pick(kc, c2, hc);
        // Then the rows, the upper one winning ties.
        int gab = later(ka, kb);
        int kab = pick(ka, kb, gab), iab = pick(ia, ib, gab);
        return pick(iab, ic, later(kab, kc));
    }

    /** -1 when {@code second > first} (the second wins), else 0; computed without a branch. */
    private static int later(int first, int second) {
        return (int) (((long) first - second) >> 63);
    }

    /** {@code second} where {@code mask} is -1, else {@code first}. */
    private static int pick(int first, int second, int mask) {
        return first ^ ((first ^ second) & mask);
    }

    /**
     * An int with the same order as the float: {@code a > b} exactly when {@code orderKey(a) >
     * orderKey(b)} (for non-NaN values; -0 and +0 get the same key, as they compare equal).
     */
    static int orderKey(float v) {
        int bits = Float.floatToRawIntBits(v + 0.0f); // -0 + 0 = +0
        return bits ^ ((bits >> 31) & 0x7fffffff);
    }

    public static void maxBackward(Parallel par, Geom g, int planes, float[] dy, int[] mask, float[] dx) {
        final int in = g.inSize(), out = g.outSize();
        par.forChunks(planes, in + out, (chunk, p0, p1) -> {
            Arrays.fill(dx, p0 * in, p1 * in, 0f);
            for (int p = p0; p < p1; p++) {
                int xb = p * in;
                int yb = p * out;
                for (int q = 0; q < out; q++) {
                    dx[xb + mask[yb + q]] += dy[yb + q];
                }
            }
        });
    }

    public static void aveForward(Parallel par, Geom g, int planes, float[] x, float[] y) {
        final int oh = g.outH(), ow = g.outW(), h = g.h(), w = g.w();
        par.forChunks(planes, (long) oh * ow * g.kh() * g.kw(), (chunk, p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int xb = p * h * w;
                int yb = p * oh * ow;
                for (int oy = 0; oy < oh; oy++) {
                    int y0 = oy * g.sh() - g.ph();
                    int y1 = Math.min(y0 + g.kh(), h + g.ph());
                    int rows = y1 - y0; // Caffe: the divisor counts padding, before clipping to the image
                    y0 = Math.max(y0, 0);
                    y1 = Math.min(y1, h);
                    for (int ox = 0; ox < ow; ox++) {
                        int x0 = ox * g.sw() - g.pw();
                        int x1 = Math.min(x0 + g.kw(), w + g.pw());
                        int size = rows * (x1 - x0);
                        x0 = Math.max(x0, 0);
                        x1 = Math.min(x1, w);
                        float sum = 0;
                        for (int iy = y0; iy < y1; iy++) {
                            int row = xb + iy * w;
                            for (int ix = x0; ix < x1; ix++) {
                                sum += x[row + ix];
                            }
                        }
                        y[yb + oy * ow + ox] = sum / size;
                    }
                }
            }
        });
    }

    public static void aveBackward(Parallel par, Geom g, int planes, float[] dy, float[] dx) {
        final int oh = g.outH(), ow = g.outW(), h = g.h(), w = g.w();
        par.forChunks(planes, (long) oh * ow * g.kh() * g.kw(), (chunk, p0, p1) -> {
            Arrays.fill(dx, p0 * h * w, p1 * h * w, 0f);
            for (int p = p0; p < p1; p++) {
                int xb = p * h * w;
                int yb = p * oh * ow;
                for (int oy = 0; oy < oh; oy++) {
                    int y0 = oy * g.sh() - g.ph();
                    int y1 = Math.min(y0 + g.kh(), h + g.ph());
                    int rows = y1 - y0;
                    y0 = Math.max(y0, 0);
                    y1 = Math.min(y1, h);
                    for (int ox = 0; ox < ow; ox++) {
                        int x0 = ox * g.sw() - g.pw();
                        int x1 = Math.min(x0 + g.kw(), w + g.pw());
                        float share = dy[yb + oy * ow + ox] / (rows * (x1 - x0));
                        x0 = Math.max(x0, 0);
                        x1 = Math.min(x1, w);
                        for (int iy = y0; iy < y1; iy++) {
                            int row = xb + iy * w;
                            for (int ix = x0; ix < x1; ix++) {
                                dx[row + ix] += share;
                            }
                        }
                    }
                }
            }
        });
    }
    // ---- stochastic (Caffe's STOCHASTIC; Caffe has it on the GPU only) -------------------------

    /**
     * Stochastic pooling in training (Zeiler and Fergus 2013, as Caffe's {@code StoPoolForwardTrain}):
     * in each window (Caffe ignores {@code pad} here: windows start at {@code o * stride} and are
     * clipped to the image) pick position i with probability {@code x_i / sum(x)} (inputs must be
     * non-negative, e.g. after a ReLU) and output {@code x_i}; {@code mask} records the position,
     * for {@link #maxBackward}. Caffe draws {@code u ~ U(0, 1)} and takes the first position whose
     * running sum reaches {@code u * sum}; {@code uniforms} holds one u per output.
     */
    public static void stochasticForwardTrain(Geom g, int planes, float[] x, float[] y, int[] mask, float[] uniforms) {
        int oh = g.outH(), ow = g.outW();
        for (int p = 0; p < planes; p++) {
            int xb = p * g.inSize();
            for (int oy = 0; oy < oh; oy++) {
                int y0 = oy * g.sh(), y1 = Math.min(y0 + g.kh(), g.h());
                for (int ox = 0; ox < ow; ox++) {
                    int x0 = ox * g.sw(), x1 = Math.min(x0 + g.kw(), g.w());
                    double sum = 0;
                    for (int iy = y0; iy < y1; iy++) {
                        for (int ix = x0; ix < x1; ix++) {
                            sum += x[xb + iy * g.w() + ix];
                        }
                    }
                    int q = (p * oh + oy) * ow + ox;
                    double thres = uniforms[q] * sum;
                    double run = 0;
                    int arg = y0 * g.w() + x0; // an all-zero window outputs its first (zero) value
                    search:
                    for (int iy = y0; iy < y1; iy++) {
                        for (int ix = x0; ix < x1; ix++) {
                            run += x[xb + iy * g.w() + ix];
                            if (run >= thres) {
                                arg = iy * g.w() + ix;
                                break search;
                            }
                        }
                    }
                    mask[q] = arg;
                    y[q] = x[xb + arg];
                }
            }
        }
    }

    /**
     * Stochastic pooling at test time (Caffe's {@code StoPoolForwardTest}): the probability-weighted
     * average {@code sum(x^2) / sum(x)} of each window, 0 where {@code sum(x) == 0}.
     */
    public static void stochasticForwardTest(Geom g, int planes, float[] x, float[] y) {
        int oh = g.outH(), ow = g.outW();
        for (int p = 0; p < planes; p++) {
            int xb = p * g.inSize();
            for (int oy = 0; oy < oh; oy++) {
                int y0 = oy * g.sh(), y1 = Math.min(y0 + g.kh(), g.h());
                for (int ox = 0; ox < ow; ox++) {
                    int x0 = ox * g.sw(), x1 = Math.min(x0 + g.kw(), g.w());
                    double sum = 0;
                    double sq = 0;
                    for (int iy = y0; iy < y1; iy++) {
                        for (int ix = x0; ix < x1; ix++) {
                            double v = x[xb + iy * g.w() + ix];
                            sum += v;
                            sq += v * v;
                        }
                    }
                    y[(p * oh + oy) * ow + ox] = sum > 0 ? (float) (sq / sum) : 0f;
                }
            }
        }
    }
}
