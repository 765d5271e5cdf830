package org.cortado.engine.augment;

import static org.cortado.engine.augment.AugmentTesting.bytes;
import static org.cortado.engine.augment.AugmentTesting.ids;
import static org.cortado.engine.augment.AugmentTesting.one;
import static org.cortado.engine.augment.AugmentTesting.randomBytes;
import static org.cortado.engine.augment.AugmentTesting.sample;
import static org.cortado.engine.augment.AugmentTesting.train;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.cortado.engine.data.RawBatch;
import org.cortado.engine.ops.Parallel;
import org.junit.jupiter.api.Test;

/** Draws depend on (seed, phase, epoch, sample id, step) only. */
class DeterminismTest {
    private static final String ALL = "[{'type':'pad','pad':2,'padding_mode':'edge'},{'type':'random_crop','size':14},"
            + "{'type':'flip'},{'type':'random_resized_crop','size':12,'scale':[0.3,1]},"
            + "{'type':'color_jitter','brightness':0.4,'contrast':0.4},{'type':'normalize','mean':128,'std':64},"
            + "{'type':'random_erasing','p':0.5,'value':'random'}]";
    private static final int[] SHAPE = {3, 14, 14};
    private static final int PER = 3 * 14 * 14;

    @Test
    void sameSampleSameOutputWhateverTheBatch() {
        int n = 16;
        byte[] px = randomBytes(1, n * PER);
        Augmenter a = train(ALL, 42, SHAPE);
        int outPer = a.outputElements();
        float[] whole = new float[n * outPer];
        a.apply(bytes(5, ids(1000, n), SHAPE, px), whole);
        // The same samples shuffled into batches of 5, 7 and 4.
        int[] order = {9, 3, 15, 0, 7, 12, 1, 4, 14, 8, 2, 11, 6, 13, 5, 10};
        int[][] splits = {{0, 5}, {5, 12}, {12, 16}};
        for (int[] sp : splits) {
            int b = sp[1] - sp[0];
            byte[] bpx = new byte[b * PER];
            long[] bids = new long[b];
            for (int i = 0; i < b; i++) {
                int src = order[sp[0] + i];
                System.arraycopy(px, src * PER, bpx, i * PER, PER);
                bids[i] = 1000 + src;
            }
            float[] out = new float[b * outPer];
            a.apply(new RawBatch(5, sp[0], bids, new int[b], SHAPE, bpx, null), out);
            for (int i = 0; i < b; i++) {
                assertArrayEquals(sample(whole, order[sp[0] + i], outPer), sample(out, i, outPer), "sample " + bids[i]);
            }
        }
    }

    @Test
    void threadsDoNotChangeTheOutput() {
        int n = 64;
        byte[] px = randomBytes(2, n * PER);
        Augmenter a = train(ALL, 7, SHAPE);
        RawBatch batch = bytes(3, ids(0, n), SHAPE, px);
        float[] serial = new float[n * a.outputElements()];
        float[] parallel = new float[n * a.outputElements()];
        a.apply(batch, serial);
        try (Parallel p = new Parallel(2)) {
            a.apply(batch, parallel, p);
        }
        assertArrayEquals(serial, parallel);
    }

    @Test
    void epochAndSeedChangeTheDraws() {
        byte[] img = randomBytes(3, PER);
        Augmenter a = train("[{'type':'pad','pad':4},{'type':'random_crop','size':14}]", 1, SHAPE);
        Augmenter other = train("[{'type':'pad','pad':4},{'type':'random_crop','size':14}]", 2, SHAPE);
        int sameEpoch = 0;
        int sameSeed = 0;
        for (long id = 0; id < 200; id++) {
            float[] e0 = one(a, 0, id, img);
            sameEpoch += Arrays.equals(e0, one(a, 1, id, img)) ? 1 : 0;
            sameSeed += Arrays.equals(e0, one(other, 0, id, img)) ? 1 : 0;
        }
        // 81 offsets: a repeat has probability 1/81, about 2.5 of 200.
        assertTrue(sameEpoch < 12, "epochs drew the same crop " + sameEpoch + " times");
        assertTrue(sameSeed < 12, "seeds drew the same crop " + sameSeed + " times");
    }

    @Test
    void aNewAugmenterFromTheSameConfigRepeatsEverything() {
        // What a resumed run does: same config, same seed, same epoch and ids.
        byte[] px = randomBytes(4, 8 * PER);
        float[] first = train(ALL, 11, SHAPE).apply(bytes(9, ids(50, 8), SHAPE, px)).toArray();
        float[] again = train(ALL, 11, SHAPE).apply(bytes(9, ids(50, 8), SHAPE, px)).toArray();
        assertArrayEquals(first, again);
    }

    @Test
    void appendingAStepKeepsTheDrawsOfTheOthers() {
        byte[] px = randomBytes(5, 8 * PER);
        float[] before = train("[{'type':'pad','pad':3},{'type':'random_crop','size':14},{'type':'flip'}]", 3, SHAPE)
                .apply(bytes(0, ids(0, 8), SHAPE, px)).toArray();
        float[] after = train("[{'type':'pad','pad':3},{'type':'random_crop','size':14},{'type':'flip'},{'type':'scale','scale':2}]",
                3, SHAPE).apply(bytes(0, ids(0, 8), SHAPE, px)).toArray();
        for (int i = 0; i < before.length; i++) {
            assertEquals(2 * before[i], after[i]);
        }
    }

    @Test
    void trainAndTestListsDrawIndependently() {
        byte[] img = randomBytes(6, PER);
        String steps = "[{'type':'pad','pad':4},{'type':'random_crop','size':14}]";
        Augmentation both = AugmentTesting.section("{'train':" + steps + ",'test':" + steps + "}", null);
        Augmenter tr = both.augmenter(org.cortado.engine.net.Phase.TRAIN, 1, SHAPE);
        Augmenter te = both.augmenter(org.cortado.engine.net.Phase.TEST, 1, SHAPE);
        int same = 0;
        for (long id = 0; id < 200; id++) {
            same += Arrays.equals(one(tr, 0, id, img), one(te, 0, id, img)) ? 1 : 0;
        }
        assertTrue(same < 12, "phases drew the same crop " + same + " times");
    }
}
