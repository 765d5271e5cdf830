package org.cortado.engine.ops;

/**
 * Grouped 2-D convolution over a batch, as im2col + GEMM per image (Caffe's scheme), parallel over
 * images. Shapes: {@code x (n, c, h, w)}, {@code w (outC, c/group, kh, kw)}, {@code b (outC)},
 * {@code y (n, outC, outH, outW)}.
 *
 * <p>Per image and group {@code gi}: {@code y[gi] = W[gi] (M x K) * col[gi] (K x P)} with
 * {@code M = outC/group}, {@code K = c/group*kh*kw}, {@code P = outH*outW}. Backward:
 * {@code dW[gi] += dy[gi] * col[gi]^T}, {@code db += sum_P dy}, {@code dcol[gi] = W[gi]^T * dy[gi]},
 * {@code dx = col2im(dcol)}. The column matrix is recomputed in backward rather than kept, so memory
 * stays at one column matrix per thread.
 */
public final class Conv {
    private Conv() {}

    /** Scratch owned by one convolution layer: column matrices and per-chunk gradient partial sums. */
    public static final class Workspace {
        final Scratch cols = new Scratch();
        final Scratch dcols = new Scratch();
        final Scratch dws = new Scratch();
        final Scratch dbs = new Scratch();
    }

    public static void forward(Parallel par, int n, ConvGeom g, int outC, int group,
                               float[] x, float[] w, float[] bias, float[] y, Workspace ws) {
        final int m = outC / group;
        final int k = g.colRows() / group;
        final int p = g.colCols();
        final int xSize = g.imageSize();
        final int ySize = outC * p;
        final long flops = 2L * outC * k * p;
        par.forChunks(n, flops, (chunk, i0, i1) -> {
            float[] col = g.isPointwise() ? null : ws.cols.get(chunk, g.colRows() * p);
            for (int i = i0; i < i1; i++) {
                float[] src = x;
                int srcOff = i * xSize;
                if (col != null) {
                    Im2col.im2col(g, x, i * xSize, col, 0);
                    src = col;
                    srcOff = 0;
                }
                for (int gi = 0; gi < group; gi++) {
                    Gemm.gemm(false, false, m, p, k, 1f, w, gi * m * k, k, src, srcOff + gi * k * p, p,
                            0f, y, i * ySize + gi * m * p, p);
                }
                if (bias != null) {
                    for (int o = 0; o < outC; o++) {
                        float bo = bias[o];
                        int base = i * ySize + o * p;
                        for (int q = 0; q < p; q++) {
                            y[base + q] += bo;
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
        final int m = outC / group;
        final int k = g.colRows() / group;
        final int p = g.colCols();
        final int xSize = g.imageSize();
        final int ySize = outC * p;
        final int wSize = outC * k;
        final long flops = 2L * outC * k * p * ((dw != null ? 1 : 0) + (dx != null ? 1 : 0));
        final int chunks = par.chunks(n, flops);
        par.forChunks(n, flops, (chunk, i0, i1) -> {
            float[] col = g.isPointwise() ? null : ws.cols.get(chunk, g.colRows() * p);
            float[] dcol = g.isPointwise() || dx == null ? null : ws.dcols.get(chunk, g.colRows() * p);
            // Chunk 0 may accumulate straight into dw/db; the others into partial sums added at the end.
            float[] dwAcc = dw == null ? null : chunk == 0 ? dw : ws.dws.zeroed(chunk, wSize);
            float[] dbAcc = db == null ? null : chunk == 0 ? db : ws.dbs.zeroed(chunk, outC);
            for (int i = i0; i < i1; i++) {
                int yOff = i * ySize;
                if (dwAcc != null) {
                    float[] src = x;
                    int srcOff = i * xSize;
                    if (col != null) {
                        Im2col.im2col(g, x, i * xSize, col, 0);
                        src = col;
                        srcOff = 0;
                    }
                    for (int gi = 0; gi < group; gi++) {
                        Gemm.gemm(false, true, m, k, p, 1f, dy, yOff + gi * m * p, p, src, srcOff + gi * k * p, p,
                                1f, dwAcc, gi * m * k, k);
                    }
                }
                if (dbAcc != null) {
                    for (int o = 0; o < outC; o++) {
                        double s = 0;
                        int base = yOff + o * p;
                        for (int q = 0; q < p; q++) {
                            s += dy[base + q];
                        }
                        dbAcc[o] += (float) s;
                    }
                }
                if (dx != null) {
                    float[] dst = dcol == null ? dx : dcol;
                    int dstOff = dcol == null ? i * xSize : 0;
                    for (int gi = 0; gi < group; gi++) {
                        Gemm.gemm(true, false, k, p, m, 1f, w, gi * m * k, k, dy, yOff + gi * m * p, p,
                                0f, dst, dstOff + gi * k * p, p);
                    }
                    if (dcol != null) {
                        Im2col.col2im(g, dcol, 0, dx, i * xSize);
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
