package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's {@code MVN} (mean-variance normalization). The bottom {@code (N, C, ...)} is viewed as rows:
 * one per {@code (n, c)}, or one per {@code n} with {@code across_channels}; over the {@code D} values
 * of a row, with {@code mean} and the population {@code std = sqrt(mean((x - mean)^2))}:
 * <pre>
 *   normalize_variance:  y = (x - mean) / (std + eps)
 *                        dx = (dy - mean(dy) - y * mean(dy * y)) / (std + eps)
 *   otherwise:           y = x - mean,   dx = dy - mean(dy)
 * </pre>
 * As in Caffe, {@code eps} is added to the standard deviation (not to the variance), and the
 * backward is Caffe's formula, which is the exact gradient of the forward only up to a factor
 * {@code (std + eps) / std} on the last term: a difference of about {@code eps / std}.
 *
 * <p>Fields (Caffe's defaults): {@code normalize_variance} (true), {@code across_channels} (false),
 * {@code eps} (1e-9). The bottom needs at least 2 axes (Caffe's num and channels).
 */
public final class MVN extends Layer {
    private final boolean normalizeVariance;
    private final boolean acrossChannels;
    private final float eps;

    private int rows;
    private int dim;
    private double[] invStd = new double[0];  // (rows) 1 / (std + eps)

    public MVN(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        normalizeVariance = j.getBool("normalize_variance", true);
        acrossChannels = j.getBool("across_channels", false);
        eps = j.getFloat("eps", 1e-9f);
        if (!(eps >= 0)) {
            throw j.error("eps", "must be >= 0, got " + eps);
        }
    }

    /** Rows of the last reshape: {@code N}, or {@code N * C} per channel. */
    public int rows() {
        return rows;
    }

    /** Values per row. */
    public int dim() {
        return dim;
    }

    public boolean normalizeVariance() {
        return normalizeVariance;
    }

    public float eps() {
        return eps;
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        Blob x = bottom.get(0);
        if (x.rank() < 2) {
            throw error("bottom '" + x.name() + "' must have at least 2 axes (num, channels), got "
                    + org.cortado.engine.tensor.Shapes.str(x.shape()));
        }
        rows = acrossChannels ? x.dim(0) : x.dim(0) * x.dim(1);
        dim = rows == 0 ? 0 : x.count() / rows;
        top.get(0).reshapeLike(x);
        if (invStd.length < rows) {
            invStd = new double[rows];
        }
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] x = bottom.get(0).x();   // (rows, dim)
        float[] y = top.get(0).x();      // (rows, dim)
        for (int r = 0; r < rows; r++) {
            int base = r * dim;
            double sum = 0;
            for (int i = 0; i < dim; i++) {
                sum += x[base + i];
            }
            double mean = sum / dim;
            double is = 1;
            if (normalizeVariance) {
                double sq = 0;
                for (int i = 0; i < dim; i++) {
                    double d = x[base + i] - mean;
                    sq += d * d;
                }
                is = 1.0 / (Math.sqrt(sq / dim) + eps);
            }
            invStd[r] = is;
            for (int i = 0; i < dim; i++) {
                y[base + i] = (float) ((x[base + i] - mean) * is);
            }
        }
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (!propagateDown[0]) {
            return;
        }
        float[] y = top.get(0).x();      // (rows, dim)
        float[] dy = top.get(0).dx();    // (rows, dim)
        float[] dx = bottom.get(0).dx(); // (rows, dim)
        for (int r = 0; r < rows; r++) {
            int base = r * dim;
            double sumDy = 0;
            double sumDyY = 0;
            for (int i = 0; i < dim; i++) {
                sumDy += dy[base + i];
                sumDyY += (double) dy[base + i] * y[base + i];
            }
            double meanDy = sumDy / dim;
            if (normalizeVariance) {
                double meanDyY = sumDyY / dim;
                double is = invStd[r];
                for (int i = 0; i < dim; i++) {
                    dx[base + i] = (float) ((dy[base + i] - meanDy - y[base + i] * meanDyY) * is);
                }
            } else {
                for (int i = 0; i < dim; i++) {
                    dx[base + i] = (float) (dy[base + i] - meanDy);
                }
            }
        }
    }
}
