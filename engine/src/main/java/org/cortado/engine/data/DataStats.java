package org.cortado.engine.data;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.cortado.engine.ops.Parallel;

/**
 * What {@code cortado data stats} reports about a shard set: sample count, sample shape, dtype,
 * label histogram, and per-channel mean and standard deviation over the raw values (before any
 * scaling): the numbers a user puts into {@code augment}. (Caffe's {@code compute_image_mean}
 * gives a per-pixel mean image; the per-channel mean here is the average of that image over each
 * channel's pixels. The std is numpy's {@code x.std()} over all pixels of a channel, ddof = 0.)
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

    /**
     * Bytes of values handed to one accumulation step (the float conversion buffer of each thread
     * is at most this, or one sample): large enough to amortize the scan call, small enough that a
     * block's two passes over its values run from cache. Sized by bytes, not rows, so large samples
     * do not make the buffer huge.
     */
    private static final long BLOCK_BYTES = 4L << 20;

    /**
     * Computes the statistics in one pass over every shard, runs of rows spread over the threads
     * of {@code par}. Integer (uint8) data: exact long sums. Other data: per block and channel the
     * count, mean and sum of squared deviations (two passes over the block), blocks merged with
     * Chan et al.'s parallel formula, so a large offset (values 1000 + small noise) costs no
     * precision, as E[x²] − E[x]² would.
     */
    public static DataStats compute(ShardSet set, Parallel par, Progress progress) {
        int[] shape = set.sampleShape();
        int channels = shape[0];
        int plane = shape[1] * shape[2];
        DType dtype = set.dtype();
        boolean bytes = dtype == DType.U1;
        long sampleElements = (long) channels * plane;
        long sampleBytes = Math.max(1, sampleElements * (bytes ? 1 : Float.BYTES));
        int rowsPerBlock = (int) Math.max(1, Math.min(Integer.MAX_VALUE, BLOCK_BYTES / sampleBytes));
        // Work items: runs of rows inside one shard, so a single large shard still uses every thread.
        java.util.List<int[]> blocks = new java.util.ArrayList<>(); // {shard, start, count}
        for (int s = 0; s < set.shards(); s++) {
            for (int r = 0; r < set.shardSamples(s); r += rowsPerBlock) {
                blocks.add(new int[] {s, r, Math.min(rowsPerBlock, set.shardSamples(s) - r)});
            }
        }
        int chunks = Math.max(1, par.threads());
        long[][] sumL = new long[chunks][channels];   // uint8
        long[][] sumSqL = new long[chunks][channels]; // uint8
        Moments[][] moments = new Moments[chunks][channels]; // other types
        for (Moments[] m : moments) {
            java.util.Arrays.setAll(m, c -> new Moments());
        }
        AtomicLong done = new AtomicLong();
        long total = set.samples();
        par.forChunks(blocks.size(), Parallel.MIN_WORK_PER_CHUNK, (chunk, from, to) -> {
            float[] buf = bytes ? null : new float[Math.toIntExact(rowsPerBlock * sampleElements)];
            for (int b = from; b < to; b++) {
                int[] blk = blocks.get(b);
                set.scan(blk[0], blk[1], blk[2], (rows, count, labels) -> {
                    if (buf == null) {
                        accumulateBytes(rows, count, channels, plane, sumL[chunk], sumSqL[chunk]);
                    } else {
                        dtype.toFloat(rows, 0, buf, 0, count * channels * plane);
                        accumulateFloats(buf, count, channels, plane, moments[chunk]);
                    }
                });
                progress.update(done.addAndGet(blk[2]), total);
            }
        });
        double[] mean = new double[channels];
        double[] std = new double[channels];
        long n = total * plane;
        for (int c = 0; c < channels; c++) {
            if (n == 0) {
                mean[c] = Double.NaN;
                std[c] = Double.NaN;
            } else if (bytes) {
                long s = 0;
                long q = 0;
                for (int k = 0; k < chunks; k++) {
                    s += sumL[k][c];
                    q += sumSqL[k][c];
                }
                mean[c] = (double) s / n;
                // n² var = n q − s², exact in BigInteger; one rounding at the end.
                java.math.BigInteger bn = java.math.BigInteger.valueOf(n);
                java.math.BigInteger bs = java.math.BigInteger.valueOf(s);
                double num = bn.multiply(java.math.BigInteger.valueOf(q)).subtract(bs.multiply(bs)).doubleValue();
                std[c] = Math.sqrt(Math.max(0, num / n / n));
            } else {
                Moments all = new Moments();
                for (int k = 0; k < chunks; k++) {
                    all.merge(moments[k][c].count, moments[k][c].mean, moments[k][c].m2);
                }
                mean[c] = all.mean;
                std[c] = Math.sqrt(Math.max(0, all.m2 / all.count));
            }
        }
        return new DataStats(set.samples(), shape, dtype, set.labelCounts(), mean, std);
    }

    /** uint8: integer sums per channel (exact). */
    private static void accumulateBytes(ByteBuffer rows, int count, int channels, int plane, long[] sum, long[] sq) {
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
     * Float data: for each channel, the block's mean (first pass) and sum of squared deviations
     * from it (second pass), merged into the thread's running moments.
     */
    private static void accumulateFloats(float[] v, int count, int channels, int plane, Moments[] acc) {
        if (plane == 0 || count == 0) {
            return;
        }
        int stride = channels * plane;
        for (int c = 0; c < channels; c++) {
            double s = 0;
            for (int r = 0; r < count; r++) {
                for (int i = r * stride + c * plane, end = i + plane; i < end; i++) {
                    s += v[i];
                }
            }
            long n = (long) count * plane;
            double m = s / n;
            double m2 = 0;
            double d = 0; // sum of deviations: corrects the rounding of m (two-pass corrected formula)
            for (int r = 0; r < count; r++) {
                for (int i = r * stride + c * plane, end = i + plane; i < end; i++) {
                    double x = v[i] - m;
                    m2 += x * x;
                    d += x;
                }
            }
            m2 -= d * d / n;
            acc[c].merge(n, m + d / n, Math.max(0, m2));
        }
    }

    /** Running count, mean and sum of squared deviations of one channel (Chan et al.'s merge). */
    private static final class Moments {
        long count;
        double mean;
        double m2;

        void merge(long nb, double meanB, double m2b) {
            if (nb == 0) {
                return;
            }
            if (count == 0) {
                count = nb;
                mean = meanB;
                m2 = m2b;
                return;
            }
            long na = count;
            double n = (double) na + nb;
            double delta = meanB - mean;
            mean += delta * (nb / n);
            m2 += m2b + delta * delta * ((double) na * nb / n);
            count = na + nb;
        }
    }
}
