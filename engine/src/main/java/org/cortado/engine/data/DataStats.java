package org.cortado.engine.data;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.cortado.engine.ops.Parallel;

/**
 * What {@code cortado data stats} reports about a shard set: sample count, sample shape, dtype,
 * label histogram, and per-channel mean and standard deviation over the raw values (before any
 * scaling): the numbers a user puts into {@code augment} (Caffe's {@code compute_image_mean} gives
 * the mean; the std is numpy's {@code x.std()} over all pixels of a channel, ddof = 0).
 *
 * @param samples     number of samples
 * @param shape       (C, H, W) of one sample
 * @param dtype       the stored element type
 * @param labelCounts samples per class id, ascending ids
 * @param mean        per channel
 * @param std         per channel, population (ddof = 0)
 */
public record DataStats(int samples, int[] shape, DType dtype, Map<Integer, Long> labelCounts, double[] mean,
                        double[] std) {

    /** Rows handed to one accumulation step: large enough to amortize, small enough to stay in cache. */
    private static final int ROWS_PER_BLOCK = 256;

    /**
     * Computes the statistics in one pass over every shard, runs of rows spread over the threads
     * of {@code par}. Sums are exact for integer data (long) and double otherwise.
     */
    public static DataStats compute(ShardSet set, Parallel par, Progress progress) {
        int[] shape = set.sampleShape();
        int channels = shape[0];
        int plane = shape[1] * shape[2];
        // Work items: runs of rows inside one shard, so a single large shard still uses every thread.
        java.util.List<int[]> blocks = new java.util.ArrayList<>(); // {shard, start, count}
        for (int s = 0; s < set.shards(); s++) {
            for (int r = 0; r < set.shardSamples(s); r += ROWS_PER_BLOCK) {
                blocks.add(new int[] {s, r, Math.min(ROWS_PER_BLOCK, set.shardSamples(s) - r)});
            }
        }
        int chunks = Math.max(1, par.threads());
        double[][] sum = new double[chunks][channels];
        double[][] sumSq = new double[chunks][channels];
        AtomicLong done = new AtomicLong();
        long total = set.samples();
        DType dtype = set.dtype();
        par.forChunks(blocks.size(), Parallel.MIN_WORK_PER_CHUNK, (chunk, from, to) -> {
            float[] buf = dtype == DType.U1 ? null : new float[ROWS_PER_BLOCK * channels * plane];
            double[] su = sum[chunk];
            double[] sq = sumSq[chunk];
            for (int b = from; b < to; b++) {
                int[] blk = blocks.get(b);
                set.scan(blk[0], blk[1], blk[2], (rows, count, labels) -> {
                    if (buf == null) {
                        accumulateBytes(rows, count, channels, plane, su, sq);
                    } else {
                        dtype.toFloat(rows, 0, buf, 0, count * channels * plane);
                        accumulateFloats(buf, count, channels, plane, su, sq);
                    }
                });
                progress.update(done.addAndGet(blk[2]), total);
            }
        });
        double[] mean = new double[channels];
        double[] std = new double[channels];
        double n = (double) total * plane;
        for (int c = 0; c < channels; c++) {
            double s = 0;
            double q = 0;
            for (int k = 0; k < chunks; k++) {
                s += sum[k][c];
                q += sumSq[k][c];
            }
            mean[c] = n == 0 ? Double.NaN : s / n;
            std[c] = n == 0 ? Double.NaN : Math.sqrt(Math.max(0, q / n - mean[c] * mean[c]));
        }
        return new DataStats(set.samples(), shape, dtype, set.labelCounts(), mean, std);
    }

    /** uint8: integer sums per row and channel (exact), added to the double totals. */
    private static void accumulateBytes(ByteBuffer rows, int count, int channels, int plane, double[] sum, double[] sq) {
        int at = 0;
        for (int r = 0; r < count; r++) {
            for (int c = 0; c < channels; c++) {
                long s = 0;
                long q = 0;
                for (int i = 0; i < plane; i++) {
                    int v = rows.get(at++) & 0xff;
                    s += v;
                    q += v * v;
                }
                sum[c] += s;
                sq[c] += q;
            }
        }
    }

    /**
     * Float data: per-block sums in double. The variance comes from E[x²] − E[x]², fine for image
     * data (values of similar magnitude); the blocks keep the rounding of the sums small.
     */
    private static void accumulateFloats(float[] v, int count, int channels, int plane, double[] sum, double[] sq) {
        int at = 0;
        for (int r = 0; r < count; r++) {
            for (int c = 0; c < channels; c++) {
                double s = 0;
                double q = 0;
                for (int i = 0; i < plane; i++) {
                    double x = v[at++];
                    s += x;
                    q += x * x;
                }
                sum[c] += s;
                sq[c] += q;
            }
        }
    }
}
