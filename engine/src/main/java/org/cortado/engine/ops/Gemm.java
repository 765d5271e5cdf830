package org.cortado.engine.ops;

import org.cortado.engine.ShapeException;

/**
 * Matrix multiply, row-major: {@code C = alpha * op(A) * op(B) + beta * C}, with {@code op(A)} m x k,
 * {@code op(B)} k x n and C m x n; leading dimensions are the row strides of A, B, C as stored.
 *
 * <p>{@link #reference} is the specification (a plain triple loop, accumulating in double);
 * {@link #gemm} is the fast path (OpenBLAS, single-threaded per call), and {@link #gemm(Parallel, ...)}
 * splits the rows of C across the compute threads. Tests compare the fast paths with the reference on
 * random inputs.
 */
public final class Gemm {
    private Gemm() {}

    /** The reference GEMM: obviously correct, slow. */
    public static void reference(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                 float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                 float beta, float[] c, int cOff, int ldc) {
        check(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    float bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    s += (double) av * bv;
                }
                int ci = cOff + i * ldc + j;
                c[ci] = (float) (alpha * s + (beta == 0f ? 0.0 : (double) beta * c[ci]));
            }
        }
    }

    /** The fast GEMM on the calling thread. */
    public static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float beta, float[] c, int cOff, int ldc) {
        check(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        Blas.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    /**
     * The fast GEMM with C split across {@code par}'s threads: by rows when C is at least as tall as it
     * is wide, otherwise by column blocks of {@link #COLUMN_BLOCK}. Each thread packs only the part of
     * op(A) or op(B) its slice reads, so the split follows the larger dimension (an InnerProduct's
     * forward, batch x outputs, is usually wide).
     */
    public static void gemm(Parallel par, boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float beta, float[] c, int cOff, int ldc) {
        check(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (m >= n) {
            par.forChunks(m, 2L * n * k, (chunk, i0, i1) -> {
                // Rows i0..i1 of op(A): for A stored k x m (transA) they start at column i0.
                int aStart = aOff + (transA ? i0 : i0 * lda);
                Blas.sgemm(transA, transB, i1 - i0, n, k, alpha, a, aStart, lda, b, bOff, ldb,
                        beta, c, cOff + i0 * ldc, ldc);
            });
            return;
        }
        int blocks = Math.ceilDiv(n, COLUMN_BLOCK);
        par.forChunks(blocks, 2L * COLUMN_BLOCK * m * k, (chunk, q0, q1) -> {
            int j0 = q0 * COLUMN_BLOCK, j1 = Math.min(n, q1 * COLUMN_BLOCK);
            // Columns j0..j1 of op(B): for B stored n x k (transB) they start at row j0.
            int bStart = bOff + (transB ? j0 * ldb : j0);
            Blas.sgemm(transA, transB, m, j1 - j0, k, alpha, a, aOff, lda, b, bStart, ldb,
                    beta, c, cOff + j0, ldc);
        });
    }

    /** Columns per unit when {@link #gemm(Parallel, ...)} splits C by columns (a multiple of the SIMD width). */
    static final int COLUMN_BLOCK = 16;

    private static void check(boolean transA, boolean transB, int m, int n, int k,
                              float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                              float[] c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new ShapeException("gemm: negative size m=" + m + " n=" + n + " k=" + k);
        }
        if (m == 0 || n == 0) {
            return;
        }
        int aRows = transA ? k : m;
        int aCols = transA ? m : k;
        int bRows = transB ? n : k;
        int bCols = transB ? k : n;
        need("A", a, aOff, aRows, aCols, lda);
        need("B", b, bOff, bRows, bCols, ldb);
        need("C", c, cOff, m, n, ldc);
    }

    private static void need(String which, float[] x, int off, int rows, int cols, int ld) {
        if (cols > 0 && rows > 0) {
            if (ld < cols) {
                throw new ShapeException("gemm: leading dimension of " + which + " is " + ld + " < " + cols);
            }
            long end = off + (long) (rows - 1) * ld + cols;
            if (off < 0 || end > x.length) {
                throw new ShapeException("gemm: " + which + " needs elements [" + off + ", " + end
                        + ") but has " + x.length);
            }
        }
    }
}
