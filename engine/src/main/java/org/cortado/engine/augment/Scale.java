package org.cortado.engine.augment;

import org.cortado.engine.config.Json;

/**
 * {@code scale}: {@code y = x * scale} on every pixel (Caffe's {@code scale}, e.g. 0.00390625 = 1/256,
 * or torchvision's {@code ToTensor} division by 255 as {@code 1/255}). Converts uint8 to float32.
 *
 * <p>Fields: {@code scale} (required).
 */
record Scale(String path, double scale) implements Step.Affine {

    static Scale parse(Json j) {
        double s = j.requireDouble("scale");
        if (!Double.isFinite(s)) {
            throw j.error("scale", "must be finite, got " + s);
        }
        return new Scale(j.path(), s);
    }

    @Override
    public int[] outputShape(int[] in) {
        return in.clone();
    }

    @Override
    public void affine(int channels, double[] m, double[] s, double[] t) {
        for (int c = 0; c < channels; c++) {
            m[c] = 0;
            s[c] = scale;
            t[c] = 0;
        }
    }
}
