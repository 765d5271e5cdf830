package org.cortado.engine.augment;

import java.util.ArrayList;
import java.util.List;

/**
 * A list of steps compiled for one input shape and storage (uint8 or float32) into as few passes
 * over each image as the steps allow.
 *
 * <p>The passes ("kernels"):
 * <ul>
 *   <li><b>gather</b>: a run of geometric steps (pad, crops, flips, the crop and mirror of
 *       {@code caffe}) composed into row and column {@link Tables}, fused with the per-channel affine
 *       steps that follow ({@code scale}, {@code normalize}, the mean and scale of {@code caffe}).
 *       One read per output pixel: {@code out = (in(c, rows[y], cols[x]) - m[c]) * s[c] + t[c]};
 *       padding is a read outside the image that yields the fill, so no padded copy is ever made.
 *       pad 4 + random crop + flip + normalize is one such pass, uint8 in, float32 out.</li>
 *   <li><b>resize</b>: {@code random_resized_crop} ({@link Resample}); on uint8 input it writes uint8.</li>
 *   <li><b>in place</b>: {@code color_jitter}, {@code random_erasing}, and an affine step that follows
 *       one of them, on float32 pixels.</li>
 * </ul>
 * uint8 stays uint8 through geometric passes and converts to float32 exactly once, in the gather
 * pass before the first arithmetic step (or at the end). A caffe step with a {@code mean_file} ends
 * its gather run: its per-pixel mean is read at the caffe step's own crop offsets, from the tables of
 * the caffe step alone (computed with the same draws).
 *
 * <p>Immutable and shared between threads; each thread brings its own {@link Workspace}.
 */
final class Plan {
    final int[] in;
    final int[] out;
    final boolean bytesIn;
    private final Kernel[] kernels;
    private final int lastWriter;
    private final int bufElements;

    private Plan(int[] in, int[] out, boolean bytesIn, List<Kernel> kernels) {
        this.in = in;
        this.out = out;
        this.bytesIn = bytesIn;
        this.kernels = kernels.toArray(new Kernel[0]);
        int last = -1;
        int buf = 0;
        for (int k = 0; k < this.kernels.length; k++) {
            if (!this.kernels[k].inPlace()) {
                last = k;
            }
            buf = Math.max(buf, count(this.kernels[k].out));
        }
        this.lastWriter = last;
        this.bufElements = buf;
    }

    /** Compiles {@code steps} (with their indexes in the phase's list) for inputs of shape {@code in}. */
    static Plan compile(List<Step> steps, int[] in, boolean bytesIn) {
        List<Kernel> kernels = new ArrayList<>();
        int[] shape = in.clone();
        boolean bytes = bytesIn;
        boolean atInput = true; // nothing has run yet: the pixels are still the caller's
        double valueMax = bytesIn ? 255 : 1;
        GatherBuilder g = null;
        for (int k = 0; k < steps.size(); k++) {
            Step step = steps.get(k);
            int[] next = step.outputShape(shape);
            if (step instanceof Step.Geometric geo) {
                if (g != null && g.closed) {
                    kernels.add(g.build(false));
                    g = null;
                    bytes = false;
                    atInput = false;
                }
                if (g == null) {
                    g = new GatherBuilder(shape, bytes);
                }
                g.addGeometric(geo, k, shape, next);
                if (geo instanceof CaffeTransform ct) {
                    g.addCaffe(ct, k, shape);
                }
            } else if (step instanceof Step.Affine a) {
                if (g != null) {
                    g.addAffine(a);
                } else if (atInput || bytes) {
                    g = new GatherBuilder(shape, bytes);
                    g.addAffine(a);
                } else {
                    kernels.add(new AffineInPlace(a, shape));
                }
                if (a instanceof Scale s) {
                    valueMax *= s.scale();
                }
            } else if (step instanceof RandomResizedCrop r) {
                if (g != null) {
                    boolean keepBytes = bytes && !g.closed;
                    kernels.add(g.build(keepBytes));
                    g = null;
                    bytes = keepBytes;
                }
                kernels.add(new Resize(r, k, shape, next, bytes));
                atInput = false;
            } else if (step instanceof Step.InPlace op) {
                if (g != null) {
                    kernels.add(g.build(false));
                    g = null;
                } else if (atInput || bytes) {
                    kernels.add(new GatherBuilder(shape, bytes).build(false));
                }
                bytes = false;
                atInput = false;
                kernels.add(new InPlaceStep(op, k, shape, valueMax));
            } else {
                throw new IllegalStateException("unhandled step " + step);
            }
            shape = next;
        }
        if (g != null) {
            kernels.add(g.build(false));
        } else if (atInput || bytes) {
            kernels.add(new GatherBuilder(shape, bytes).build(false));
        }
        return new Plan(in.clone(), shape, bytesIn, kernels);
    }

