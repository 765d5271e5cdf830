package org.cortado.engine.augment;

import org.cortado.engine.config.Json;

/**
 * {@code normalize}: torchvision's {@code Normalize} after an optional {@code ToTensor}-like scaling,
 * {@code y = (x * scale - mean[c]) / std[c]}: {@code mean} and {@code std} are in the units after
 * {@code scale}. With the default {@code scale} 1 they are in the image's own units (0..255 for uint8:
 * {@code "mean": [72.9], "std": [90.0]}); with {@code "scale": 0.00392156862745098} (1/255) they are
 * torchvision's usual ones ({@code "mean": [0.2860], "std": [0.3530]}). Converts uint8 to float32.
 *
 * <p>Computed as {@code (x - mean[c] / scale) * (scale / std[c])}, one subtraction and one
 * multiplication per pixel (fused with the steps around it, see {@link Plan}); it agrees with the
 * formula above within a few float32 ulps.
 *
 * <p>Fields: {@code mean}, {@code std} (required; one value for all channels, or one per channel;
 * {@code std} nonzero), {@code scale} (1, nonzero).
 */
record Normalize(String path, double[] mean, double[] std, double scale) implements Step.Affine {

    static Normalize parse(Json j) {
        if (!j.has("mean")) {
            throw j.error("mean", "required: the mean per channel (or one for all channels)");
        }
        if (!j.has("std")) {
            throw j.error("std", "required: the standard deviation per channel (or one for all channels)");
        }
        double[] mean = j.doubles("mean");
        double[] std = j.doubles("std");
        double scale = j.getDouble("scale", 1);
        if (mean.length == 0) {
            throw j.error("mean", "must not be empty");
        }
        if (std.length == 0) {
            throw j.error("std", "must not be empty");
        }
        for (double s : std) {
            if (s == 0 || !Double.isFinite(s)) {
                throw j.error("std", "must be finite and nonzero, got " + s);
            }
        }
        if (scale == 0 || !Double.isFinite(scale)) {
            throw j.error("scale", "must be finite and nonzero, got " + scale);
        }
        return new Normalize(j.path(), mean, std, scale);
    }

    @Override
    public int[] outputShape(int[] in) {
        Steps.perChannel(path + ".mean", mean, in[0]);
        Steps.perChannel(path + ".std", std, in[0]);
        return in.clone();
    }

    @Override
    public void affine(int channels, double[] m, double[] s, double[] t) {
        double[] mu = Steps.perChannel(path + ".mean", mean, channels);
        double[] sd = Steps.perChannel(path + ".std", std, channels);
        for (int c = 0; c < channels; c++) {
            m[c] = mu[c] / scale;
            s[c] = scale / sd[c];
            t[c] = 0;
        }
    }
}
