package org.cortado.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SamplerTest {

    @Test
    void sequentialOrderWithoutShuffle() {
        Sampler s = Sampler.of(7, 10, 4, false, false);
        assertEquals(3, s.batchesPerEpoch());
        assertArrayEquals(new long[] {0, 1, 2, 3}, s.batch(0, 0));
        assertArrayEquals(new long[] {8, 9}, s.batch(5, 2));
    }

    @Test
    void dropLastSkipsThePartialBatch() {
        Sampler s = Sampler.of(7, 10, 4, true, true);
        assertEquals(2, s.batchesPerEpoch());
        assertThrows(IndexOutOfBoundsException.class, () -> s.batch(0, 2));
        assertThrows(IllegalArgumentException.class, () -> Sampler.of(7, 3, 4, true, true));
    }

    @Test
    void shuffledEpochIsAPermutationFixedBySeedAndEpoch() {
        Sampler a = Sampler.of(42, 1000, 64, true, false);
        Sampler b = Sampler.of(42, 1000, 64, true, false);
        int[] e0 = a.epochOrder(0);
        assertPermutation(e0, 1000);
        assertArrayEquals(e0, b.epochOrder(0), "same seed and epoch: same order, on any node");
        assertFalse(Arrays.equals(e0, a.epochOrder(1)), "each epoch reshuffles");
        assertFalse(Arrays.equals(e0, Sampler.of(43, 1000, 64, true, false).epochOrder(0)));
        // Batches are slices of the epoch order, and asking out of order changes nothing.
        long[] last = b.batch(3, 15);
        assertArrayEquals(a.batch(3, 15), last);
        assertEquals(1000 - 15 * 64, last.length);
        assertEquals(a.epochOrder(0)[64], a.batch(0, 1)[0]);
    }

    @Test
    void chunkAwareOrderVisitsEachChunkInsideOneWindow() {
        int n = 1000;
        int chunk = 50;
        int[] starts = new int[n / chunk];
        Arrays.setAll(starts, i -> i * chunk);
        int buffer = 200; // four chunks per window
        Sampler s = Sampler.chunked(9, n, 32, false, starts, buffer);
        int[] order = s.epochOrder(0);
        assertPermutation(order, n);
        // Within each window of 200 positions, samples come from exactly four chunks, and no chunk
        // appears in two windows: every chunk is decompressed once per epoch with a 4-chunk cache.
        Set<Integer> seen = new HashSet<>();
        for (int w = 0; w < n; w += buffer) {
            Set<Integer> chunks = new HashSet<>();
            for (int i = w; i < w + buffer; i++) {
                chunks.add(order[i] / chunk);
            }
            assertEquals(4, chunks.size(), "window at " + w);
            for (int c : chunks) {
                assertTrue(seen.add(c), "chunk " + c + " appears in two windows");
            }
        }
        // Samples mix across the chunks of a window: neighbours share a chunk about 1 time in 4
        // (they would always, were chunks only reordered).
        int sameChunk = 0;
        for (int i = 1; i < n; i++) {
            sameChunk += order[i] / chunk == order[i - 1] / chunk ? 1 : 0;
        }
        assertTrue(sameChunk < n / 2, sameChunk + " of " + n + " neighbours share a chunk");
        assertFalse(Arrays.equals(order, s.epochOrder(1)));
        assertArrayEquals(order, Sampler.chunked(9, n, 32, false, starts, buffer).epochOrder(0));
    }

    @Test
    void chunkAwareWindowHoldsAtLeastOneChunk() {
        Sampler s = Sampler.chunked(1, 30, 8, false, new int[] {0, 10, 20}, 4);
        int[] order = s.epochOrder(0);
        assertPermutation(order, 30);
        for (int w = 0; w < 30; w += 10) { // windows are single chunks of 10
            int c = order[w] / 10;
            for (int i = w; i < w + 10; i++) {
                assertEquals(c, order[i] / 10);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> Sampler.chunked(1, 30, 8, false, new int[] {5}, 4));
        assertThrows(IllegalArgumentException.class, () -> Sampler.chunked(1, 30, 8, false, new int[] {0, 40}, 4));
    }

    @Test
    void alternatingBetweenTwoEpochsKeepsBothOrders() {
        Sampler a = Sampler.of(7, 500, 32, true, false);
        Sampler fresh = Sampler.of(7, 500, 32, true, false);
        // A loader prefetching across an epoch boundary: batches of epochs 4 and 5 interleaved.
        for (int b = 0; b < a.batchesPerEpoch(); b++) {
            assertArrayEquals(Sampler.of(7, 500, 32, true, false).batch(4, b), a.batch(4, b), "epoch 4 batch " + b);
            assertArrayEquals(fresh.batch(5, b), a.batch(5, b), "epoch 5 batch " + b);
        }
        assertEquals(2, a.computations(), "each of the two epochs computed once");
        a.batch(6, 0); // a third epoch drops the least recent (4); 5 stays
        a.batch(5, 1);
        assertEquals(3, a.computations());
        a.batch(4, 0);
        assertEquals(4, a.computations());
        assertArrayEquals(fresh.epochOrder(4), a.epochOrder(4));
    }

    private static void assertPermutation(int[] order, int n) {
        assertEquals(n, order.length);
        int[] sorted = order.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < n; i++) {
            assertEquals(i, sorted[i]);
        }
    }
}
