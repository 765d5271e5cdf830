package org.cortado.kernels;

import org.cortado.engine.ShapeException;

/**
 * The checks every {@link CudaOps} method makes before it launches: a kernel that reads or writes past
 * an array corrupts other tensors silently (or faults, and the context is lost), so sizes are checked on
 * the host and a bad call fails with a message naming the op and the operand.
 */
public final class KernelArgs {
    private KernelArgs() {}

    /** {@code n} elements from {@code offset} fit an array of {@code length}. */
    public static void range(String op, long n, long offset, long length) {
        if (n < 0 || offset < 0 || offset + n > length) {
            throw new ShapeException(op + ": elements [" + offset + ", " + (offset + n) + ") do not fit an array of "
                    + length);
        }
    }

    /** An operand holds at least {@code needed} elements. */
    public static void holds(String op, String operand, long length, long needed) {
        if (length < needed) {
            throw new ShapeException(op + ": " + operand + " has " + length + " elements, needs " + needed);
        }
    }

    /** A size that must be at least 1. */
    public static void positive(String op, String what, long v) {
        if (v < 1) {
            throw new ShapeException(op + ": " + what + " must be positive, got " + v);
        }
    }

    /**
     * A batched row-major GEMM: {@code batch} products, matrix {@code i} of each operand starting at
     * {@code off + i * stride}. {@code op(A)} is m x k (stored k x m when transposed), {@code op(B)} k x n,
     * C m x n; each leading dimension at least the stored row length.
     */
    public static void gemm(boolean transA, boolean transB, int m, int n, int k, long aLen, long aOff, int lda,
                            long bLen, long bOff, int ldb, long cLen, long cOff, int ldc, int batch, long sA, long sB,
                            long sC) {
        if (m < 0 || n < 0 || k < 0 || batch < 1) {
            throw new ShapeException("gemm: sizes must not be negative and batch positive, got m=" + m + " n=" + n
                    + " k=" + k + " batch=" + batch);
        }
        if (sA < 0 || sB < 0 || sC < 0) {
            throw new ShapeException("gemm: strides must not be negative");
        }
        operand("A", transA ? k : m, transA ? m : k, lda, aLen, aOff, batch, sA);
        operand("B", transB ? n : k, transB ? k : n, ldb, bLen, bOff, batch, sB);
        operand("C", m, n, ldc, cLen, cOff, batch, sC);
        if (sC == 0 && batch > 1 && m > 0 && n > 0) {
            throw new ShapeException("gemm: the batch's products would all write the same C (stride 0)");
        }
    }

    private static void operand(String name, int rows, int cols, int ld, long len, long off, int batch, long stride) {
        if (rows == 0 || cols == 0) {
            return;
        }
        if (ld < cols) {
            throw new ShapeException("gemm: leading dimension of " + name + " is " + ld + ", less than its " + cols
                    + " stored columns");
        }
        long last = off + (batch - 1) * stride + (long) (rows - 1) * ld + cols;
        if (off < 0 || last > len) {
            throw new ShapeException("gemm: " + name + " (" + rows + " x " + cols + ", ld " + ld + ", " + batch
                    + " from " + off + " stride " + stride + ") needs " + last + " elements, the array has " + len);
        }
    }
}
