package org.cortado.engine.ops;

/**
 * Per-chunk scratch arrays that grow on demand and are kept between calls, so the hot loops of a
 * layer allocate nothing after the first step. One instance belongs to one layer (or op caller);
 * chunk {@code i} of a {@link Parallel#forChunks} call uses slot {@code i} only.
 */
public final class Scratch {
    private float[][] slots = new float[0][];

    /** Slot {@code chunk}, at least {@code size} floats long; contents are undefined. */
    public synchronized float[] get(int chunk, int size) {
        if (chunk >= slots.length) {
            slots = java.util.Arrays.copyOf(slots, chunk + 1);
        }
        float[] s = slots[chunk];
        if (s == null || s.length < size) {
            s = new float[size];
            slots[chunk] = s;
        }
        return s;
    }

    /** Slot {@code chunk}, at least {@code size} floats long, its first {@code size} floats zeroed. */
    public float[] zeroed(int chunk, int size) {
        float[] s = get(chunk, size);
        java.util.Arrays.fill(s, 0, size, 0f);
        return s;
    }
}
