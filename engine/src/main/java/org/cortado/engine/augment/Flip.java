package org.cortado.engine.augment;

import org.cortado.engine.config.Json;

/**
 * {@code flip}: torchvision's {@code RandomHorizontalFlip} (or {@code RandomVerticalFlip}). With
 * probability {@code p} (one uniform draw {@code u}, flipped when {@code u < p}):
 * horizontal {@code out(c, y, x) = in(c, y, W - 1 - x)}, vertical {@code out(c, y, x) = in(c, H - 1 - y, x)};
 * otherwise the identity.
 *
 * <p>Fields: {@code p} (0.5), {@code horizontal} (true; false flips vertically).
 */
record Flip(String path, double p, boolean horizontal) implements Step.Geometric {

    static Flip parse(Json j) {
        return new Flip(j.path(), Steps.probability(j, "p", 0.5), j.getBool("horizontal", true));
    }

    @Override
    public int[] outputShape(int[] in) {
        return in.clone();
    }

    @Override
    public void remap(int[] in, Tables t, SampleRandom rng, int fillCode) {
        if (rng.chance(p)) {
            if (horizontal) {
                t.flipCols();
            } else {
                t.flipRows();
            }
        }
    }
}
