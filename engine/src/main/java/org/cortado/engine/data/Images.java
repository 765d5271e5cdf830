package org.cortado.engine.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.cortado.engine.DataFormatException;

/**
 * Decoding image files (PNG, JPEG, BMP, GIF: what the JDK's ImageIO reads) into uint8 CHW pixels,
 * resized as PIL's {@code Image.resize(size, BILINEAR)} does, which is what torchvision's
 * {@code Resize} does to PIL images: a separable triangle filter whose support widens with the
 * down-scaling factor, so shrinking averages over every source pixel (antialiasing) instead of
 * sampling a few. Values are rounded once at the end (PIL rounds between the two passes too, so
 * results may differ from PIL by 1).
 */
public final class Images {
    private Images() {}

    /**
     * Reads {@code file}, converts it to {@code channels} (1: luminance by ITU-R 601-2 in PIL's
     * fixed-point arithmetic, so it equals PIL's {@code convert("L")};
     * 3: RGB; alpha is dropped) and resizes it to {@code height x width}.
     *
     * @return (channels, height, width) uint8 pixels, row-major
     * @throws DataFormatException naming the file if it cannot be decoded
     */
    public static byte[] load(Path file, int channels, int height, int width) {
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) {
            throw new DataFormatException(file + ": cannot decode image: " + e.getMessage(), e);
        }
        if (img == null) {
            throw new DataFormatException(file + ": not an image format this JVM reads (PNG, JPEG, BMP, GIF)");
        }
        int w = img.getWidth();
        int h = img.getHeight();
        int[] argb = gray(img);
        if (argb == null) {
            argb = img.getRGB(0, 0, w, h, null, 0, w);
        }
        float[] planes = new float[channels * h * w];
        for (int i = 0; i < h * w; i++) {
            int p = argb[i];
            int r = (p >> 16) & 0xff;
            int g = (p >> 8) & 0xff;
            int b = p & 0xff;
            if (channels == 1) {
                planes[i] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16; // PIL's convert("L")
            } else {
                planes[i] = r;
                planes[h * w + i] = g;
                planes[2 * h * w + i] = b;
            }
        }
        byte[] out = new byte[channels * height * width];
        for (int c = 0; c < channels; c++) {
            float[] plane = java.util.Arrays.copyOfRange(planes, c * h * w, (c + 1) * h * w);
            float[] resized = resize(plane, h, w, height, width);
            for (int i = 0; i < height * width; i++) {
                out[c * height * width + i] = (byte) Math.clamp(Math.round(resized[i]), 0, 255);
            }
        }
        return out;
    }

    /**
     * Gray images (8- or 16-bit, with or without alpha) as opaque RGB with R = G = B = the stored
     * level, or null for any other image. {@code getRGB} would pass them through Java's linear-gray
     * color space and change every level; PIL and numpy use the stored values.
     */
    private static int[] gray(BufferedImage img) {
        var raster = img.getRaster();
        boolean indexed = img.getColorModel() instanceof java.awt.image.IndexColorModel;
        int bands = raster.getNumBands();
        if (indexed || (bands != 1 && bands != 2)) {
            return null;
        }
        int bits = img.getColorModel().getComponentSize(0);
        int w = img.getWidth();
        int h = img.getHeight();
        int[] levels = raster.getSamples(0, 0, w, h, 0, (int[]) null);
        int[] argb = new int[w * h];
        for (int i = 0; i < levels.length; i++) {
            int v = bits > 8 ? levels[i] >> (bits - 8) : levels[i];
            argb[i] = 0xff000000 | v << 16 | v << 8 | v;
        }
        return argb;
    }

    /** Bilinear (triangle filter) resize of one plane, horizontal pass then vertical, as PIL does. */
    static float[] resize(float[] src, int h, int w, int outH, int outW) {
        float[] tmp = new float[h * outW];
        Weights wx = weights(w, outW);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < outW; x++) {
                float acc = 0;
                for (int k = 0; k < wx.count[x]; k++) {
                    acc += src[y * w + wx.first[x] + k] * wx.w[x][k];
                }
                tmp[y * outW + x] = acc;
            }
        }
        float[] out = new float[outH * outW];
        Weights wy = weights(h, outH);
        for (int y = 0; y < outH; y++) {
            for (int k = 0; k < wy.count[y]; k++) {
                float wk = wy.w[y][k];
                int row = (wy.first[y] + k) * outW;
                for (int x = 0; x < outW; x++) {
                    out[y * outW + x] += tmp[row + x] * wk;
                }
            }
        }
        return out;
    }

    private record Weights(int[] first, int[] count, float[][] w) {}

    /** PIL's {@code precompute_coeffs} for the bilinear filter (support 1). */
    private static Weights weights(int in, int out) {
        double scale = (double) in / out;
        double filterScale = Math.max(1, scale);
        double support = filterScale;
        int[] first = new int[out];
        int[] count = new int[out];
        float[][] w = new float[out][];
        for (int o = 0; o < out; o++) {
            double center = (o + 0.5) * scale;
            int xmin = Math.max((int) (center - support + 0.5), 0);
            int xmax = Math.min((int) (center + support + 0.5), in);
            double[] ws = new double[xmax - xmin];
            double total = 0;
            for (int x = xmin; x < xmax; x++) {
                double t = Math.abs((x - center + 0.5) / filterScale);
                ws[x - xmin] = t < 1 ? 1 - t : 0;
                total += ws[x - xmin];
            }
            w[o] = new float[ws.length];
            for (int k = 0; k < ws.length; k++) {
                w[o][k] = total == 0 ? 0 : (float) (ws[k] / total);
            }
            first[o] = xmin;
            count[o] = ws.length;
        }
        return new Weights(first, count, w);
    }
}
