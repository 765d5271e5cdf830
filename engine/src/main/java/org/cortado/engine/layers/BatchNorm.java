package org.cortado.engine.layers;

import java.util.ArrayList;
import java.util.List;
import org.cortado.engine.ConfigException;
import org.cortado.engine.config.Json;
import org.cortado.engine.net.Phase;
import org.cortado.engine.ops.Elementwise;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's {@code BatchNorm}: per channel {@code c} (axis 1; a 1-axis bottom is one channel),
 * <pre>
 *   y = (x - mean[c]) / sqrt(var[c] + eps)
 * </pre>
 * with no scale or shift: as in Caffe, those are a following {@code Scale} layer with
 * {@code bias_term: true}.
 *
 * <p>Fields (Caffe's defaults): {@code use_global_stats} (true in the TEST phase, false in TRAIN),
 * {@code moving_average_fraction} (0.999), {@code eps} (1e-5).
 *
 * <p>Blobs, saved in the weights exactly as Caffe's: {@code 0} the running mean sum {@code (C)},
 * {@code 1} the running variance sum {@code (C)}, {@code 2} the moving-average factor {@code (1)}; all
 * start at zero. They are statistics, not learnable: as Caffe's {@code BatchNormLayer::LayerSetUp}
 * does, every {@code param} spec of this layer gets {@code lr_mult 0} (a configured non-zero
 * {@code lr_mult} is an error), so the solver neither moves nor decays them and backward never writes
 * their diffs. A {@code param.name} may still share them between layers.
 *
 * <p>TRAIN ({@code use_global_stats} false), with {@code m = N * H * W} values per channel:
 * <pre>
 *   mean[c] = sum(x[:, c]) / m                 var[c] = sum((x[:, c] - mean[c])^2) / m   (biased)
 *   factor   = moving_average_fraction * factor + 1
 *   mean_sum = mean + moving_average_fraction * mean_sum
 *   var_sum  = m / (m - 1) * var + moving_average_fraction * var_sum       (m/(m-1) is 1 when m = 1)
 *   dx = (dy - mean_c(dy) - y * mean_c(dy * y)) / sqrt(var[c] + eps)
 * </pre>
 * Global stats ({@code use_global_stats} true): {@code mean = mean_sum / factor},
 * {@code var = var_sum / factor} (both 0 while the factor is 0), and {@code dx = dy / sqrt(var + eps)}.
 *
 * <p>Against PyTorch: the TRAIN output and gradient equal {@code F.batch_norm(x, training=True, eps)}
 * without weight and bias. The running statistics differ in form: PyTorch keeps averages
 * {@code running = (1 - momentum) * running + momentum * batch} (unbiased variance, starting from
 * mean 0 and variance 1), Caffe keeps the un-normalized sums above and divides by the factor when it
 * uses them; after {@code t} passes Caffe's estimate is the mean of the batch statistics weighted by
 * {@code fraction^(t - i)}, with no initial value mixed in.
 *
 * <p>In place is allowed (Caffe allows it): forward keeps its own copy of the normalized output.
 *
 * <p>Folded Scale: the Caffe idiom is a BatchNorm followed by an in-place {@code Scale} with
 * {@code bias_term}, the affine part that PyTorch's {@code BatchNorm2d} has built in. Done as two layers
 * that is two more passes over the activations each way (and a copy of x for the Scale's gradient), so
 * {@link org.cortado.engine.net.Net} hands such a Scale's work to this layer ({@link #fold}): forward
 * writes {@code y = gamma[c] * x_norm + beta[c]} in the same pass as {@code x_norm}, and backward reads
 * {@code dy} once for all the gradients:
 * <pre>
 *   dgamma[c] += sum(dy * x_norm)      dbeta[c] += sum(dy)
 *   dx = gamma[c] / sqrt(var[c] + eps) * (dy - mean_c(dy) - x_norm * mean_c(dy * x_norm))
 * </pre>
 * ({@code dx = gamma[c] * dy / sqrt(var + eps)} with global stats), which is the two layers' backward
 * composed. The Scale keeps its learnable blobs; results equal the unfolded pair's up to rounding.
 */
public final class BatchNorm extends Layer {
    private final boolean useGlobalStats;
    private final float movingAverageFraction;
    private final float eps;

    private int channels;
    private int num;          // N
    private int spatial;      // count(2), 1 for a 2-axis bottom
    private float[] xNorm = new float[0];       // (N, C, S) the normalized output, for backward
    private double[] channelMean = new double[0]; // (C)
    private double[] invStd = new double[0];      // (C) 1 / sqrt(var + eps)
    private Scale affine;     // the folded Scale after this layer, or null

    public BatchNorm(LayerConfig config, LayerContext ctx) {
        super(frozenStatistics(config), ctx);
        Json j = config.json();
        useGlobalStats = j.getBool("use_global_stats", ctx.phase() == Phase.TEST);
        movingAverageFraction = j.getFloat("moving_average_fraction", 0.999f);
        if (!(movingAverageFraction >= 0 && movingAverageFraction <= 1)) {
            throw j.error("moving_average_fraction", "must be in [0, 1], got " + movingAverageFraction);
        }
        eps = j.getFloat("eps", 1e-5f);
        if (!(eps > 0)) {
            throw j.error("eps", "must be > 0, got " + eps);
        }
    }

    /**
     * Caffe's masking of the statistics from the solver: every one of the three blobs gets a spec with
     * {@code lr_mult 0} (and {@code decay_mult 0}); a configured spec must already have {@code lr_mult 0}.
     */
    private static LayerConfig frozenStatistics(LayerConfig config) {
        if (config.params().size() > 3) {
            throw new ConfigException(config.path() + ".param: BatchNorm has 3 blobs (mean, variance, factor), got "
                    + config.params().size() + " param specs");
        }
        List<ParamSpec> specs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            if (i < config.params().size()) {
                ParamSpec p = config.params().get(i);
                if (p.lrMult() != 0) {
                    throw new ConfigException(config.path() + ".param[" + i + "].lr_mult: BatchNorm statistics "
                            + "are not learnable, lr_mult must be 0, got " + p.lrMult());
                }
                specs.add(new ParamSpec(p.name(), 0f, 0f));
            } else {
                specs.add(new ParamSpec("", 0f, 0f));
            }
        }
        return new LayerConfig(config.name(), config.type(), config.bottoms(), config.tops(), specs,
                config.includePhase(), config.excludePhase(), config.lossWeights(), config.json());
    }

    @Override
    public boolean allowsInPlace() {
        return true;
    }

    @Override
    public void setUp(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        if (x.rank() < 1) {
            throw error("bottom '" + x.name() + "' must have at least 1 axis");
        }
        channels = x.rank() == 1 ? 1 : x.dim(1);
        addParam(channels);   // mean sum
        addParam(channels);   // variance sum
        addParam(1);          // moving-average factor
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        int c = x.rank() == 1 ? 1 : x.dim(1);
        if (c != channels) {
            throw error("bottom '" + x.name() + "' has " + c + " channels, the statistics have " + channels);
        }
        num = x.dim(0);
        spatial = x.rank() <= 2 ? 1 : x.count(2);
        if (!useGlobalStats && num * spatial < 1) {
            throw error("bottom '" + x.name() + "' is empty");
        }
        if (top.get(0) != x) {
            top.get(0).reshapeLike(x);
        }
        if (xNorm.length < x.count()) {
            xNorm = new float[x.count()];
        }
        if (channelMean.length < channels) {
            channelMean = new double[channels];
            invStd = new double[channels];
        }
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] x = bottom.get(0).x();   // (N, C, S)
        float[] y = top.get(0).x();      // (N, C, S)
        float[] meanSum = param(0).x();  // (C)
        float[] varSum = param(1).x();   // (C)
        float[] factor = param(2).x();   // (1)
        int m = num * spatial;
        if (useGlobalStats) {
            double s = factor[0] == 0 ? 0 : 1.0 / factor[0];
            for (int c = 0; c < channels; c++) {
                channelMean[c] = s * meanSum[c];
                invStd[c] = 1.0 / Math.sqrt(s * varSum[c] + eps);
            }
        } else {
            float f = movingAverageFraction;
            par().forChunks(channels, 2L * m, (chunk, c0, c1) -> {
                for (int c = c0; c < c1; c++) {
                    // One pass over the channel: sum and sum of squares, in double.
                    double sum = 0;
                    double sq = 0;
                    for (int n = 0; n < num; n++) {
                        int base = (n * channels + c) * spatial;
                        sum += Elementwise.sum(spatial, x, base);
                        sq += Elementwise.dot(spatial, x, base, x, base);
                    }
                    double mu = sum / m;
                    double var = Math.max(0, sq / m - mu * mu);
                    channelMean[c] = mu;
                    invStd[c] = 1.0 / Math.sqrt(var + eps);
                    double biasCorrection = m > 1 ? (double) m / (m - 1) : 1.0;
                    meanSum[c] = (float) (mu + f * meanSum[c]);
                    varSum[c] = (float) (biasCorrection * var + f * varSum[c]);
                }
            });
            factor[0] = f * factor[0] + 1;
        }
        float[] gamma = affine == null ? null : affine.gamma();
        float[] beta = affine == null ? null : affine.beta();
        par().forChunks(num * channels, spatial, (chunk, p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int base = p * spatial;
                int c = p % channels;
                double mu = channelMean[c];
                double is = invStd[c];
                if (gamma == null) {
                    for (int i = 0; i < spatial; i++) {
                        float v = (float) ((x[base + i] - mu) * is);
                        xNorm[base + i] = v;
                        y[base + i] = v;
                    }
                } else {
                    float g = gamma[c];
                    float b = beta == null ? 0f : beta[c];
                    for (int i = 0; i < spatial; i++) {
                        float v = (float) ((x[base + i] - mu) * is);
                        xNorm[base + i] = v;
                        y[base + i] = v * g + b;
                    }
                }
            }
        });
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (!propagateDown[0] && affine == null) {
            return;
        }
        float[] dy = top.get(0).dx();     // (N, C, S)
        float[] dx = propagateDown[0] ? bottom.get(0).dx() : null;  // (N, C, S); may be dy itself (in place)
        int m = num * spatial;
        // Channels are independent: chunks of channels on the compute threads.
        par().forChunks(channels, 4L * m, (chunk, c0, c1) -> backwardChannels(dy, dx, m, c0, c1));
    }

    /**
     * Takes over the work of {@code scale}, an in-place Scale right after this layer whose bottoms are
     * {@code scaleBottom} (see the class comment). {@link org.cortado.engine.net.Net} decides, and only
     * when this layer runs backward whenever the Scale does. Returns false, changing nothing, when the
     * Scale is not one learned value per channel of this layer's output {@code y}.
     */
    public boolean fold(Layer scale, Blob y, List<Blob> scaleBottom) {
        if (!(scale instanceof Scale s) || !s.foldsOver(y, scaleBottom) || y.dim(1) != channels) {
            return false;
        }
        s.foldInto();
        affine = s;
        return true;
    }

    private void backwardChannels(float[] dy, float[] dx, int m, int c0, int c1) {
        float[] gamma = affine == null ? null : affine.gamma();
        float[] gammaDiff = affine == null ? null : affine.gammaDiff();
        float[] betaDiff = affine == null ? null : affine.betaDiff();
        for (int c = c0; c < c1; c++) {
            double gs = (gamma == null ? 1.0 : gamma[c]) * invStd[c];
            double sumDy = 0;
            double sumDyY = 0;
            if (affine != null || !useGlobalStats) {
                for (int n = 0; n < num; n++) {
                    int base = (n * channels + c) * spatial;
                    sumDy += Elementwise.sum(spatial, dy, base);
                    sumDyY += Elementwise.dot(spatial, dy, base, xNorm, base);
                }
            }
            if (affine != null) {
                gammaDiff[c] += (float) sumDyY;
                if (betaDiff != null) {
                    betaDiff[c] += (float) sumDy;
                }
            }
            if (dx == null) {
                continue;
            }
            if (useGlobalStats) {
                // dx = gamma * dy / sqrt(var + eps): mean and var are constants
                for (int n = 0; n < num; n++) {
                    int base = (n * channels + c) * spatial;
                    for (int i = 0; i < spatial; i++) {
                        dx[base + i] = (float) (dy[base + i] * gs);
                    }
                }
                continue;
            }
            double meanDy = sumDy / m;
            double meanDyY = sumDyY / m;
            // dx = gamma * (dy - mean(dy) - y * mean(dy * y)) / sqrt(var + eps), y = x_norm
            for (int n = 0; n < num; n++) {
                int base = (n * channels + c) * spatial;
                for (int i = 0; i < spatial; i++) {
                    dx[base + i] = (float) ((dy[base + i] - meanDy - xNorm[base + i] * meanDyY) * gs);
                }
            }
        }
    }

    /** Whether this layer normalizes with the running statistics (TEST, or {@code use_global_stats}) rather than the batch's. */
    public boolean useGlobalStats() {
        return useGlobalStats;
    }

    public float movingAverageFraction() {
        return movingAverageFraction;
    }

    public float eps() {
        return eps;
    }

    /** The shape seen as {@code (N, C, S)}: N, C and S of the last reshape. */
    public int num() {
        return num;
    }

    public int channels() {
        return channels;
    }

    public int spatial() {
        return spatial;
    }

    /** The Scale folded into this layer ({@link #fold}), or null. */
    public Scale affine() {
        return affine;
    }

    @Override
    public boolean isStatistic(int i) {
        return true;
    }

    /** Forward FLOPs: two per element (subtract the mean, multiply by 1/std); batch statistics not counted (see {@link Layer#flops}). */
    @Override
    public long flops(List<Blob> bottom, List<Blob> top) {
        return 2L * top.get(0).count();
    }
}
