package org.cortado.engine.data;

import java.util.concurrent.atomic.AtomicLong;
import org.cortado.engine.ops.Parallel;

/**
 * How fast a shard set reads ({@code cortado data bench}), two ways:
 * <ul>
 *   <li><b>full read</b>: the set opened (every file's header, every label read and checked) and
 *       every shard's data array read whole into heap memory, shards spread over the threads: what
 *       {@code np.load(f)} and h5py's {@code f["data"][:]} (plus the labels) do, so the two compare
 *       directly (see {@code bench/data_read.py});
 *   <li><b>loader</b>: one epoch in the order the training loader uses (shuffled; chunk-aware for
 *       chunked sets), in batches, through {@link ShardSet#read}: what training costs.
 * </ul>
 * Each is repeated {@code passes} times; the best pass counts (the first warms the JIT and the page
 * cache).
 *
 * @param samples          samples in the set
 * @param bytes            bytes of pixel data in the set (as stored)
 * @param fullReadSeconds  best full-read pass
 * @param loaderSeconds    best loader pass
 */
public record ReadBenchmark(int samples, long bytes, double fullReadSeconds, double loaderSeconds) {

    /** Written after each run so the JIT cannot drop reads whose results are otherwise unused. */
    private static volatile long blackhole;

    public double fullReadSamplesPerSec() {
        return samples / fullReadSeconds;
    }

    public double loaderSamplesPerSec() {
        return samples / loaderSeconds;
    }

    public static ReadBenchmark run(SourceConfig src, int batch, int passes, Parallel par) {
        double full = Double.MAX_VALUE;
        double loader = Double.MAX_VALUE;
        AtomicLong sink = new AtomicLong(); // keeps the JIT from dropping the reads
        for (int p = 0; p < Math.max(1, passes); p++) {
            long t0 = System.nanoTime();
            try (ShardSet set = ShardSet.open(src)) {
                par.forChunks(set.shards(), Long.MAX_VALUE / Math.max(1, set.shards()), (chunk, from, to) -> {
                    for (int s = from; s < to; s++) {
                        set.scan(s, 0, set.shardSamples(s), (rows, count, labels) -> {
                            byte[] copy = new byte[rows.remaining()];
                            rows.get(0, copy);
                            sink.addAndGet(copy[copy.length - 1] + labels[count - 1]);
                        });
                    }
                });
            }
            full = Math.min(full, (System.nanoTime() - t0) / 1e9);
        }
        try (ShardSet set = ShardSet.open(src)) {
            long bytes = (long) set.samples() * set.sampleElements() * set.dtype().size;
            Sampler sampler = src.sampler(set, batch, 1);
            for (int p = 0; p < Math.max(1, passes); p++) {
                long t1 = System.nanoTime();
                int epoch = p;
                int batches = sampler.batchesPerEpoch();
                par.forChunks(batches, Long.MAX_VALUE / Math.max(1, batches), (chunk, from, to) -> {
                    for (int b = from; b < to; b++) {
                        RawBatch rb = set.read(epoch, b, sampler.batch(epoch, b));
                        sink.addAndGet(rb.labels()[0]);
                    }
                });
                loader = Math.min(loader, (System.nanoTime() - t1) / 1e9);
            }
            blackhole = sink.get();
            return new ReadBenchmark(set.samples(), bytes, full, loader);
        }
    }
}