    /** Scratch for one thread. */
    Workspace workspace() {
        return new Workspace(this);
    }

    /**
     * Augments one sample: the (C, H, W) input at {@code inB[inOff..]} (uint8) or {@code inF[inOff..]}
     * (float32) into {@code out[outOff..]} (the output (C, H, W)).
     */
    void run(long sampleSeed, byte[] inB, float[] inF, int inOff, float[] outF, int outOff, Workspace ws) {
        byte[] curB = inB;
        float[] curF = inF;
        int cur = inOff;
        int next = 0;
        for (int k = 0; k < kernels.length; k++) {
            Kernel kernel = kernels[k];
            if (kernel.inPlace()) {
                kernel.run(sampleSeed, null, curF, cur, null, curF, cur, ws.scratch[k], ws.rng);
                continue;
            }
            byte[] dstB = null;
            float[] dstF = null;
            int dst = 0;
            if (k == lastWriter) {
                dstF = outF;
                dst = outOff;
            } else if (kernel.bytesOut) {
                dstB = ws.bytes[next];
            } else {
                dstF = ws.floats[next];
            }
            next ^= 1;
            kernel.run(sampleSeed, curB, curF, cur, dstB, dstF, dst, ws.scratch[k], ws.rng);
            curB = dstB;
            curF = dstF;
            cur = dst;
        }
    }

    /** Ping-pong buffers for the intermediate images, each kernel's scratch, and a random stream. */
    static final class Workspace {
        final byte[][] bytes;
        final float[][] floats;
        final Object[] scratch;
        final SampleRandom rng = new SampleRandom();

        Workspace(Plan p) {
            bytes = new byte[][] {new byte[p.bufElements], new byte[p.bufElements]};
            floats = new float[][] {new float[p.bufElements], new float[p.bufElements]};
            scratch = new Object[p.kernels.length];
            for (int k = 0; k < p.kernels.length; k++) {
                scratch[k] = p.kernels[k].scratch();
            }
        }
    }

    private static int count(int[] s) {
        return s[0] * s[1] * s[2];
    }

    /** One pass over a sample. */
    abstract static class Kernel {
        final int[] in;
        final int[] out;
        final boolean bytesOut;

        Kernel(int[] in, int[] out, boolean bytesOut) {
            this.in = in.clone();
            this.out = out.clone();
            this.bytesOut = bytesOut;
        }

        boolean inPlace() {
            return false;
        }

        Object scratch() {
            return null;
        }

        /** Reads the input at {@code src*[srcOff..]} and writes the output at {@code dst*[dstOff..]}; in-place kernels get the same array twice. */
        abstract void run(long sampleSeed, byte[] srcB, float[] srcF, int srcOff, byte[] dstB, float[] dstF, int dstOff,
                          Object scratch, SampleRandom rng);
    }

    /** Collects a run of geometric steps and the affine steps after it. */
    private static final class GatherBuilder {
        final int[] in;
        final boolean bytesIn;
        final List<Step.Geometric> steps = new ArrayList<>();
        final List<Integer> indexes = new ArrayList<>();
        final List<int[]> inShapes = new ArrayList<>();
        final List<double[]> fills = new ArrayList<>();
        final List<Integer> fillCodes = new ArrayList<>();
        int[] out;
        int maxDim;
        CaffeTransform meanStep;
        int meanIndex;
        int[] meanIn;
        /** y = (x - m) * s + t; identity until an affine step is added. */
        double[] m;
        double[] s;
        double[] t;
        /** True once an affine step (or caffe) is in: no geometric step may follow in this pass. */
        boolean closed;

        GatherBuilder(int[] in, boolean bytesIn) {
            this.in = in.clone();
            this.out = in.clone();
            this.bytesIn = bytesIn;
            this.maxDim = Math.max(in[1], in[2]);
            int c = in[0];
            m = new double[c];
            s = new double[c];
            t = new double[c];
            java.util.Arrays.fill(s, 1);
        }

