package org.cortado.engine.fill;

import java.util.random.RandomGenerator;
import org.cortado.engine.ConfigException;
import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Tensor;

/**
 * Caffe's weight fillers ({@code weight_filler: {type: ..., ...}}), with Caffe's fields and defaults:
 * <ul>
 *   <li>{@code constant}: every value is {@code value} (default 0). Caffe's default filler.</li>
 *   <li>{@code uniform}: U({@code min}, {@code max}), defaults 0 and 1.</li>
 *   <li>{@code gaussian}: N({@code mean}, {@code std}), defaults 0 and 1. With {@code sparse} (default
 *       -1, off; {@code >= -1}) {@code >= 0}, each value is then kept with probability
 *       {@code p = sparse / num_outputs} ({@code num_outputs = shape[0]}) and set to 0 otherwise, as
 *       Caffe's GaussianFiller does with a Bernoulli mask ({@code sparse 0} zeroes everything;
 *       {@code p > 1} is an error, as Caffe's {@code CHECK_LE(p, 1)}).</li>
 *   <li>{@code positive_unitball}: U(0, 1), then each of the {@code shape[0]} rows (one output's
 *       {@code count/shape[0]} fan-in values) divided by its sum, so every row sums to 1.</li>
 *   <li>{@code bilinear}: for deconvolution upsampling; a 4-d blob {@code (out, in, k, k)} with a
 *       square kernel. With {@code f = ceil(k / 2)} and Caffe's {@code c = (k - 1) / (2 f)}, every
 *       {@code k x k} slice is {@code w(y, x) = (1 - |x / f - c|) * (1 - |y / f - c|)} (for k = 3:
 *       rows {@code [0.5, 1, 0.5]} outer themselves; for k = 4: {@code [0.25, 0.75, 0.75, 0.25]}).</li>
 *   <li>{@code xavier}: U(-a, a) with {@code a = sqrt(3 / n)}.</li>
 *   <li>{@code msra}: N(0, sqrt(2 / n)).</li>
 * </ul>
 * For xavier and msra, {@code n} follows {@code variance_norm}: FAN_IN (default) {@code = count/shape[0]},
 * FAN_OUT {@code = count/shape[1]}, AVERAGE their mean; for a convolution weight
 * {@code (out, in, kh, kw)} that is {@code in*kh*kw} and {@code out*kh*kw}, as in Caffe.
 */
