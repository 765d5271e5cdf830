package org.cortado.engine.augment;

import org.cortado.engine.ConfigException;

/**
 * One step of an augmentation list, read from its JSON object (one record per {@code type}, each
 * documenting its fields and exact formula). A step knows its JSON path, which every error about it
 * names, and the (C, H, W) it turns a (C, H, W) input into. What it does to pixels is one of the three
 * kinds below, which {@link Plan} fuses into as few passes over the image as it can.
 */
interface Step {

    /** The step's JSON path, e.g. {@code augment.train[2]}. */
    String path();

    /** The output (C, H, W) for an input (C, H, W); a {@link ConfigException} naming {@link #path()} if the input does not fit. */
    int[] outputShape(int[] in);

    default ConfigException error(String message) {
        return new ConfigException(path() + ": " + message);
    }

    /** A step that moves pixels along rows and columns independently (pad, crops, flips). */
    interface Geometric extends Step {
        /** Maps the tables of this step's input (of shape {@code in}) to those of its output, drawing from {@code rng}. */
        void remap(int[] in, Tables t, SampleRandom rng, int fillCode);

        /** The constant this step pads with (one value or one per channel), or null if it never pads with a constant. */
        default double[] fill() {
            return null;
        }
    }

    /** A per-channel affine map {@code y = (x - m[c]) * s[c] + t[c]}, with no randomness (scale, normalize). */
    interface Affine extends Step {
        /** Writes this step's {@code m}, {@code s} and {@code t} for an image of {@code channels} channels. */
        void affine(int channels, double[] m, double[] s, double[] t);
    }

    /** A step on float pixels in place (color jitter, random erasing). */
    interface InPlace extends Step {
        /**
         * Transforms the (C, H, W) image at {@code x[off..]}.
         *
         * @param valueMax the upper end of the image's value range (255 for uint8 input, 1 for float
         *                 input, times the {@code scale} steps before), for steps that clamp to it
         */
        void apply(float[] x, int off, int[] shape, SampleRandom rng, double valueMax);
    }
}
