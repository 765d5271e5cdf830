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

    /** Dot product accumulated in double. */
    public static double dot(int n, float[] x, int xOff, float[] y, int yOff) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += (double) x[xOff + i] * y[yOff + i];
        }
        return s;
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

    /** Sum accumulated in double. */
    public static double sum(int n, float[] x, int off) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += x[off + i];
        }
        return s;
    }
}
