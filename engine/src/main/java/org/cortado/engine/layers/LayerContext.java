package org.cortado.engine.layers;

import java.util.SplittableRandom;
import org.cortado.engine.net.Phase;
import org.cortado.engine.ops.Parallel;

/**
 * What a layer gets from the net that builds it: the phase, the compute threads, and the run's seed.
 * Every random choice of a layer (its fillers, dropout masks) comes from {@link #rng(String)}, a
 * generator derived from the seed and the layer's name, so a run is reproducible and adding a layer
 * does not change the initialization of the others.
 */
public record LayerContext(Phase phase, Parallel parallel, long seed) {

    /** A generator for {@code purpose} (e.g. the layer name plus "fill"), stable for a given seed. */
    public SplittableRandom rng(String purpose) {
        return new SplittableRandom(mix(seed, purpose));
    }

    /** Mixes a seed with a string (64-bit FNV-1a then a SplitMix64 finalizer). */
    public static long mix(long seed, String purpose) {
        long h = 0xcbf29ce484222325L ^ seed;
        for (int i = 0; i < purpose.length(); i++) {
            h ^= purpose.charAt(i);
            h *= 0x100000001b3L;
        }
        h ^= (h >>> 30);
        h *= 0xbf58476d1ce4e5b9L;
        h ^= (h >>> 27);
        h *= 0x94d049bb133111ebL;
        return h ^ (h >>> 31);
    }
}