        void addGeometric(Step.Geometric geo, int index, int[] shape, int[] next) {
            steps.add(geo);
            indexes.add(index);
            inShapes.add(shape.clone());
            double[] f = geo.fill();
            int code = 0;
            if (f != null) {
                fills.add(Steps.perChannel(geo.path() + ".fill", f, shape[0]));
                code = -fills.size(); // slot n - 1 is written -n, see Tables
            }
            fillCodes.add(code);
            // Padding may make an intermediate image larger than either end.
            maxDim = Math.max(maxDim, Math.max(Math.max(shape[1], shape[2]), Math.max(next[1], next[2])));
            if (geo instanceof RandomCrop rc) {
                maxDim = Math.max(maxDim, Math.max(shape[1] + rc.padding().top() + rc.padding().bottom(),
                        shape[2] + rc.padding().left() + rc.padding().right()));
            }
            out = next.clone();
        }

        void addCaffe(CaffeTransform ct, int index, int[] shape) {
            if (ct.mean() != null) {
                meanStep = ct;
                meanIndex = index;
                meanIn = shape.clone();
            }
            addAffine(ct);
        }

        void addAffine(Step.Affine a) {
            int c = in[0];
            double[] m2 = new double[c];
            double[] s2 = new double[c];
            double[] t2 = new double[c];
            a.affine(c, m2, s2, t2);
            if (!closed) {
                m = m2;
                s = s2;
                t = t2;
            } else {
                // ((x - m) s + t - m2) s2 + t2 = (x - m) (s s2) + (t - m2) s2 + t2
                for (int i = 0; i < c; i++) {
                    t[i] = (t[i] - m2[i]) * s2[i] + t2[i];
                    s[i] *= s2[i];
                }
            }
            closed = true;
        }

        Gather build(boolean bytesOut) {
            return new Gather(this, bytesOut);
        }
    }

    /** The fused geometric + affine pass; see the class comment. */
    static final class Gather extends Kernel {
        private final Step.Geometric[] steps;
        private final int[] indexes;
        private final int[][] inShapes;
        private final int[] fillCodes;
        private final int maxDim;
        private final boolean bytesIn;
        private final float[] m;
        private final float[] s;
        private final float[] t;
        /** Fill value per slot and channel, as read from the image (uint8: rounded and clamped). */
        private final float[][] fillRaw;
        /** The same after the affine map: what a fill pixel becomes in a float output. */
        private final float[][] fillOut;
        private final CaffeTransform meanStep;
        private final int meanIndex;
        private final int[] meanIn;

        Gather(GatherBuilder b, boolean bytesOut) {
            super(b.in, b.out, bytesOut);
            if (bytesOut && (!b.bytesIn || b.closed)) {
                throw new IllegalStateException("a uint8 output needs uint8 input and no arithmetic");
            }
            steps = b.steps.toArray(new Step.Geometric[0]);
            indexes = b.indexes.stream().mapToInt(Integer::intValue).toArray();
            inShapes = b.inShapes.toArray(new int[0][]);
            fillCodes = b.fillCodes.stream().mapToInt(Integer::intValue).toArray();
            maxDim = b.maxDim;
            bytesIn = b.bytesIn;
            int channels = b.in[0];
            m = toFloats(b.m);
            s = toFloats(b.s);
            t = toFloats(b.t);
            fillRaw = new float[b.fills.size()][channels];
            fillOut = new float[b.fills.size()][channels];
            for (int slot = 0; slot < fillRaw.length; slot++) {
                for (int c = 0; c < channels; c++) {
                    double f = b.fills.get(slot)[c];
                    fillRaw[slot][c] = bytesIn ? (float) Math.max(0, Math.min(255, Math.rint(f))) : (float) f;
                    fillOut[slot][c] = (fillRaw[slot][c] - m[c]) * s[c] + t[c];
                }
            }
            meanStep = b.meanStep;
            meanIndex = b.meanIndex;
            meanIn = b.meanIn;
        }

        private static float[] toFloats(double[] v) {
            float[] f = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                f[i] = (float) v[i];
            }
            return f;
        }

