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
 *   <li>{@code gaussian}: N({@code mean}, {@code std}), defaults 0 and 1.</li>
 *   <li>{@code xavier}: U(-a, a) with {@code a = sqrt(3 / n)}.</li>
 *   <li>{@code msra}: N(0, sqrt(2 / n)).</li>
 * </ul>
 * For xavier and msra, {@code n} follows {@code variance_norm}: FAN_IN (default) {@code = count/shape[0]},
 * FAN_OUT {@code = count/shape[1]}, AVERAGE their mean; for a convolution weight
 * {@code (out, in, kh, kw)} that is {@code in*kh*kw} and {@code out*kh*kw}, as in Caffe.
 */
public record Filler(Type type, double value, double min, double max, double mean, double std,
                     VarianceNorm varianceNorm) {

    public enum Type { CONSTANT, UNIFORM, GAUSSIAN, XAVIER, MSRA }

    public enum VarianceNorm { FAN_IN, FAN_OUT, AVERAGE }

    public static final Filler ZERO = constant(0);

    public static Filler constant(double value) {
        return new Filler(Type.CONSTANT, value, 0, 1, 0, 1, VarianceNorm.FAN_IN);
    }

    public static Filler of(Type type) {
        return new Filler(type, 0, 0, 1, 0, 1, VarianceNorm.FAN_IN);
    }

    /** Reads a filler object (the value of {@code weight_filler}, {@code bias_filler}, ...). */
    public static Filler parse(Json j) {
        Type type = j.getEnum("type", Type.class, Type.CONSTANT);
        Filler f = new Filler(type, j.getDouble("value", 0), j.getDouble("min", 0), j.getDouble("max", 1),
                j.getDouble("mean", 0), j.getDouble("std", 1),
                j.getEnum("variance_norm", VarianceNorm.class, VarianceNorm.FAN_IN));
        if (f.type == Type.UNIFORM && !(f.min <= f.max)) {
            throw j.error("max", "must be >= min (" + f.min + "), got " + f.max);
        }
        if (f.type == Type.GAUSSIAN && !(f.std >= 0)) {
            throw j.error("std", "must be >= 0, got " + f.std);
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
            case GAUSSIAN -> gaussian(x, n, mean, std, rng);
            case XAVIER -> {
                double a = Math.sqrt(3.0 / fan(t));
                uniform(x, n, -a, a, rng);
            }
            case MSRA -> gaussian(x, n, 0, Math.sqrt(2.0 / fan(t)), rng);
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
