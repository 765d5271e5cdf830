package org.cortado.engine.augment;

/**
 * The random stream of one step applied to one sample: SplitMix64 over a seed that mixes the run's
 * seed, the phase, the epoch, the sample id and the step's index in its list.
 *
 * <p>Why per (sample, step) and not per batch or thread: a sample then gets the same augmentation
 * whichever loader, batch position or thread handles it, a resumed run continues exactly, and adding
 * a step to the list does not change what the other steps draw. Resetting is a field write, so the
 * per-sample cost is nothing next to the pixels. Not thread-safe: one instance per worker.
 */
final class SampleRandom {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private long state;

    /** Starts the stream of {@code seed} (see {@link #sampleSeed} and {@link #stepSeed}). */
    SampleRandom reset(long seed) {
        state = seed;
        return this;
    }

    /** The seed of one sample: the phase's seed mixed with the epoch, then the sample id. */
    static long sampleSeed(long phaseSeed, long epoch, long id) {
        long h = fmix64(phaseSeed ^ fmix64(epoch + GOLDEN));
        return fmix64(h ^ fmix64(id + 2 * GOLDEN));
    }

    /** The seed of step {@code step} (its index in the phase's list) for a sample seed. */
    static long stepSeed(long sampleSeed, int step) {
        return fmix64(sampleSeed ^ fmix64(step + 3 * GOLDEN));
    }

    /** SplitMix64's finalizer: a bijection on 64 bits that spreads every input bit over the output. */
    static long fmix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    long nextLong() {
        state += GOLDEN;
        return fmix64(state);
    }

    /** Uniform in [0, 1), 53 random bits. */
    double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform in [lo, hi). */
    double uniform(double lo, double hi) {
        return lo + (hi - lo) * nextDouble();
    }

    /** True with probability {@code p} (torchvision's {@code torch.rand(1) < p}). */
    boolean chance(double p) {
        return nextDouble() < p;
    }

    /** Uniform in [0, bound), unbiased (java.util.Random's rejection on 31 bits); bound >= 1. */
    int nextInt(int bound) {
        int r = (int) (nextLong() >>> 33);
        int m = bound - 1;
        if ((bound & m) == 0) {
            return (int) ((bound * (long) r) >> 31);
        }
        for (int u = r; u - (r = u % bound) + m < 0; u = (int) (nextLong() >>> 33)) {
            // rejected: u fell in the incomplete last block of size bound
        }
        return r;
    }

    /** Standard normal (Marsaglia's polar method, the second value discarded to stay stateless). */
    double nextGaussian() {
        double v1;
        double v2;
        double s;
        do {
            v1 = 2 * nextDouble() - 1;
            v2 = 2 * nextDouble() - 1;
            s = v1 * v1 + v2 * v2;
        } while (s >= 1 || s == 0);
        return v1 * Math.sqrt(-2 * Math.log(s) / s);
    }
}
