package org.cortado.engine.train;

import java.util.ArrayList;
import java.util.List;
import org.cortado.engine.ops.Elementwise;
import org.cortado.engine.solver.Param;

/**
 * Per-layer numbers for watching a training, sampled every few steps: each param's weight and
 * gradient norms, its update:parameter ratio (DL4J's signature chart) and a histogram of its weights;
 * each activation blob's mean, standard deviation, fraction of zeros and histogram.
 *
 * <p>The update:parameter ratio is DL4J's: the mean magnitude of the update divided by the mean
 * magnitude of the weights before it, {@code sum|w' - w| / sum|w|}, here over an evenly strided sample
 * of at most {@value #SAMPLE} values of each param (so a probe copies a few KB, never the net). A
 * healthy ratio is around 1e-3. The gradient norm is that of the gradient the update uses (the
 * accumulated diff divided by {@code iter_size}), before clipping.
 */
public final class LayerStats {
    /** Histogram bins. */
    public static final int BINS = 30;
    /** Values per param sampled for the update ratio. */
    public static final int SAMPLE = 4096;

    private LayerStats() {}

    /**
     * Equal-width bins over {@code [min, max]} of the finite values (the maximum falls in the last bin);
     * {@code nonFinite} counts NaN and infinite values, which are left out.
     */
    public record Histogram(double min, double max, long[] counts, long nonFinite) {
        public static Histogram of(float[] a, int n, int bins) {
            float lo = Float.POSITIVE_INFINITY;
            float hi = Float.NEGATIVE_INFINITY;
            long bad = 0;
            for (int i = 0; i < n; i++) {
                float v = a[i];
                if (!Float.isFinite(v)) {
                    bad++;
                    continue;
                }
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            long[] counts = new long[bins];
            if (bad == n) {
                return new Histogram(Double.NaN, Double.NaN, counts, bad);
            }
            double width = (hi - lo) / bins;
            for (int i = 0; i < n; i++) {
                float v = a[i];
                if (Float.isFinite(v)) {
                    int b = width > 0 ? (int) ((v - lo) / width) : 0;
                    counts[Math.min(bins - 1, b)]++;
                }
            }
            return new Histogram(lo, hi, counts, bad);
        }
    }

    /** One param at a sampled update; {@code updateRatio} is NaN when the weights were all zero (a fresh bias). */
    public record ParamStat(String name, double weightNorm, double gradNorm, double updateRatio, Histogram weights) {}

    /** One activation blob at a sampled forward. */
    public record ActivationStat(String blob, double mean, double std, double zeroFraction, Histogram values) {}

    /** The numbers of the first {@code n} values of {@code a}, an activation blob. */
    public static ActivationStat activation(String blob, float[] a, int n) {
        double sum = 0;
        double sumsq = 0;
        long zeros = 0;
        long finite = 0;
        for (int i = 0; i < n; i++) {
            float v = a[i];
            if (Float.isFinite(v)) {
                sum += v;
                sumsq += (double) v * v;
                finite++;
                if (v == 0) {
                    zeros++;
                }
            }
        }
        double mean = finite == 0 ? Double.NaN : sum / finite;
        double var = finite == 0 ? Double.NaN : Math.max(0, sumsq / finite - mean * mean);
        return new ActivationStat(blob, mean, Math.sqrt(var), n == 0 ? 0 : zeros / (double) n, Histogram.of(a, n, BINS));
    }

    /** Taken just before an update; {@link #after} gives the stats once the update is applied. */
    public static final class UpdateProbe {
        private final List<Param> params;
        private final double[] weightNorms;
        private final double[] gradNorms;
        private final float[][] before;

        /** Records the weights' and gradients' norms and a sample of each param's weights. */
        public UpdateProbe(List<Param> params, int iterSize) {
            this.params = List.copyOf(params);
            int k = this.params.size();
            weightNorms = new double[k];
            gradNorms = new double[k];
            before = new float[k][];
            for (int p = 0; p < k; p++) {
                var b = this.params.get(p).blob();
                int n = b.count();
                weightNorms[p] = Math.sqrt(Elementwise.sumsq(n, b.x(), 0));
                gradNorms[p] = Math.sqrt(Elementwise.sumsq(n, b.dx(), 0)) / Math.max(1, iterSize);
                int stride = stride(n);
                float[] s = new float[Math.min(n, SAMPLE)];
                for (int i = 0; i < s.length; i++) {
                    s[i] = b.x()[i * stride];
                }
                before[p] = s;
            }
        }

        private static int stride(int n) {
            return Math.max(1, n / SAMPLE);
        }

        /** The stats of each param, after the update. */
        public List<ParamStat> after() {
            List<ParamStat> out = new ArrayList<>();
            for (int p = 0; p < params.size(); p++) {
                Param param = params.get(p);
                float[] w = param.blob().x();
                int n = param.blob().count();
                int stride = stride(n);
                double moved = 0;
                double size = 0;
                float[] s = before[p];
                for (int i = 0; i < s.length; i++) {
                    moved += Math.abs(w[i * stride] - s[i]);
                    size += Math.abs(s[i]);
                }
                out.add(new ParamStat(param.name(), weightNorms[p], gradNorms[p], size > 0 ? moved / size : Double.NaN,
                        Histogram.of(w, n, BINS)));
            }
            return out;
        }
    }
}
