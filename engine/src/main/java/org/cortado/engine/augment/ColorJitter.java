package org.cortado.engine.augment;

import org.cortado.engine.config.Json;

/**
 * {@code color_jitter}: torchvision's {@code ColorJitter} for brightness and contrast, on float32
 * pixels (a uint8 image is converted here, so torchvision's rounding to uint8 after each operation
 * does not happen: the result equals torchvision's on the float image in 0..255). Per sample:
 * <pre>
 *   order: brightness then contrast, or the other way round, with probability 1/2 each (torchvision
 *          draws a random permutation of its operations)
 *   b = uniform(brightness range), c = uniform(contrast range)       // each only when enabled
 *   brightness: x = clamp(b * x, 0, max)
 *   contrast:   g = mean over the image of its grayscale (1 channel: x; 3 channels:
 *                   0.2989 R + 0.587 G + 0.114 B, torchvision's weights)
 *               x = clamp(c * x + (1 - c) * g, 0, max)
 * </pre>
 * Draws the order, then {@code b}, then {@code c}.
 *
 * <p>Fields: {@code brightness}, {@code contrast}: a number {@code v >= 0} for the factor range
 * {@code [max(0, 1 - v), 1 + v]}, or {@code [min, max]} with {@code 0 <= min <= max}; 0 (the default)
 * leaves that operation out. {@code max}: the top of the value range to clamp to; by default 255 for
 * uint8 input and 1 for float input (torchvision's convention), times the {@code scale} steps before
 * this one. Contrast needs 1 or 3 channels. A {@code color_jitter} must come before any
 * {@code normalize}, {@code caffe} or {@code random_erasing} step, whose output has no [0, max] range.
 *
 * @param brightness the factor range, or null when off
 * @param contrast   the factor range, or null when off
 * @param max        the clamp's top, or NaN for the default
 */
record ColorJitter(String path, double[] brightness, double[] contrast, double max) implements Step.InPlace {

    static ColorJitter parse(Json j) {
        double[] b = factorRange(j, "brightness");
        double[] c = factorRange(j, "contrast");
        double max = Double.NaN;
        if (j.has("max")) {
            max = j.requireDouble("max");
            if (!(max > 0) || Double.isInfinite(max)) {
                throw j.error("max", "must be finite and > 0, got " + max);
            }
        }
        return new ColorJitter(j.path(), b, c, max);
    }

    /** torchvision's {@code _check_input} with center 1: null when the range is exactly [1, 1]. */
    private static double[] factorRange(Json j, String key) {
        double[] v = j.doubles(key);
        double[] r;
        if (v.length == 0) {
            return null;
        } else if (v.length == 1) {
            if (!(v[0] >= 0) || Double.isInfinite(v[0])) {
                throw j.error(key, "must be a finite number >= 0, got " + v[0]);
            }
            r = new double[] {Math.max(0, 1 - v[0]), 1 + v[0]};
        } else if (v.length == 2) {
            if (!(v[0] >= 0 && v[0] <= v[1]) || Double.isInfinite(v[1])) {
                throw j.error(key, "expected [min, max] with 0 <= min <= max, got [" + v[0] + ", " + v[1] + "]");
            }
            r = v;
        } else {
            throw j.error(key, "expected a number or [min, max], got " + v.length + " values");
        }
        return r[0] == 1 && r[1] == 1 ? null : r;
    }

    @Override
    public int[] outputShape(int[] in) {
        if (contrast != null && in[0] != 1 && in[0] != 3) {
            throw error("color_jitter contrast needs a 1- or 3-channel image (its grayscale mean), got "
                    + in[0] + " channels");
        }
        return in.clone();
    }

    @Override
    public void apply(float[] x, int off, int[] shape, SampleRandom rng, double valueMax) {
        float top = (float) (Double.isNaN(max) ? valueMax : max);
        boolean contrastFirst = rng.nextInt(2) == 1;
        double b = brightness != null ? rng.uniform(brightness[0], brightness[1]) : 1;
        double c = contrast != null ? rng.uniform(contrast[0], contrast[1]) : 1;
        int n = shape[0] * shape[1] * shape[2];
        if (contrastFirst && contrast != null) {
            contrast(x, off, shape, c, top);
        }
        if (brightness != null) {
            float bf = (float) b;
            for (int i = off; i < off + n; i++) {
                x[i] = clamp(bf * x[i], top);
            }
        }
        if (!contrastFirst && contrast != null) {
            contrast(x, off, shape, c, top);
        }
    }

    private static void contrast(float[] x, int off, int[] shape, double c, float top) {
        int plane = shape[1] * shape[2];
        double sum = 0;
        if (shape[0] == 3) {
            for (int i = 0; i < plane; i++) {
                sum += 0.2989f * x[off + i] + 0.587f * x[off + plane + i] + 0.114f * x[off + 2 * plane + i];
            }
        } else {
            for (int i = 0; i < plane; i++) {
                sum += x[off + i];
            }
        }
        float gray = (float) ((1 - c) * (sum / plane));
        float cf = (float) c;
        for (int i = off; i < off + shape[0] * plane; i++) {
            x[i] = clamp(cf * x[i] + gray, top);
        }
    }

    private static float clamp(float v, float top) {
        return v < 0 ? 0 : Math.min(v, top);
    }
}