        @Override
        Object scratch() {
            return new Tables[] {new Tables(maxDim), new Tables(maxDim)};
        }

        @Override
        void run(long sampleSeed, byte[] srcB, float[] srcF, int srcOff, byte[] dstB, float[] dstF, int dstOff,
                 Object scratch, SampleRandom rng) {
            Tables[] tt = (Tables[]) scratch;
            Tables tab = tt[0];
            tab.identity(in[1], in[2]);
            int geometric = meanStep != null ? steps.length - 1 : steps.length;
            for (int k = 0; k < geometric; k++) {
                rng.reset(SampleRandom.stepSeed(sampleSeed, indexes[k]));
                steps[k].remap(inShapes[k], tab, rng, fillCodes[k]);
            }
            if (meanStep != null) {
                // The caffe step alone, on identity tables of its own input: where its mean pixels are.
                Tables local = tt[1];
                local.identity(meanIn[1], meanIn[2]);
                rng.reset(SampleRandom.stepSeed(sampleSeed, meanIndex));
                meanStep.remap(meanIn, local, rng, 0);
                tab.composeRows(local.rows, local.h);
                tab.composeCols(local.cols, local.w);
                gatherWithMean(tab, local, srcB, srcF, srcOff, dstF, dstOff);
            } else if (bytesOut) {
                gatherBytes(tab, srcB, srcOff, dstB, dstOff);
            } else if (srcB != null) {
                gatherFromBytes(tab, srcB, srcOff, dstF, dstOff);
            } else {
                gatherFromFloats(tab, srcF, srcOff, dstF, dstOff);
            }
        }

        private void gatherFromBytes(Tables tab, byte[] src, int srcOff, float[] dst, int dstOff) {
            int[] rows = tab.rows;
            int[] cols = tab.cols;
            int oh = tab.h;
            int ow = tab.w;
            int o = dstOff;
            for (int c = 0; c < in[0]; c++) {
                float mc = m[c];
                float sc = s[c];
                float tc = t[c];
                int plane = srcOff + c * in[1] * in[2];
                for (int y = 0; y < oh; y++) {
                    int r = rows[y];
                    if (r >= 0) {
                        int base = plane + r * in[2];
                        for (int x = 0; x < ow; x++) {
                            int cx = cols[x];
                            dst[o++] = cx >= 0 ? ((src[base + cx] & 0xff) - mc) * sc + tc : fillOut[-cx - 1][c];
                        }
                    } else {
                        for (int x = 0; x < ow; x++) {
                            dst[o++] = fillOut[-Math.min(r, cols[x]) - 1][c];
                        }
                    }
                }
            }
        }

        private void gatherFromFloats(Tables tab, float[] src, int srcOff, float[] dst, int dstOff) {
            int[] rows = tab.rows;
            int[] cols = tab.cols;
            int oh = tab.h;
            int ow = tab.w;
            int o = dstOff;
            for (int c = 0; c < in[0]; c++) {
                float mc = m[c];
                float sc = s[c];
                float tc = t[c];
                int plane = srcOff + c * in[1] * in[2];
                for (int y = 0; y < oh; y++) {
                    int r = rows[y];
                    if (r >= 0) {
                        int base = plane + r * in[2];
                        for (int x = 0; x < ow; x++) {
                            int cx = cols[x];
                            dst[o++] = cx >= 0 ? (src[base + cx] - mc) * sc + tc : fillOut[-cx - 1][c];
                        }
                    } else {
                        for (int x = 0; x < ow; x++) {
                            dst[o++] = fillOut[-Math.min(r, cols[x]) - 1][c];
                        }
                    }
                }
            }
        }

        private void gatherBytes(Tables tab, byte[] src, int srcOff, byte[] dst, int dstOff) {
            int[] rows = tab.rows;
            int[] cols = tab.cols;
            int o = dstOff;
            for (int c = 0; c < in[0]; c++) {
                int plane = srcOff + c * in[1] * in[2];
                for (int y = 0; y < tab.h; y++) {
                    int r = rows[y];
                    int base = plane + r * in[2];
                    for (int x = 0; x < tab.w; x++) {
                        int cx = cols[x];
                        int k = Math.min(r, cx);
                        dst[o++] = k >= 0 ? src[base + cx] : (byte) fillRaw[-k - 1][c];
                    }
                }
            }
        }

