package org.cortado.engine.augment;

import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Shapes;

/**
 * {@code random_crop}: torchvision's {@code RandomCrop}. Optionally pads first (fields of {@link
 * Padding}: {@code pad}, {@code padding_mode}, {@code fill}; the {@code "pad": 4} of the CIFAR recipe),
 * then cuts an {@code h x w} window at a uniformly random offset:
 * {@code i = uniform integer in [0, H' - h]}, {@code j = uniform integer in [0, W' - w]} (H', W' after
 * padding), {@code out(c, y, x) = padded(c, i + y, j + x)}. Draws {@code i}, then {@code j}.
 *
 * <p>Fields: {@code size} (one integer or {@code [h, w]}) or {@code size_h} and {@code size_w}
 * (required). A window larger than the (padded) image is an error, as in torchvision (whose
 * {@code pad_if_needed} is not offered: say {@code pad} instead).
 */
record RandomCrop(String path, int h, int w, Padding padding) implements Step.Geometric {

    static RandomCrop parse(Json j) {
        int[] s = Steps.size(j);
        return new RandomCrop(j.path(), s[0], s[1], Padding.parse(j, false));
    }

    @Override
    public int[] outputShape(int[] in) {
        int[] p = padding.outputShape(path, "random_crop", in);
        if (p[1] < h || p[2] < w) {
            throw error("random_crop of " + Steps.hw(h, w) + " is larger than the " + Steps.hw(p[1], p[2]) + " image"
                    + (padding.isNone() ? "" : " (after padding " + padding.sides() + ")") + " (input " + Shapes.str(in) + ")");
        }
        return new int[] {in[0], h, w};
    }

    @Override
    public double[] fill() {
        return !padding.isNone() && padding.mode() == Padding.Mode.CONSTANT ? padding.fill() : null;
    }

    @Override
    public void remap(int[] in, Tables t, SampleRandom rng, int fillCode) {
        padding.apply(t, fillCode);
        int i = rng.nextInt(t.h - h + 1);
        int j = rng.nextInt(t.w - w + 1);
        t.crop(i, j, h, w);
    }
}
