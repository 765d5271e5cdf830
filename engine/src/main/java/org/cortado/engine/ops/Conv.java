package org.cortado.engine.ops;

/**
 * Grouped 2-D convolution over a batch as im2col + GEMM (Caffe's scheme), parallel over images.
 * Shapes: {@code x (n, c, h, w)}, {@code w (outC, c/group, kh, kw)}, {@code b (outC)},
 * {@code y (n, outC, outH, outW)}.
 *
 * <p>Per group {@code gi}: {@code y[gi] = W[gi] (M x K) * col[gi] (K x P)} with {@code M = outC/group},
 * {@code K = c/group*kh*kw}, {@code P = outH*outW}. Backward: {@code dW[gi] += dy[gi] * col[gi]^T},
 * {@code db += sum_P dy}, {@code dcol[gi] = W[gi]^T * dy[gi]}, {@code dx = col2im(dcol)}.
 *
 * <p>Speed: for small images one image's GEMM is too narrow for BLAS to run well (LeNet's conv2 is
 * 50 x 64 x 500), so each thread puts a sub-batch of {@code nb} images side by side in one column
 * matrix {@code (K, nb*P)} (bounded by {@link #COL_BUDGET} floats) and runs one wide GEMM; the output
 * {@code (M, nb*P)} is then scattered to NCHW (and dy gathered the other way in backward). With
 * {@code nb == 1} (large images) the GEMM writes NCHW directly. The column matrix is recomputed in
 * backward rather than kept from forward, so memory stays at one column matrix per thread.
 * {@code ConvolutionTest} checks all of this against the direct definition of convolution.
 */
public final class Conv {
    /** Upper bound on one thread's column matrix, in floats (4 MiB): enough width for BLAS, cache-friendly. */
    static final int COL_BUDGET = 1 << 20;

    private Conv() {}

    /** Scratch owned by one convolution layer: column matrices, staging, per-chunk gradient sums. */
    public static final class Workspace {
        final Scratch cols = new Scratch();
        final Scratch dcols = new Scratch();
        final Scratch ys = new Scratch();
        final Scratch dws = new Scratch();
        final Scratch dbs = new Scratch();
        private DnnlConv dnnl;
        /** The geometry {@link #dnnl} was made (or refused, when null) for. */
        private DnnlConv.Key dnnlKey;

        /** Which oneDNN implementations the last call used, or "im2col + GEMM". */
        public String implementation() {
            return dnnl != null ? "oneDNN " + dnnl.implementations() : "im2col + GEMM";
        }

        /** The oneDNN plan for this call's geometry (made once per geometry), or null to use im2col + GEMM. */
        DnnlConv dnnl(int n, ConvGeom g, int outC, int group, boolean bias) {
            if (!dnnlEnabled) {
                return null;
            }
            DnnlConv.Key key = new DnnlConv.Key(n, g, outC, group, bias);
            if (!key.equals(dnnlKey)) {
                dnnl = DnnlConv.create(key);
                dnnlKey = key;
            }
            return dnnl;
        }
    }

    private static volatile boolean dnnlEnabled = true;

    /**
     * Whether convolutions may run on oneDNN (default: yes, where its natives load). Off, every
     * convolution uses im2col + GEMM: for tests of that path and for side-by-side benchmarks.
     */
    public static void setDnnlEnabled(boolean enabled) {
        dnnlEnabled = enabled;
    }

    public static boolean dnnlEnabled() {
        return dnnlEnabled;
    }

    /** Null when convolutions can run on oneDNN, else why not. */
    public static String dnnlUnavailableReason() {
        return Dnnl.unavailableReason();
    }

    /** Images per sub-batch: as many as fit {@link #COL_BUDGET}, at least 1, at most {@code chunk}. */
    static int subBatch(ConvGeom g, int chunk) {
        long perImage = (long) g.colRows() * g.colCols();
        return (int) Math.max(1, Math.min(chunk, COL_BUDGET / Math.max(1, perImage)));
    }

    public static void forward(Parallel par, int n, ConvGeom g, int outC, int group,
                               float[] x, float[] w, float[] bias, float[] y, Workspace ws) {
        DnnlConv plan = ws.dnnl(n, g, outC, group, bias != null);
        if (plan != null) {
            plan.forward(par, x, w, bias, y);
            return;
        }
        final int m = outC / group;
        final int k = g.colRows() / group;
        final int p = g.colCols();
        final int xSize = g.imageSize();
        final int ySize = outC * p;
        par.forChunks(n, 2L * outC * k * p, (chunk, i0, i1) -> {
            int nb = subBatch(g, i1 - i0);
            float[] col = ws.cols.get(chunk, g.colRows() * p * nb);
            float[] stage = nb > 1 ? ws.ys.get(chunk, ySize * nb) : null;
            for (int s = i0; s < i1; s += nb) {
                int cnt = Math.min(nb, i1 - s);
                int ld = cnt * p;
                for (int j = 0; j < cnt; j++) {
                    Im2col.im2col(g, x, (s + j) * xSize, col, j * p, ld);
                }
                float[] out = cnt > 1 ? stage : y;
                int outOff = cnt > 1 ? 0 : s * ySize;
                for (int gi = 0; gi < group; gi++) {
                    // (M, K) x (K, cnt*P) -> (M, cnt*P)
                    Gemm.gemm(false, false, m, ld, k, 1f, w, gi * m * k, k, col, gi * k * ld, ld,
                            0f, out, outOff + gi * m * ld, ld);
                }
                for (int j = 0; j < cnt; j++) {
                    for (int o = 0; o < outC; o++) {
                        int dst = (s + j) * ySize + o * p;
                        if (cnt > 1) {
                            System.arraycopy(stage, o * ld + j * p, y, dst, p);
                        }
                        if (bias != null) {
                            float bo = bias[o];
                            for (int q = 0; q < p; q++) {
                                y[dst + q] += bo;
                            }
                        }
                    }
                }
            }
        });
    }