        /** Caffe's {@code (x - mean(c, h_off + y, w_off + x)) * scale}, then the affine steps after it. */
        private void gatherWithMean(Tables tab, Tables local, byte[] srcB, float[] srcF, int srcOff, float[] dst, int dstOff) {
            float[] mean = meanStep.mean();
            int mh = meanIn[1];
            int mw = meanIn[2];
            int o = dstOff;
            for (int c = 0; c < in[0]; c++) {
                int plane = srcOff + c * in[1] * in[2];
                for (int y = 0; y < tab.h; y++) {
                    int r = tab.rows[y];
                    int meanRow = (c * mh + local.rows[y]) * mw;
                    for (int x = 0; x < tab.w; x++) {
                        int cx = tab.cols[x];
                        int k = Math.min(r, cx);
                        float v;
                        if (k < 0) {
                            v = fillRaw[-k - 1][c];
                        } else if (srcB != null) {
                            v = srcB[plane + r * in[2] + cx] & 0xff;
                        } else {
                            v = srcF[plane + r * in[2] + cx];
                        }
                        dst[o++] = ((v - mean[meanRow + local.cols[x]]) - m[c]) * s[c] + t[c];
                    }
                }
            }
        }
    }

    /** {@code random_resized_crop}. */
    static final class Resize extends Kernel {
        private final RandomResizedCrop step;
        private final int index;

        Resize(RandomResizedCrop step, int index, int[] in, int[] out, boolean bytes) {
            super(in, out, bytes);
            this.step = step;
            this.index = index;
        }

        @Override
        Object scratch() {
            return new Resample.Scratch(in, out[1], out[2]);
        }

        @Override
        void run(long sampleSeed, byte[] srcB, float[] srcF, int srcOff, byte[] dstB, float[] dstF, int dstOff,
                 Object scratch, SampleRandom rng) {
            Resample.Scratch s = (Resample.Scratch) scratch;
            rng.reset(SampleRandom.stepSeed(sampleSeed, index));
            RandomResizedCrop.box(in[1], in[2], step.scale(), step.ratio(), rng, s.box);
            Resample.resize(srcB, srcF, srcOff, in, s.box[0], s.box[1], s.box[2], s.box[3], out[1], out[2],
                    step.antialias(), dstB, dstF, dstOff, s);
        }
    }

    /** {@code color_jitter}, {@code random_erasing}. */
    static final class InPlaceStep extends Kernel {
        private final Step.InPlace step;
        private final int index;
        private final double valueMax;

        InPlaceStep(Step.InPlace step, int index, int[] shape, double valueMax) {
            super(shape, shape, false);
            this.step = step;
            this.index = index;
            this.valueMax = valueMax;
        }

        @Override
        boolean inPlace() {
            return true;
        }

        @Override
        void run(long sampleSeed, byte[] srcB, float[] srcF, int srcOff, byte[] dstB, float[] dstF, int dstOff,
                 Object scratch, SampleRandom rng) {
            rng.reset(SampleRandom.stepSeed(sampleSeed, index));
            step.apply(dstF, dstOff, in, rng, valueMax);
        }
    }

    /** An affine step after an in-place one: {@code y = (x - m) * s + t} on the float pixels. */
    static final class AffineInPlace extends Kernel {
        private final float[] m;
        private final float[] s;
        private final float[] t;

        AffineInPlace(Step.Affine a, int[] shape) {
            super(shape, shape, false);
            int c = shape[0];
            double[] md = new double[c];
            double[] sd = new double[c];
            double[] td = new double[c];
            a.affine(c, md, sd, td);
            m = Gather.toFloats(md);
            s = Gather.toFloats(sd);
            t = Gather.toFloats(td);
        }

        @Override
        boolean inPlace() {
            return true;
        }

        @Override
        void run(long sampleSeed, byte[] srcB, float[] srcF, int srcOff, byte[] dstB, float[] dstF, int dstOff,
                 Object scratch, SampleRandom rng) {
            int plane = in[1] * in[2];
            for (int c = 0; c < in[0]; c++) {
                float mc = m[c];
                float sc = s[c];
                float tc = t[c];
                for (int i = dstOff + c * plane; i < dstOff + (c + 1) * plane; i++) {
                    dstF[i] = (dstF[i] - mc) * sc + tc;
                }
            }
        }
    }
}
