package org.cortado.engine.data;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.cortado.engine.layers.LayerContext;

/**
 * Decides which samples make up batch {@code (epoch, index)}: the order of an epoch is a pure
 * function of the seed and the epoch number (as PyTorch's {@code DistributedSampler} seeds with
 * {@code seed + epoch}), so any loader on any node can serve any batch, a re-issued batch holds the
 * same samples, and a resumed run continues exactly.
 *
 * <p>Three orders:
 * <ul>
 *   <li>{@code shuffle = false}: sample ids 0, 1, 2, … every epoch.
 *   <li>full shuffle: a uniform permutation of all samples (Fisher–Yates) per epoch; right when
 *       every sample is cheap to read on its own (memory-mapped npy, contiguous HDF5).
 *   <li>chunk-aware shuffle ({@link #chunked}): for sources where rows are stored in chunks that
 *       must be decompressed whole (gzip-chunked HDF5, deflated npz members). The epoch's chunk
 *       order is shuffled, then consecutive chunks are grouped into windows of at most
 *       {@code bufferSamples} samples and the samples inside each window are shuffled. Reading the
 *       epoch in order thus touches each chunk within one window only: with a chunk cache that
 *       holds a window, every chunk is decompressed once per epoch, and memory stays bounded by
 *       the window. (Caffe's HDF5Data shuffles file order and rows within one file only; here
 *       samples mix across chunks of different files.)
 * </ul>
 *
 * <p>Batches: with {@code dropLast} an epoch has {@code floor(n / batch)} batches and the remaining
 * samples are skipped that epoch; without it the last batch is smaller.
 */
public final class Sampler {
    private final long seed;
    private final int samples;
    private final int batch;
    private final boolean shuffle;
    private final boolean dropLast;
    /** Chunk boundaries for the chunk-aware order (starts, plus {@code samples} at the end), or null. */
    private final int[] chunkStarts;
    private final int bufferSamples;

    /**
     * The two most recently used epochs' orders (slot 0 the most recent): a loader prefetching
     * across an epoch boundary alternates between two epochs, which must not recompute each call.
     */
    private final long[] cachedEpoch = {-1, -1};
    private final int[][] cachedOrder = new int[2][];
    /** Epoch orders computed so far (guarded by this). */
    private int computations;

    private Sampler(long seed, int samples, int batch, boolean shuffle, boolean dropLast, int[] chunkStarts,
                    int bufferSamples) {
        if (samples < 1) {
            throw new IllegalArgumentException("a sampler needs at least one sample, got " + samples);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batch);
        }
        if (dropLast && batch > samples) {
            throw new IllegalArgumentException("drop_last with batch size " + batch + " > " + samples
                    + " samples leaves no batch at all");
        }
        this.seed = seed;
        this.samples = samples;
        this.batch = batch;
        this.shuffle = shuffle;
        this.dropLast = dropLast;
        this.chunkStarts = chunkStarts;
        this.bufferSamples = bufferSamples;
    }

    /** Sequential ({@code shuffle = false}) or fully shuffled order. */
    public static Sampler of(long seed, int samples, int batch, boolean shuffle, boolean dropLast) {
        return new Sampler(seed, samples, batch, shuffle, dropLast, null, 0);
    }

    /**
     * Chunk-aware shuffled order.
     *
     * @param chunkStarts   the first sample of every chunk, ascending from 0 (a chunk ends where the
     *                      next one starts, the last one at {@code samples})
     * @param bufferSamples how many samples a shuffle window may hold; at least one chunk always
     */
    public static Sampler chunked(long seed, int samples, int batch, boolean dropLast, int[] chunkStarts,
                                  int bufferSamples) {
        if (chunkStarts.length == 0 || chunkStarts[0] != 0) {
            throw new IllegalArgumentException("chunk starts must begin at 0: " + Arrays.toString(chunkStarts));
        }
        int[] starts = Arrays.copyOf(chunkStarts, chunkStarts.length + 1);
        starts[chunkStarts.length] = samples;
        for (int i = 1; i < starts.length; i++) {
            if (starts[i] <= starts[i - 1]) {
                throw new IllegalArgumentException("chunk starts must ascend below " + samples + ": "
                        + Arrays.toString(chunkStarts));
            }
        }
        return new Sampler(seed, samples, batch, true, dropLast, starts, Math.max(1, bufferSamples));
    }

    public int samples() {
        return samples;
    }

    public int batchSize() {
        return batch;
    }

    public int batchesPerEpoch() {
        return dropLast ? samples / batch : (samples + batch - 1) / batch;
    }

    /** Sample ids of batch {@code index} of {@code epoch}. */
    public long[] batch(long epoch, int index) {
        if (index < 0 || index >= batchesPerEpoch()) {
            throw new IndexOutOfBoundsException("batch " + index + " of epoch " + epoch + ": an epoch has "
                    + batchesPerEpoch() + " batches");
        }
        int[] order = order(epoch);
        int from = index * batch;
        int to = Math.min(samples, from + batch);
        long[] ids = new long[to - from];
        for (int i = from; i < to; i++) {
            ids[i - from] = order[i];
        }
        return ids;
    }

    /** The whole order of {@code epoch} (a fresh copy). */
    public int[] epochOrder(long epoch) {
        return order(epoch).clone();
    }

    /**
     * The epoch's order, computed once per epoch and kept (n ints each) while it is one of the two
     * most recently served epochs.
     */
    private synchronized int[] order(long epoch) {
        if (cachedOrder[0] != null && cachedEpoch[0] == epoch) {
            return cachedOrder[0];
        }
        int[] order = cachedOrder[1] != null && cachedEpoch[1] == epoch ? cachedOrder[1] : compute(epoch);
        // The previous most recent epoch becomes the second; the least recent one is dropped.
        cachedOrder[1] = cachedOrder[0];
        cachedEpoch[1] = cachedEpoch[0];
        cachedOrder[0] = order;
        cachedEpoch[0] = epoch;
        return order;
    }

    /** Epoch orders computed so far (for tests: how often the cache missed). */
    synchronized int computations() {
        return computations;
    }


    private int[] compute(long epoch) {
        computations++;
        int[] order = new int[samples];
        if (!shuffle) {
            Arrays.setAll(order, i -> i);
            return order;
        }
        SplittableRandom rng = new SplittableRandom(LayerContext.mix(seed, "sampler epoch " + epoch));
        if (chunkStarts == null) {
            Arrays.setAll(order, i -> i);
            shuffle(order, 0, samples, rng);
            return order;
        }
        int chunks = chunkStarts.length - 1;
        int[] chunkOrder = new int[chunks];
        Arrays.setAll(chunkOrder, i -> i);
        shuffle(chunkOrder, 0, chunks, rng);
        int out = 0;
        int windowStart = 0;
        for (int c : chunkOrder) {
            int size = chunkStarts[c + 1] - chunkStarts[c];
            if (out > windowStart && out - windowStart + size > bufferSamples) {
                shuffle(order, windowStart, out, rng);
                windowStart = out;
            }
            for (int s = chunkStarts[c]; s < chunkStarts[c + 1]; s++) {
                order[out++] = s;
            }
        }
        shuffle(order, windowStart, out, rng);
        return order;
    }

    /** Fisher–Yates over {@code a[from, to)}. */
    private static void shuffle(int[] a, int from, int to, SplittableRandom rng) {
        for (int i = to - 1; i > from; i--) {
            int j = from + rng.nextInt(i - from + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
