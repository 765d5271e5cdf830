package org.cortado.engine.tensor;

import java.util.Arrays;
import org.cortado.engine.ShapeException;

/** Small helpers over {@code int[]} shapes. */
public final class Shapes {
    private Shapes() {}

    public static int count(int[] shape) {
        return count(shape, 0, shape.length);
    }

    /** Product of {@code shape[from..to)}; checks for negative dimensions and int overflow. */
    public static int count(int[] shape, int from, int to) {
        long n = 1;
        for (int i = from; i < to; i++) {
            if (shape[i] < 0) {
                throw new ShapeException("negative dimension in shape " + str(shape));
            }
            n *= shape[i];
            if (n > Integer.MAX_VALUE - 8) {
                throw new ShapeException("shape " + str(shape) + " has more than 2^31 elements");
            }
        }
        return (int) n;
    }

    /** Canonical axis index: negative values count from the end. */
    public static int axis(int axis, int rank) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= Math.max(rank, 1)) {
            throw new ShapeException("axis " + axis + " is out of range for a tensor of rank " + rank);
        }
        return a;
    }

    public static String str(int[] shape) {
        return Arrays.toString(shape).replace(" ", "");
    }

    public static int[] of(int... dims) {
        return dims;
    }
}