    /**
     * Backward pass. {@code dw} and {@code db} (either may be null) are <em>accumulated</em> into;
     * {@code dx} (may be null) is overwritten.
     */
    public static void backward(Parallel par, int n, ConvGeom g, int outC, int group,
                                float[] x, float[] w, float[] dy, float[] dw, float[] db, float[] dx,
                                Workspace ws) {
        DnnlConv plan = ws.dnnl(n, g, outC, group, db != null);
        if (plan != null) {
            plan.backward(par, x, w, dy, dw, db, dx, ws.dws.get(0, plan.scratchFloats()));
            return;
        }
        final int m = outC / group;
        final int k = g.colRows() / group;
        final int p = g.colCols();
        final int xSize = g.imageSize();
        final int ySize = outC * p;
        final int wSize = outC * k;
        final long flops = 2L * outC * k * p * ((dw != null ? 1 : 0) + (dx != null ? 1 : 0));
        final int chunks = par.chunks(n, flops);
        par.forChunks(n, flops, (chunk, i0, i1) -> {
            int nb = subBatch(g, i1 - i0);
            float[] col = ws.cols.get(chunk, g.colRows() * p * nb);
            float[] dcol = dx == null ? null : ws.dcols.get(chunk, g.colRows() * p * nb);
            float[] stage = nb > 1 ? ws.ys.get(chunk, ySize * nb) : null;
            // Chunk 0 accumulates straight into dw/db; the others into partial sums added at the end.
            float[] dwAcc = dw == null ? null : chunk == 0 ? dw : ws.dws.zeroed(chunk, wSize);
            float[] dbAcc = db == null ? null : chunk == 0 ? db : ws.dbs.zeroed(chunk, outC);
            for (int s = i0; s < i1; s += nb) {
                int cnt = Math.min(nb, i1 - s);
                int ld = cnt * p;
                // dy of the sub-batch as (outC, cnt*P)
                float[] g2 = dy;
                int gOff = s * ySize;
                if (cnt > 1) {
                    for (int j = 0; j < cnt; j++) {
                        for (int o = 0; o < outC; o++) {
                            System.arraycopy(dy, (s + j) * ySize + o * p, stage, o * ld + j * p, p);
                        }
                    }
                    g2 = stage;
                    gOff = 0;
                }
                if (dbAcc != null) {
                    for (int o = 0; o < outC; o++) {
                        double acc = 0;
                        int base = gOff + o * ld;
                        for (int q = 0; q < ld; q++) {
                            acc += g2[base + q];
                        }
                        dbAcc[o] += (float) acc;
                    }
                }
                if (dwAcc != null) {
                    for (int j = 0; j < cnt; j++) {
                        Im2col.im2col(g, x, (s + j) * xSize, col, j * p, ld);
                    }
                    for (int gi = 0; gi < group; gi++) {
                        // (M, cnt*P) x (cnt*P, K) -> (M, K), accumulated
                        Gemm.gemm(false, true, m, k, ld, 1f, g2, gOff + gi * m * ld, ld, col, gi * k * ld, ld,
                                1f, dwAcc, gi * m * k, k);
                    }
                }
                if (dx != null) {
                    for (int gi = 0; gi < group; gi++) {
                        // (K, M) x (M, cnt*P) -> (K, cnt*P)
                        Gemm.gemm(true, false, k, ld, m, 1f, w, gi * m * k, k, g2, gOff + gi * m * ld, ld,
                                0f, dcol, gi * k * ld, ld);
                    }
                    for (int j = 0; j < cnt; j++) {
                        Im2col.col2im(g, dcol, j * p, ld, dx, (s + j) * xSize);
                    }
                }
            }
        });
        for (int c = 1; c < chunks; c++) {
            if (dw != null) {
                Elementwise.axpy(wSize, 1f, ws.dws.get(c, wSize), 0, dw, 0);
            }
            if (db != null) {
                Elementwise.axpy(outC, 1f, ws.dbs.get(c, outC), 0, db, 0);
            }
        }
    }
}
