package org.cortado.engine.augment;

import org.cortado.engine.config.Json;

/**
 * {@code pad}: torchvision's {@code Pad}. Output (C, H + top + bottom, W + left + right) with
 * {@code out(c, y, x) = in(c, y - top, x - left)} inside the image and the {@link Padding} mode's
 * value outside. Fields: {@code pad} (required), {@code padding_mode} ({@code constant}),
 * {@code fill} (0), as {@link Padding} describes. No randomness.
 */
record Pad(String path, Padding padding) implements Step.Geometric {

    static Pad parse(Json j) {
        return new Pad(j.path(), Padding.parse(j, true));
    }

    @Override
    public int[] outputShape(int[] in) {
        return padding.outputShape(path, "pad", in);
    }

    @Override
    public double[] fill() {
        return padding.mode() == Padding.Mode.CONSTANT ? padding.fill() : null;
    }

    @Override
    public void remap(int[] in, Tables t, SampleRandom rng, int fillCode) {
        padding.apply(t, fillCode);
    }
}
