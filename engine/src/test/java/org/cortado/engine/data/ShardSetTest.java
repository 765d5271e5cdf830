package org.cortado.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.cortado.engine.DataFormatException;
import org.cortado.engine.ops.Parallel;
import org.junit.jupiter.api.Test;

class ShardSetTest {

    /** A uint8 shard of {@code rows} 2x3x3 samples whose pixels encode (shard, row, pixel). */
    private static Shard.Opener u8(String name, int shard, int rows, AtomicInteger opens) {
        return opener(name, () -> {
            byte[] px = new byte[rows * 18];
            long[] labels = new long[rows];
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < 18; i++) {
                    px[r * 18 + i] = (byte) (shard * 64 + r * 3 + i);
                }
                labels[r] = (shard + r) % 10;
            }
            opens.incrementAndGet();
            return Shard.of(name, NdArray.ofBytes(name + ":data", px, rows, 2, 3, 3),
                    NdArray.ofLongs(name + ":label", labels, rows));
        });
    }

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

    @Test
    void samplesRunAcrossShardsInOrderAndBatchesKeepTheirIdOrder() {
        AtomicInteger opens = new AtomicInteger();
        try (ShardSet set = ShardSet.open("t", List.of(u8("a", 0, 3, opens), u8("b", 1, 4, opens)), 10, 1 << 20)) {
            assertEquals(7, set.samples());
            assertArrayEquals(new int[] {2, 3, 3}, set.sampleShape());
            assertEquals(DType.U1, set.dtype());
            RawBatch b = set.read(2, 5, new long[] {6, 0, 3});
            assertNull(b.floats());
            assertArrayEquals(new long[] {6, 0, 3}, b.ids());
            // id 6 = shard b row 3; id 0 = shard a row 0; id 3 = shard b row 0
            assertEquals(64 + 9, b.bytes()[0] & 0xff);
            assertEquals(0, b.bytes()[18]);
            assertEquals(64 + 17, b.bytes()[2 * 18 + 17] & 0xff);
            assertArrayEquals(new int[] {(1 + 3) % 10, 0, 1}, b.labels());
            assertEquals(2, b.epoch());
            assertEquals(5, b.index());
            assertThrows(IndexOutOfBoundsException.class, () -> set.read(0, 0, new long[] {7}));
        }
    }

    @Test
    void floatShardsArriveAsFloats() {
        float[] v = {0.5f, -1f, 2f, 3f, 4f, 5f, 6f, 7f};
        Shard.Opener o = opener("f", () -> Shard.of("f", NdArray.ofFloats("f:data", v, 2, 2, 2),
                NdArray.ofLongs("f:label", new long[] {1, 0}, 2, 1)));
        try (ShardSet set = ShardSet.open("f", List.of(o), 2, 0)) {
            assertArrayEquals(new int[] {1, 2, 2}, set.sampleShape(), "(N, H, W) data has one channel");
            RawBatch b = set.read(0, 0, new long[] {1});
            assertArrayEquals(new float[] {4f, 5f, 6f, 7f}, b.floats());
            assertArrayEquals(new int[] {0}, b.labels());
        }
    }

    @Test
    void shardsThatDisagreeAreNamedBoth() {
        AtomicInteger opens = new AtomicInteger();
        Shard.Opener other = opener("c.npz", () -> Shard.of("c.npz", NdArray.ofBytes("c:data", new byte[8], 2, 1, 2, 2),
                NdArray.ofLongs("c:label", new long[2], 2)));
        var e = assertThrows(DataFormatException.class,
                () -> ShardSet.open("t", List.of(u8("a.npz", 0, 3, opens), other), 10, 1 << 20));
        assertTrue(e.getMessage().contains("a.npz") && e.getMessage().contains("c.npz"), e.getMessage());
    }

    @Test
    void labelErrorsNameFileAndRow() {
        Shard.Opener bad = opener("x.h5", () -> Shard.of("x.h5", NdArray.ofBytes("x.h5:/data", new byte[3 * 4], 3, 2, 2),
                NdArray.ofFloats("x.h5:/label", new float[] {1, 2.5f, 0}, 3)));
        var e = assertThrows(DataFormatException.class, () -> ShardSet.open("s", List.of(bad), 10, 0));
        assertTrue(e.getMessage().contains("x.h5") && e.getMessage().contains("row 1") && e.getMessage().contains("2.5"),
                e.getMessage());

        Shard.Opener range = opener("y.h5", () -> Shard.of("y.h5", NdArray.ofBytes("y:data", new byte[3 * 4], 3, 2, 2),
                NdArray.ofLongs("y:label", new long[] {1, 2, 10}, 3)));
        e = assertThrows(DataFormatException.class, () -> ShardSet.open("s", List.of(range), 10, 0));
        assertTrue(e.getMessage().contains("label 10 at row 2") && e.getMessage().contains("[0, 10)"), e.getMessage());
        // Without a class count only negative labels are out of range.
        try (ShardSet ok = ShardSet.open("s", List.of(range), 0, 0)) {
            assertEquals(Map.of(1, 1L, 2, 1L, 10, 1L), ok.labelCounts());
        }

        Shard.Opener count = opener("z.npz", () -> Shard.of("z.npz", NdArray.ofBytes("z:data", new byte[3 * 4], 3, 2, 2),
                NdArray.ofLongs("z:label", new long[] {1, 2}, 2)));
        e = assertThrows(DataFormatException.class, () -> ShardSet.open("s", List.of(count), 0, 0));
        assertTrue(e.getMessage().contains("z.npz") && e.getMessage().contains("3 data rows"), e.getMessage());

        Shard.Opener rank = opener("r.npz", () -> Shard.of("r.npz", NdArray.ofBytes("r:data", new byte[6], 3, 2),
                NdArray.ofLongs("r:label", new long[3], 3)));
        e = assertThrows(DataFormatException.class, () -> ShardSet.open("s", List.of(rank), 0, 0));
        assertTrue(e.getMessage().contains("(N, C, H, W) or (N, H, W)"), e.getMessage());

        e = assertThrows(DataFormatException.class, () -> ShardSet.open("empty/", List.of(), 0, 0));
        assertTrue(e.getMessage().contains("empty shard set: empty/"), e.getMessage());
    }

    /** A shard that claims to hold {@code resident} bytes, and counts how often it is opened and closed. */
    private static Shard.Opener heavy(String name, int shard, long resident, AtomicInteger opens, AtomicInteger live) {
        return heavy(name, shard, resident, opens, live, 0);
    }

    /** Like {@link #heavy(String, int, long, AtomicInteger, AtomicInteger)}, opening in {@code sleepMs}. */
    private static Shard.Opener heavy(String name, int shard, long resident, AtomicInteger opens, AtomicInteger live,
                                      long sleepMs) {
        return opener(name, () -> {
            opens.incrementAndGet();
            if (sleepMs > 0) {
                try {
                    Thread.sleep(sleepMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
            live.incrementAndGet();
            byte[] px = new byte[2 * 4];
            px[0] = (byte) shard; // row 0 starts with the shard, row 1 with 100 + the shard
            px[4] = (byte) (100 + shard);
            NdArray data = NdArray.ofBytes(name, px, 2, 2, 2);
            ArrayReader costly = new ArrayReader() {
                @Override public String source() { return name; }
                @Override public DType dtype() { return data.dtype(); }
                @Override public int[] shape() { return data.shape(); }
                @Override public ByteBuffer rows(int start, int count) { return data.rows(start, count); }
                @Override public long residentBytes() { return resident; }
                @Override public void close() { live.decrementAndGet(); }
            };
            return Shard.of(name, costly, NdArray.ofLongs(name, new long[] {shard, shard}, 2));
        });
    }

    @Test
    void openShardsStayWithinTheBudgetPlusOne() {
        AtomicInteger opens = new AtomicInteger();
        AtomicInteger live = new AtomicInteger();
        List<Shard.Opener> shards = new ArrayList<>();
        for (int s = 0; s < 6; s++) {
            shards.add(heavy("s" + s, s, 100, opens, live));
        }
        try (ShardSet set = ShardSet.open("heavy", shards, 0, 250)) {
            assertEquals(6, opens.get(), "each shard is opened once to check it");
            assertTrue(set.resident() <= 250, "after open: " + set.resident());
            assertEquals(2, live.get());
            for (int s = 0; s < 6; s++) {
                RawBatch b = set.read(0, s, new long[] {2L * s + 1});
                assertEquals(s, b.labels()[0]);
                assertEquals(100 + s, b.bytes()[0], "row 1 of the shard");
                assertTrue(live.get() <= 3, "budget (2 shards) plus one: " + live.get());
                assertEquals(live.get(), set.openShards());
            }
            // Reading the two most recent shards again opens nothing.
            int before = opens.get();
            set.read(0, 0, new long[] {10, 8});
            assertEquals(before, opens.get());
        }
        assertEquals(0, live.get(), "close() closes every open shard");
    }

    @Test
    void aShardOverTheBudgetStaysOpenWhileItIsTheOneBeingRead() {
        AtomicInteger opens = new AtomicInteger();
        AtomicInteger live = new AtomicInteger();
        List<Shard.Opener> shards = List.of(heavy("big.npz", 0, 1000, opens, live), heavy("small.npz", 1, 10, opens, live));
        try (ShardSet set = ShardSet.open("over", shards, 0, 100)) {
            assertEquals(2, opens.get(), "each shard is opened once to check it");
            assertEquals(1, live.get(), "the big shard is closed once it is no longer the last one used");
            for (int rep = 0; rep < 5; rep++) {
                RawBatch b = set.read(0, rep, new long[] {rep % 2});
                assertEquals(rep % 2 == 0 ? 0 : 100, b.bytes()[0]);
                assertEquals(0, b.labels()[0]);
            }
            assertEquals(3, opens.get(), "the big shard is opened (inflated) once for five reads, not per read");
            assertTrue(live.get() <= 2, "budget plus the one being read: " + live.get());
            // Reading another shard lets the big one go.
            set.read(0, 0, new long[] {2});
            assertEquals(1, live.get());
            assertEquals(1, set.openShards());
        }
        assertEquals(0, live.get());
    }

    @Test
    void threadsMissingTheSameShardOpenItOnce() throws Exception {
        AtomicInteger opens = new AtomicInteger();
        AtomicInteger live = new AtomicInteger();
        List<Shard.Opener> shards = List.of(heavy("slow.npz", 0, 100, opens, live, 50), heavy("b.npz", 1, 100, opens, live));
        try (ShardSet set = ShardSet.open("slow", shards, 0, 100);
             ExecutorService pool = Executors.newFixedThreadPool(4)) {
            assertEquals(2, opens.get());
            assertEquals(1, live.get(), "slow.npz is closed after the check");
            CountDownLatch go = new CountDownLatch(1);
            List<Future<RawBatch>> reads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int row = t % 2;
                reads.add(pool.submit(() -> {
                    go.await();
                    return set.read(0, row, new long[] {row});
                }));
            }
            go.countDown();
            for (int t = 0; t < 4; t++) {
                RawBatch b = reads.get(t).get(10, TimeUnit.SECONDS);
                assertEquals(t % 2 == 0 ? 0 : 100, b.bytes()[0], "thread " + t);
                assertArrayEquals(new int[] {0}, b.labels());
            }
            assertEquals(3, opens.get(), "four threads missing slow.npz open it once between them");
            assertTrue(live.get() <= 2, "live " + live.get());
            assertEquals(live.get(), set.openShards());
        }
        assertEquals(0, live.get(), "close() closes every open shard");
    }

    @Test
    void aShardOpenedWhileTheSetClosesIsClosedToo() throws Exception {
        AtomicInteger opens = new AtomicInteger();
        AtomicInteger live = new AtomicInteger();
        List<Shard.Opener> shards = List.of(heavy("slow.npz", 0, 100, opens, live, 300), heavy("b.npz", 1, 100, opens, live));
        ShardSet set = ShardSet.open("slow", shards, 0, 100);
        try (ExecutorService pool = Executors.newSingleThreadExecutor()) {
            Future<RawBatch> read = pool.submit(() -> set.read(0, 0, new long[] {0}));
            while (opens.get() < 3) {
                Thread.sleep(1);
            }
            set.close(); // while slow.npz is being opened
            var e = assertThrows(java.util.concurrent.ExecutionException.class, () -> read.get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof IllegalStateException, String.valueOf(e.getCause()));
        }
        assertEquals(0, live.get(), "the shard whose open finished after close() is closed");
    }

    @Test
    void aSetWithNoSamplesIsRejectedNamingTheSource() {
        AtomicInteger opens = new AtomicInteger();
        var e = assertThrows(DataFormatException.class,
                () -> ShardSet.open("train/", List.of(u8("e1.npz", 0, 0, opens), u8("e2.npz", 1, 0, opens)), 10, 1 << 20));
        assertTrue(e.getMessage().contains("train/ holds no samples") && e.getMessage().contains("e1.npz"),
                e.getMessage());
    }

    @Test
    void emptyShardsAmongOthersAreSkipped() {
        AtomicInteger opens = new AtomicInteger();
        List<Shard.Opener> shards = List.of(u8("e0", 5, 0, opens), u8("a", 0, 3, opens), u8("e1", 6, 0, opens),
                u8("b", 1, 2, opens), u8("e2", 7, 0, opens));
        try (ShardSet set = ShardSet.open("mixed", shards, 10, 1 << 20)) {
            assertEquals(5, set.samples());
            assertEquals(0, set.shardSamples(2));
            assertArrayEquals(new int[] {0, 1, 2, 3, 4}, set.chunkStarts());
            RawBatch b = set.read(0, 0, new long[] {0, 2, 3, 4});
            // ids 0..2 are rows of a (shard 0), ids 3, 4 rows 0, 1 of b (shard 1)
            assertEquals(0, b.bytes()[0]);
            assertEquals(2 * 3, b.bytes()[18]);
            assertEquals(64, b.bytes()[2 * 18] & 0xff);
            assertEquals(64 + 3, b.bytes()[3 * 18] & 0xff);
            assertArrayEquals(new int[] {0, 2, 1, 2}, b.labels());
        }
    }

    @Test
    void concurrentReadersGetTheRightSamples() throws Exception {
        AtomicInteger opens = new AtomicInteger();
        AtomicInteger live = new AtomicInteger();
        List<Shard.Opener> shards = new ArrayList<>();
        for (int s = 0; s < 8; s++) {
            shards.add(heavy("s" + s, s, 100, opens, live));
        }
        try (ShardSet set = ShardSet.open("heavy", shards, 0, 150); Parallel par = new Parallel(4)) {
            par.forChunks(4, Long.MAX_VALUE / 8, (chunk, from, to) -> {
                for (int rep = 0; rep < 200; rep++) {
                    int s = (rep * 7 + chunk * 3) % 8;
                    RawBatch b = set.read(0, rep, new long[] {2L * s});
                    assertEquals(s, b.labels()[0]);
                    assertEquals(s, b.bytes()[0]);
                }
            });
            assertTrue(set.resident() <= 150);
        }
        assertEquals(0, live.get());
    }

    @Test
    void chunkStartsFollowTheReaders() {
        AtomicInteger opens = new AtomicInteger();
        try (ShardSet set = ShardSet.open("t", List.of(u8("a", 0, 3, opens), u8("b", 1, 2, opens)), 0, 1 << 20)) {
            assertArrayEquals(new int[] {0, 1, 2, 3, 4}, set.chunkStarts());
            assertTrue(!set.chunked());
        }
    }

    @Test
    void statsMatchADirectComputation() {
        AtomicInteger opens = new AtomicInteger();
        List<Shard.Opener> shards = List.of(u8("a", 0, 300, opens), u8("b", 1, 5, opens));
        try (ShardSet set = ShardSet.open("t", shards, 0, 1 << 20); Parallel par = new Parallel(2)) {
            DataStats st = DataStats.compute(set, par, Progress.NONE);
            assertEquals(305, st.samples());
            double[] sum = new double[2];
            double[] sq = new double[2];
            for (int id = 0; id < 305; id++) {
                RawBatch b = set.read(0, 0, new long[] {id});
                for (int i = 0; i < 18; i++) {
                    double x = b.bytes()[i] & 0xff;
                    sum[i / 9] += x;
                    sq[i / 9] += x * x;
                }
            }
            for (int c = 0; c < 2; c++) {
                double n = 305 * 9;
                double mean = sum[c] / n;
                assertEquals(mean, st.mean()[c], 1e-9);
                assertEquals(Math.sqrt(sq[c] / n - mean * mean), st.std()[c], 1e-9);
            }
            assertEquals(305L, st.labelCounts().values().stream().mapToLong(Long::longValue).sum());
            assertEquals(30L, st.labelCounts().get(0)); // rows 0, 10, ..., 290 of a; the labels of b are 1..5
        }
    }
}
