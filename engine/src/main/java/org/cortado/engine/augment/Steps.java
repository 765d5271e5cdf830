package org.cortado.engine.augment;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.cortado.engine.ConfigException;
import org.cortado.engine.config.Json;
import org.cortado.engine.net.Phase;

/** Reads one step object by its {@code type}, and the field shapes several steps share. */
final class Steps {
    private Steps() {}

    @FunctionalInterface
    private interface Parser {
        Step parse(Json j, Phase phase, Path configDir);
    }

    /** The step types, in the order the documentation lists them. */
    private static final Map<String, Parser> TYPES = new LinkedHashMap<>();

    static {
        TYPES.put("caffe", CaffeTransform::parse);
        TYPES.put("pad", (j, p, d) -> Pad.parse(j));
        TYPES.put("random_crop", (j, p, d) -> RandomCrop.parse(j));
        TYPES.put("center_crop", (j, p, d) -> CenterCrop.parse(j));
        TYPES.put("flip", (j, p, d) -> Flip.parse(j));
        TYPES.put("random_resized_crop", (j, p, d) -> RandomResizedCrop.parse(j));
        TYPES.put("color_jitter", (j, p, d) -> ColorJitter.parse(j));
        TYPES.put("scale", (j, p, d) -> Scale.parse(j));
        TYPES.put("normalize", (j, p, d) -> Normalize.parse(j));
        TYPES.put("random_erasing", (j, p, d) -> RandomErasing.parse(j));
    }

    /** The known {@code type} strings. */
    static java.util.Set<String> types() {
        return TYPES.keySet();
    }

    /** Parses one step; unknown fields are errors. */
    static Step parse(Json j, Phase phase, Path configDir) {
        String type = j.requireString("type");
        Parser p = TYPES.get(type);
        if (p == null) {
            throw j.error("type", "unknown augmentation step \"" + type + "\"; known: " + String.join(", ", TYPES.keySet()));
        }
        Step s = p.parse(j, phase, configDir);
        j.rejectUnknown();
        return s;
    }

    /**
     * A crop size: {@code size} (one integer, or {@code [h, w]} as torchvision) or {@code size_h} and
     * {@code size_w}; {@code [h, w]}, both > 0.
     */
    static int[] size(Json j) {
        boolean hasSize = j.has("size");
        boolean hasHw = j.has("size_h") || j.has("size_w");
        if (hasSize && hasHw) {
            throw j.error("size", "give size or size_h and size_w, not both");
        }
        if (hasSize) {
            int[] s = j.ints("size");
            if (s.length != 1 && s.length != 2) {
                throw j.error("size", "expected one integer or [h, w], got " + s.length + " values");
            }
            int h = j.positive("size", s[0]);
            int w = j.positive("size", s[s.length - 1]);
            return new int[] {h, w};
        }
        if (!hasHw) {
            throw j.error("size", "required: the output size (size, or size_h and size_w)");
        }
        return new int[] {j.positive("size_h", j.requireInt("size_h")), j.positive("size_w", j.requireInt("size_w"))};
    }

    /** A probability in [0, 1]. */
    static double probability(Json j, String key, double def) {
        double p = j.getDouble(key, def);
        if (!(p >= 0 && p <= 1)) {
            throw j.error(key, "must be in [0, 1], got " + p);
        }
        return p;
    }

    /** A {@code [min, max]} pair with {@code 0 < min <= max}. */
    static double[] positiveRange(Json j, String key, double min, double max) {
        double[] r = j.doubles(key);
        if (r.length == 0) {
            return new double[] {min, max};
        }
        if (r.length != 2) {
            throw j.error(key, "expected [min, max], got " + r.length + " values");
        }
        if (!(r[0] > 0 && r[0] <= r[1]) || Double.isInfinite(r[1])) {
            throw j.error(key, "expected 0 < min <= max, got [" + r[0] + ", " + r[1] + "]");
        }
        return r;
    }

    /** Values per channel: one value (for all channels) or exactly {@code channels}; returns {@code channels} values. */
    static double[] perChannel(String path, double[] v, int channels) {
        if (v.length == 1) {
            double[] out = new double[channels];
            java.util.Arrays.fill(out, v[0]);
            return out;
        }
        if (v.length != channels) {
            throw new ConfigException(path + ": " + v.length + " values for an image of " + channels
                    + " channel" + (channels == 1 ? "" : "s") + "; give one value or one per channel");
        }
        return v.clone();
    }

    /** "HxW" for messages. */
    static String hw(int h, int w) {
        return h + "x" + w;
    }
}