public record Filler(Type type, double value, double min, double max, double mean, double std,
                     VarianceNorm varianceNorm, int sparse) {

    public enum Type { CONSTANT, UNIFORM, GAUSSIAN, XAVIER, MSRA, POSITIVE_UNITBALL, BILINEAR }

    public enum VarianceNorm { FAN_IN, FAN_OUT, AVERAGE }

    public static final Filler ZERO = constant(0);

    public static Filler constant(double value) {
        return new Filler(Type.CONSTANT, value, 0, 1, 0, 1, VarianceNorm.FAN_IN, -1);
    }

    public static Filler of(Type type) {
        return new Filler(type, 0, 0, 1, 0, 1, VarianceNorm.FAN_IN, -1);
    }

    /** Reads a filler object (the value of {@code weight_filler}, {@code bias_filler}, ...). */
    public static Filler parse(Json j) {
        Type type = j.getEnum("type", Type.class, Type.CONSTANT);
        Filler f = new Filler(type, j.getDouble("value", 0), j.getDouble("min", 0), j.getDouble("max", 1),
                j.getDouble("mean", 0), j.getDouble("std", 1),
                j.getEnum("variance_norm", VarianceNorm.class, VarianceNorm.FAN_IN), j.getInt("sparse", -1));
        if (f.type == Type.UNIFORM && !(f.min <= f.max)) {
            throw j.error("max", "must be >= min (" + f.min + "), got " + f.max);
        }
        if (f.type == Type.GAUSSIAN && !(f.std >= 0)) {
            throw j.error("std", "must be >= 0, got " + f.std);
        }
        if (f.sparse < -1) {
            throw j.error("sparse", "must be >= -1 (-1: off), got " + f.sparse);
        }
        if (f.sparse != -1 && f.type != Type.GAUSSIAN) {
            throw j.error("sparse", "only the gaussian filler supports sparse, got " + f.sparse + " for "
                    + f.type.name().toLowerCase());
        }
        j.rejectUnknown();
        return f;
    }

    /** Reads {@code key} of {@code parent} as a filler, or returns {@code def} when absent. */
    public static Filler parse(Json parent, String key, Filler def) {
        return parent.optObject(key).map(Filler::parse).orElse(def);
    }

    /** Fills the tensor's {@code count()} values. */
    public void fill(Tensor t, RandomGenerator rng) {
        float[] x = t.data();
        int n = t.count();
        switch (type) {
            case CONSTANT -> t.fill((float) value);
            case UNIFORM -> uniform(x, n, min, max, rng);
            case GAUSSIAN -> {
                gaussian(x, n, mean, std, rng);
                if (sparse >= 0) {
                    sparsify(t, rng);
                }
            }
            case POSITIVE_UNITBALL -> positiveUnitball(t, rng);
            case BILINEAR -> bilinear(t);
            case XAVIER -> {
                double a = Math.sqrt(3.0 / fan(t));
                uniform(x, n, -a, a, rng);
            }
            case MSRA -> gaussian(x, n, 0, Math.sqrt(2.0 / fan(t)), rng);
        }
    }

    /** Caffe's sparse gaussian: keeps each value with probability sparse / shape[0]. */
    private void sparsify(Tensor t, RandomGenerator rng) {
        if (t.rank() < 1 || t.dim(0) == 0) {
            throw new ConfigException("gaussian filler with sparse needs a blob with outputs, got " + t);
        }
        double p = (double) sparse / t.dim(0);
        if (p > 1) {
            throw new ConfigException("gaussian filler: sparse " + sparse + " exceeds num_outputs " + t.dim(0)
                    + " of " + t + " (keep probability sparse / num_outputs must be <= 1)");
        }
        float[] x = t.data();
        for (int i = 0; i < t.count(); i++) {
            if (!(rng.nextDouble() < p)) {
                x[i] = 0;
            }
        }
    }

    /** U(0, 1), then each row of count/shape[0] values divided by its sum (Caffe: float sum). */
    private static void positiveUnitball(Tensor t, RandomGenerator rng) {
        if (t.rank() < 1 || t.count() == 0) {
            throw new ConfigException("positive_unitball filler needs a non-empty blob, got " + t);
        }
        float[] x = t.data();
        uniform(x, t.count(), 0, 1, rng);
        int rows = t.dim(0);
        int dim = t.count() / rows;
        for (int r = 0; r < rows; r++) {
            float sum = 0;
            for (int j = 0; j < dim; j++) {
                sum += x[r * dim + j];
            }
            for (int j = 0; j < dim; j++) {
                x[r * dim + j] /= sum;
            }
        }
    }

    /** Caffe's BilinearFiller: the same k x k bilinear kernel in every (out, in) slice. */
    private static void bilinear(Tensor t) {
        if (t.rank() != 4 || t.dim(2) != t.dim(3)) {
            throw new ConfigException("bilinear filler needs a 4-d blob (out, in, k, k) with a square kernel, got " + t);
        }
        int k = t.dim(3);
        int f = (k + 1) / 2; // ceil(k / 2)
        double c = (k - 1) / (2.0 * f);
        float[] x = t.data();
        for (int i = 0; i < t.count(); i++) {
            double px = i % k;
            double py = (i / k) % k;
            x[i] = (float) ((1 - Math.abs(px / f - c)) * (1 - Math.abs(py / f - c)));
        }
    }

    private double fan(Tensor t) {
        if (t.rank() < 1 || t.count() == 0) {
            throw new ConfigException(type.name().toLowerCase() + " filler needs a non-empty blob, got " + t);
        }
        double fanIn = (double) t.count() / t.dim(0);
        double fanOut = t.rank() > 1 ? (double) t.count() / t.dim(1) : t.count();
        return switch (varianceNorm) {
            case FAN_IN -> fanIn;
            case FAN_OUT -> fanOut;
            case AVERAGE -> (fanIn + fanOut) / 2;
        };
    }

    private static void uniform(float[] x, int n, double lo, double hi, RandomGenerator rng) {
        for (int i = 0; i < n; i++) {
            x[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        }
    }

    private static void gaussian(float[] x, int n, double mean, double std, RandomGenerator rng) {
        for (int i = 0; i < n; i++) {
            x[i] = (float) (mean + std * rng.nextGaussian());
        }
    }
}
