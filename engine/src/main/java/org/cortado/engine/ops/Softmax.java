package org.cortado.engine.ops;

/**
 * Softmax along the middle axis of a tensor viewed as {@code (outer, channels, inner)}: element
 * {@code (o, c, i)} is at {@code (o * channels + c) * inner + i}. For scores {@code (N, C)} with axis 1
 * that is {@code (N, C, 1)}; for {@code (N, C, H, W)} it is {@code (N, C, H*W)}.
 *
 * <pre>
 *   forward:  y[c] = exp(x[c] - max_c x) / sum_c exp(x[c] - max_c x)     (the max keeps exp from overflowing)
 *   backward: dx[c] = y[c] * (dy[c] - sum_c' dy[c'] * y[c'])
 * </pre>
 *
 * <p>{@link #forwardReference}/{@link #backwardReference} are the specification: one column
 * {@code (o, ., i)} at a time, sums in double. {@link #forward}/{@link #backward} are the fast path:
 * parallel over {@code outer}, and within one {@code o} they sweep the channels row by row with
 * {@code inner}-long running maxima and sums, so memory is read contiguously. Both are safe in place
 * ({@code y == x}, {@code dx == dy}).
 */
public final class Softmax {
    private Softmax() {}

    // ---- reference ----

    public static void forwardReference(int outer, int channels, int inner, float[] x, float[] y) {
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int base = o * channels * inner + i;
                float max = Float.NEGATIVE_INFINITY;
                for (int c = 0; c < channels; c++) {
                    max = Math.max(max, x[base + c * inner]);
                }
                double sum = 0;
                for (int c = 0; c < channels; c++) {
                    double e = Math.exp(x[base + c * inner] - max);
                    y[base + c * inner] = (float) e;
                    sum += e;
                }
                for (int c = 0; c < channels; c++) {
                    y[base + c * inner] = (float) (y[base + c * inner] / sum);
                }
            }
        }
    }

    public static void backwardReference(int outer, int channels, int inner, float[] y, float[] dy, float[] dx) {
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int base = o * channels * inner + i;
                double dot = 0;
                for (int c = 0; c < channels; c++) {
                    dot += (double) dy[base + c * inner] * y[base + c * inner];
                }
                for (int c = 0; c < channels; c++) {
                    int k = base + c * inner;
                    dx[k] = (float) (y[k] * (dy[k] - dot));
                }
            }
        }
    }

    // ---- fast path ----

    /** Like {@link #forwardReference}; {@code scratch} holds {@code 2 * inner} floats per chunk. */
    public static void forward(Parallel par, int outer, int channels, int inner, float[] x, float[] y,
                               Scratch scratch) {
        long work = 24L * channels * inner; // an exp, a max and a divide per element
        par.forChunks(outer, work, (chunk, o0, o1) -> {
            float[] s = scratch.get(chunk, 2 * inner);
            // s[0, inner): running max per column, then 1/sum; s[inner, 2*inner): running sum.
            for (int o = o0; o < o1; o++) {
                int base = o * channels * inner;
                System.arraycopy(x, base, s, 0, inner);
                for (int c = 1; c < channels; c++) {
                    int row = base + c * inner;
                    for (int i = 0; i < inner; i++) {
                        s[i] = Math.max(s[i], x[row + i]);
                    }
                }
                java.util.Arrays.fill(s, inner, 2 * inner, 0f);
                for (int c = 0; c < channels; c++) {
                    int row = base + c * inner;
                    for (int i = 0; i < inner; i++) {
                        float e = (float) Math.exp(x[row + i] - s[i]);
                        y[row + i] = e;
                        s[inner + i] += e;
                    }
                }
                for (int i = 0; i < inner; i++) {
                    s[i] = 1f / s[inner + i];
                }
                for (int c = 0; c < channels; c++) {
                    int row = base + c * inner;
                    for (int i = 0; i < inner; i++) {
                        y[row + i] *= s[i];
                    }
                }
            }
        });
    }

    /** Like {@link #backwardReference}; {@code scratch} holds {@code inner} floats per chunk. */
    public static void backward(Parallel par, int outer, int channels, int inner, float[] y, float[] dy, float[] dx,
                                Scratch scratch) {
        long work = 4L * channels * inner;
        par.forChunks(outer, work, (chunk, o0, o1) -> {
            float[] dot = scratch.get(chunk, inner);
            for (int o = o0; o < o1; o++) {
                int base = o * channels * inner;
                java.util.Arrays.fill(dot, 0, inner, 0f);
                for (int c = 0; c < channels; c++) {
                    int row = base + c * inner;
                    for (int i = 0; i < inner; i++) {
                        dot[i] += dy[row + i] * y[row + i];
                    }
                }
                for (int c = 0; c < channels; c++) {
                    int row = base + c * inner;
                    for (int i = 0; i < inner; i++) {
                        dx[row + i] = y[row + i] * (dy[row + i] - dot[i]);
                    }
                }
            }
        });
    }
}
