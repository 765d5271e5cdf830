package org.cortado.engine.layers;

import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Blob;

/**
 * Caffe's {@code LRN} (local response normalization) of a 4-axis bottom {@code (N, C, H, W)}:
 * {@code y = x * scale^-beta}, with {@code pre = (local_size - 1) / 2} and windows clipped at the edges.
 * <pre>
 *   ACROSS_CHANNELS: scale[n,c,h,w] = k + alpha / local_size   * sum_{c' = c-pre .. c+pre} x[n,c',h,w]^2
 *   WITHIN_CHANNEL:  scale[n,c,h,w] = 1 + alpha / local_size^2 * sum_{h' = h-pre .. h+pre, w' = w-pre .. w+pre} x[n,c,h',w']^2
 *   dx[p] = dy[p] * scale[p]^-beta - 2 * alpha * beta / n_w * x[p] * sum_{q in window(p)} dy[q] * y[q] / scale[q]
 * </pre>
 * where {@code n_w} is {@code local_size} (across) or {@code local_size^2} (within); the windows are
 * symmetric, so {@code p} is in {@code window(q)} exactly when {@code q} is in {@code window(p)}.
 *
 * <p>Fields (Caffe's defaults): {@code local_size} (5; must be odd, as Caffe requires), {@code alpha}
 * (1), {@code beta} (0.75), {@code norm_region} ({@code ACROSS_CHANNELS} or {@code WITHIN_CHANNEL}),
 * {@code k} (1). As in Caffe, WITHIN_CHANNEL ignores {@code k}: Caffe builds it from an average pooling
 * (padded, dividing by {@code local_size^2} everywhere, the padding counted) and a power layer with
 * shift 1. ACROSS_CHANNELS is PyTorch's {@code F.local_response_norm(x, local_size, alpha, beta, k)}.
 */
public final class LRN extends Layer {
    /** Caffe's {@code LRNParameter.NormRegion}. */
    public enum NormRegion { ACROSS_CHANNELS, WITHIN_CHANNEL }

    private final int size;
    private final float alpha;
    private final float beta;
    private final NormRegion region;
    private final float k;

    private int num;
    private int channels;
    private int height;
    private int width;
    private float[] scale = new float[0];  // (N, C, H, W) the denominator base, for backward

    public LRN(LayerConfig config, LayerContext ctx) {
        super(config, ctx);
        Json j = config.json();
        size = j.positive("local_size", j.getInt("local_size", 5));
        if (size % 2 != 1) {
            throw j.error("local_size", "must be odd (Caffe's LRN only supports odd sizes), got " + size);
        }
        alpha = j.getFloat("alpha", 1f);
        beta = j.getFloat("beta", 0.75f);
        region = j.getEnum("norm_region", NormRegion.class, NormRegion.ACROSS_CHANNELS);
        k = j.getFloat("k", 1f);
    }

    public int size() {
        return size;
    }

    public float alpha() {
        return alpha;
    }

    public float beta() {
        return beta;
    }

    public float k() {
        return k;
    }

    public NormRegion region() {
        return region;
    }

    @Override
    public void setUp(List<Blob> bottom, List<Blob> top) {
        requireRank(bottom, 0, 4);
    }

    @Override
    public void reshape(List<Blob> bottom, List<Blob> top) {
        requireRank(bottom, 0, 4);
        Blob x = bottom.get(0);
        num = x.dim(0);
        channels = x.dim(1);
        height = x.dim(2);
        width = x.dim(3);
        top.get(0).reshapeLike(x);
        if (scale.length < x.count()) {
            scale = new float[x.count()];
        }
    }

    @Override
    public void forward(List<Blob> bottom, List<Blob> top) {
        float[] x = bottom.get(0).x();   // (N, C, H, W)
        float[] y = top.get(0).x();      // (N, C, H, W)
        int pre = (size - 1) / 2;
        int hw = height * width;
        for (int n = 0; n < num; n++) {
            for (int c = 0; c < channels; c++) {
                int plane = (n * channels + c) * hw;
                for (int h = 0; h < height; h++) {
                    for (int w = 0; w < width; w++) {
                        double sum = 0;
                        double s;
                        if (region == NormRegion.ACROSS_CHANNELS) {
                            for (int c2 = Math.max(0, c - pre); c2 <= Math.min(channels - 1, c + pre); c2++) {
                                double v = x[(n * channels + c2) * hw + h * width + w];
                                sum += v * v;
                            }
                            s = k + alpha / size * sum;
                        } else {
                            for (int h2 = Math.max(0, h - pre); h2 <= Math.min(height - 1, h + pre); h2++) {
                                for (int w2 = Math.max(0, w - pre); w2 <= Math.min(width - 1, w + pre); w2++) {
                                    double v = x[plane + h2 * width + w2];
                                    sum += v * v;
                                }
                            }
                            s = 1 + alpha / ((double) size * size) * sum;
                        }
                        int p = plane + h * width + w;
                        scale[p] = (float) s;
                        y[p] = (float) (x[p] * Math.pow(s, -beta));
                    }
                }
            }
        }
    }

    @Override
    public void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
        if (!propagateDown[0]) {
            return;
        }
        float[] x = bottom.get(0).x();   // (N, C, H, W)
        float[] y = top.get(0).x();      // (N, C, H, W)
        float[] dy = top.get(0).dx();    // (N, C, H, W)
        float[] dx = bottom.get(0).dx(); // (N, C, H, W)
        int pre = (size - 1) / 2;
        int hw = height * width;
        double windowSize = region == NormRegion.ACROSS_CHANNELS ? size : (double) size * size;
        double coeff = 2.0 * alpha * beta / windowSize;
        for (int n = 0; n < num; n++) {
            for (int c = 0; c < channels; c++) {
                int plane = (n * channels + c) * hw;
                for (int h = 0; h < height; h++) {
                    for (int w = 0; w < width; w++) {
                        // sum over the q whose window holds p (the windows are symmetric)
                        double acc = 0;
                        if (region == NormRegion.ACROSS_CHANNELS) {
                            for (int c2 = Math.max(0, c - pre); c2 <= Math.min(channels - 1, c + pre); c2++) {
                                int q = (n * channels + c2) * hw + h * width + w;
                                acc += (double) dy[q] * y[q] / scale[q];
                            }
                        } else {
                            for (int h2 = Math.max(0, h - pre); h2 <= Math.min(height - 1, h + pre); h2++) {
                                for (int w2 = Math.max(0, w - pre); w2 <= Math.min(width - 1, w + pre); w2++) {
                                    int q = plane + h2 * width + w2;
                                    acc += (double) dy[q] * y[q] / scale[q];
                                }
                            }
                        }
                        int p = plane + h * width + w;
                        dx[p] = (float) (dy[p] * Math.pow(scale[p], -beta) - coeff * x[p] * acc);
                    }
                }
            }
        }
    }

    /** Forward FLOPs: the window's squares and sums, then scale, power and product, per element (see {@link Layer#flops}). */
    @Override
    public long flops(List<Blob> bottom, List<Blob> top) {
        long window = region == NormRegion.ACROSS_CHANNELS ? size : (long) size * size;
        return top.get(0).count() * (2 * window + 3);
    }
}
