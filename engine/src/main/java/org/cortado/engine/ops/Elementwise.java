package org.cortado.engine.ops;

/**
 * Element-wise primitives and reductions on float arrays (BLAS level 1 in spirit). Plain loops: the JIT
 * vectorizes them, and they are memory-bound, so there is no separate fast path.
 */
public final class Elementwise {
    private Elementwise() {}

    /** {@code y[yOff+i] += a * x[xOff+i]}. */
    public static void axpy(int n, float a, float[] x, int xOff, float[] y, int yOff) {
        for (int i = 0; i < n; i++) {
            y[yOff + i] += a * x[xOff + i];
        }
    }

    /** {@code x[i] *= a}. */
    public static void scale(int n, float a, float[] x, int off) {
        for (int i = 0; i < n; i++) {
            x[off + i] *= a;
        }
    }

    /** {@code y[i] = x[i] * a}. */
    public static void scaleTo(int n, float a, float[] x, int xOff, float[] y, int yOff) {
        for (int i = 0; i < n; i++) {
            y[yOff + i] = a * x[xOff + i];
        }
    }

    /** {@code y[i] = x[i] + y[i]}. */
    public static void add(int n, float[] x, int xOff, float[] y, int yOff) {
        for (int i = 0; i < n; i++) {
            y[yOff + i] += x[xOff + i];
        }
    }

    /**
     * Dot product accumulated in double, in four interleaved partial sums: independent dependency
     * chains let the CPU overlap the additions (one chain is bound by the add latency).
     */
    public static double dot(int n, float[] x, int xOff, float[] y, int yOff) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += (double) x[xOff + i] * y[yOff + i];
            s1 += (double) x[xOff + i + 1] * y[yOff + i + 1];
            s2 += (double) x[xOff + i + 2] * y[yOff + i + 2];
            s3 += (double) x[xOff + i + 3] * y[yOff + i + 3];
        }
        for (; i < n; i++) {
            s0 += (double) x[xOff + i] * y[yOff + i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** Sum of squares accumulated in double. */
    public static double sumsq(int n, float[] x, int off) {
        return dot(n, x, off, x, off);
    }

    /** Sum of absolute values accumulated in double. */
    public static double asum(int n, float[] x, int off) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += Math.abs(x[off + i]);
        }
        return s;
    }

    /** Sum accumulated in double, in four interleaved partial sums (see {@link #dot}). */
    public static double sum(int n, float[] x, int off) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += x[off + i];
            s1 += x[off + i + 1];
            s2 += x[off + i + 2];
            s3 += x[off + i + 3];
        }
        for (; i < n; i++) {
            s0 += x[off + i];
        }
        return (s0 + s1) + (s2 + s3);
    }
}
