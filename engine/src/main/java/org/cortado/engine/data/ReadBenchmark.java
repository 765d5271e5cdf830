package org.cortado.engine.data;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;
import org.cortado.engine.ops.Parallel;

/**
 * How fast a shard set reads ({@code cortado data bench}). Three measures:
 * <ul>
 *   <li><b>full read</b>: the set opened (every file's header, every label read and checked) and
 *       every shard's data made resident and readable, shards spread over the threads: chunks
 *       decompressed into heap memory; a memory-mapped file's pages all read (one byte a page, so
 *       the OS brings every page in). This is what {@code np.load(f)} and h5py's
 *       {@code f["data"][:]} (plus the labels) give a numpy user: the whole array ready to index
 *       (see {@code bench/data_read.py});
 *   <li><b>full copy</b>: the same, but a mapped file's bytes are also copied into a heap array, as
 *       np.load copies them: the stricter comparison for mapped files (the loader never needs it:
 *       it copies samples from the mapping straight into batches);
 *   <li><b>loader</b>: one epoch in the order the training loader uses (shuffled; chunk-aware for
 *       chunked sets), in batches, through {@link ShardSet#read}, from a freshly opened set (empty
 *       chunk caches): what the first epoch of training costs.
 * </ul>
 * Each is repeated {@code passes} times; the best pass counts (the first ones warm the JIT and the
 * page cache).
 *
 * @param samples          samples in the set
 * @param bytes            bytes of pixel data in the set (as stored)
 * @param fullReadSeconds  best full-read pass
 * @param fullCopySeconds  best full-copy pass
 * @param loaderSeconds    best loader pass
 */
public record ReadBenchmark(int samples, long bytes, double fullReadSeconds, double fullCopySeconds,
                            double loaderSeconds) {

    private static final int PAGE = 4096;

    /** Written after each run so the JIT cannot drop reads whose results are otherwise unused. */
    private static volatile long blackhole;

    public double fullReadSamplesPerSec() {
        return samples / fullReadSeconds;
    }

    public double loaderSamplesPerSec() {
        return samples / loaderSeconds;
    }

    public static ReadBenchmark run(SourceConfig src, int batch, int passes, Parallel par) {
        AtomicLong sink = new AtomicLong(); // keeps the JIT from dropping the reads
        double full = Double.MAX_VALUE;
        double copy = Double.MAX_VALUE;
        for (int p = 0; p < Math.max(1, passes); p++) {
            full = Math.min(full, fullPass(src, par, false, sink));
            copy = Math.min(copy, fullPass(src, par, true, sink));
        }
        double loader = Double.MAX_VALUE;
        int samples = 0;
        long bytes = 0;
        for (int p = 0; p < Math.max(1, passes); p++) {
            // A fresh set each pass: chunk caches start empty, so every chunk is decompressed again.
            try (ShardSet set = ShardSet.open(src)) {
                samples = set.samples();
                bytes = (long) samples * set.sampleElements() * set.dtype().size;
                Sampler sampler = src.sampler(set, batch, 1);
                long t1 = System.nanoTime();
                int epoch = p;
                int batches = sampler.batchesPerEpoch();
                // Batches interleaved over the threads (thread t reads t, t + T, t + 2T, ...), as the
                // training loader's workers do: the threads stay within the same shuffle window, so the
                // chunk cache (about two windows) holds what they read. Contiguous ranges per thread
                // would read T windows at once and decompress chunks again and again.
                int threads = par.threads();
                par.forChunks(threads, Long.MAX_VALUE / threads, (chunk, from, to) -> {
                    for (int t = from; t < to; t++) {
                        for (int b = t; b < batches; b += threads) {
                            RawBatch rb = set.read(epoch, b, sampler.batch(epoch, b));
                            sink.addAndGet(rb.labels()[0]);
                        }
                    }
                });
                loader = Math.min(loader, (System.nanoTime() - t1) / 1e9);
            }
        }
        blackhole = sink.get();
        return new ReadBenchmark(samples, bytes, full, copy, loader);
    }

    /** At most this many bytes of a shard are handed to one scan call (shards may exceed 2 GiB). */
    private static final long SCAN_BLOCK_BYTES = 256L << 20;

    /** One full pass: open the set, make every shard's data resident (and copy it, if asked). */
    private static double fullPass(SourceConfig src, Parallel par, boolean copyMapped, AtomicLong sink) {
        long t0 = System.nanoTime();
        try (ShardSet set = ShardSet.open(src)) {
            long rowBytes = Math.max(1L, (long) set.sampleElements() * set.dtype().size);
            int blockRows = (int) Math.max(1, Math.min(Integer.MAX_VALUE, SCAN_BLOCK_BYTES / rowBytes));
            par.forChunks(set.shards(), Long.MAX_VALUE / Math.max(1, set.shards()), (chunk, from, to) -> {
                for (int s = from; s < to; s++) {
                    int n = set.shardSamples(s);
                    for (int start = 0; start < n; start += blockRows) { // an empty shard: nothing to read
                        set.scan(s, start, Math.min(blockRows, n - start), (rows, count, labels) -> {
                            long sum = count > 0 ? labels[count - 1] : 0;
                            if (rows.limit() == 0) {
                                // zero-size samples: nothing to touch
                            } else if (rows.isDirect() && copyMapped) {
                                byte[] heap = new byte[rows.remaining()];
                                rows.get(0, heap);
                                sum += heap[heap.length - 1];
                            } else if (rows.isDirect()) {
                                sum += touchPages(rows);
                            } else {
                                sum += rows.get(rows.limit() - 1); // decompressed: already in memory
                            }
                            sink.addAndGet(sum);
                        });
                    }
                }
            });
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private static long touchPages(ByteBuffer b) {
        long sum = 0;
        for (int i = 0; i < b.limit(); i += PAGE) {
            sum += b.get(i);
        }
        return sum + b.get(b.limit() - 1);
    }
}
