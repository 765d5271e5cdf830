package org.cortado.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.cortado.engine.ops.Parallel;
import org.junit.jupiter.api.Test;

class DataStatsTest {

    private static Shard.Opener opener(String name, java.util.function.Supplier<Shard> open) {
        return new Shard.Opener() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Shard open() {
                return open.get();
            }
        };
    }

    private static long[] labels(int rows) {
        long[] l = new long[rows];
        for (int r = 0; r < rows; r++) {
            l[r] = r % 3;
        }
        return l;
    }

    /** Two-pass mean and population std in double of channel c over all shards' values. */
    private static double[] twoPass(List<float[]> shards, int channels, int plane, int c) {
        double sum = 0;
        long n = 0;
        for (float[] v : shards) {
            for (int at = c * plane; at < v.length; at += channels * plane) {
                for (int i = 0; i < plane; i++) {
                    sum += v[at + i];
                    n++;
                }
            }
        }
        double mean = sum / n;
        double sq = 0;
        for (float[] v : shards) {
            for (int at = c * plane; at < v.length; at += channels * plane) {
                for (int i = 0; i < plane; i++) {
                    double d = v[at + i] - mean;
                    sq += d * d;
                }
            }
        }
        return new double[] {mean, Math.sqrt(sq / n)};
    }

    @Test
    void floatStdIsStableUnderALargeOffset() {
        // Values 1000 + noise of std 0.01 (channel 0) and -5 + noise of std 2 (channel 1): E[x²] − E[x]²
        // would lose all digits of channel 0's variance.
        int channels = 2;
        int h = 40;
        int w = 50;
        int plane = h * w;
        int[] rows = {300, 0, 123, 450}; // an empty shard too
        SplittableRandom rng = new SplittableRandom(3);
        List<float[]> values = new ArrayList<>();
        List<Shard.Opener> openers = new ArrayList<>();
        for (int s = 0; s < rows.length; s++) {
            float[] v = new float[rows[s] * channels * plane];
            for (int i = 0; i < v.length; i++) {
                boolean first = (i / plane) % channels == 0;
                v[i] = (float) (first ? 1000 + 0.01 * rng.nextGaussian() : -5 + 2 * rng.nextGaussian());
            }
            values.add(v);
            int n = rows[s];
            String name = "f" + s;
            openers.add(opener(name, () -> Shard.of(name, NdArray.ofFloats(name + ":data", v, n, channels, h, w),
                    NdArray.ofLongs(name + ":label", labels(n), n))));
        }
        try (Parallel par = new Parallel(2);
             ShardSet set = ShardSet.open("f", openers, 3, 1L << 30)) {
            DataStats st = DataStats.compute(set, par, Progress.NONE);
            assertEquals(873, st.samples());
            assertEquals(DType.F4, st.dtype());
            assertArrayEquals(new int[] {2, 40, 50}, st.shape());
            for (int c = 0; c < channels; c++) {
                double[] ref = twoPass(values, channels, plane, c);
                assertEquals(ref[0], st.mean()[c], Math.abs(ref[0]) * 1e-12, "mean of channel " + c);
                assertEquals(ref[1], st.std()[c], ref[1] * 1e-9, "std of channel " + c);
            }
        }
    }

    @Test
    void uint8StatsAreExact() {
        // Channel 0 holds 0..255 cycling, channel 1 is constant 200; 2 shards of 1x(2x4x4) samples.
        int[] rows = {5, 7};
        List<Shard.Opener> openers = new ArrayList<>();
        long sum = 0;
        long sq = 0;
        long n = 0;
        for (int s = 0; s < rows.length; s++) {
            int r = rows[s];
            byte[] px = new byte[r * 32];
            for (int i = 0; i < px.length; i++) {
                int v = (i / 16) % 2 == 0 ? (i * 37 + s) % 256 : 200;
                px[i] = (byte) v;
                if ((i / 16) % 2 == 0) {
                    sum += v;
                    sq += (long) v * v;
                    n++;
                }
            }
            String name = "u" + s;
            openers.add(opener(name, () -> Shard.of(name, NdArray.ofBytes(name + ":data", px, r, 2, 4, 4),
                    NdArray.ofLongs(name + ":label", labels(r), r))));
        }
        try (Parallel par = new Parallel(2);
             ShardSet set = ShardSet.open("u", openers, 3, 1L << 20)) {
            DataStats st = DataStats.compute(set, par, Progress.NONE);
            assertEquals(12, st.samples());
            assertEquals(DType.U1, st.dtype());
            double mean = (double) sum / n;
            assertEquals(mean, st.mean()[0], 1e-12);
            assertEquals(Math.sqrt((double) sq / n - mean * mean), st.std()[0], 1e-9);
            assertEquals(200.0, st.mean()[1]);
            assertEquals(0.0, st.std()[1], "a constant channel has exactly zero spread");
            assertEquals(Map.of(0, 5L, 1, 4L, 2, 3L), st.labelCounts());
        }
    }
}
