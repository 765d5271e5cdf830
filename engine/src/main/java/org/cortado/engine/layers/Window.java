package org.cortado.engine.layers;

import org.cortado.engine.config.Json;

/**
 * A 2-D size read Caffe's way: {@code kernel_size: 5} or {@code kernel_size: [5, 3]} (h, w), or
 * {@code kernel_h} and {@code kernel_w}; likewise {@code pad}/{@code pad_h}/{@code pad_w},
 * {@code stride}/{@code stride_h}/{@code stride_w} and {@code dilation}. Shared by Convolution,
 * Pooling and their relatives.
 */
public record Window(int h, int w) {

    /**
     * Reads {@code base} (e.g. "kernel_size") or {@code prefix_h}/{@code prefix_w} (e.g. "kernel").
     * {@code def < 0} means required. Values must be {@code >= min}.
     */
    public static Window parse(Json j, String base, String prefix, int def, int min) {
        int[] v = j.ints(base);
        boolean hasHw = prefix != null && (j.has(prefix + "_h") || j.has(prefix + "_w"));
        int h;
        int w;
        if (hasHw) {
            if (v.length > 0) {
                throw j.error(base, "give either " + base + " or " + prefix + "_h/" + prefix + "_w, not both");
            }
            if (!j.has(prefix + "_h") || !j.has(prefix + "_w")) {
                throw j.error(prefix + "_h", "both " + prefix + "_h and " + prefix + "_w are needed");
            }
            h = j.requireInt(prefix + "_h");
            w = j.requireInt(prefix + "_w");
        } else if (v.length == 1) {
            h = v[0];
            w = v[0];
        } else if (v.length == 2) {
            h = v[0];
            w = v[1];
        } else if (v.length == 0) {
            if (def < 0) {
                throw j.error(base, "required");
            }
            h = def;
            w = def;
        } else {
            throw j.error(base, "expected 1 or 2 values (h, w) for a 2-D layer, got " + v.length);
        }
        if (h < min || w < min) {
            String key = hasHw ? prefix + (h < min ? "_h" : "_w") : base;
            throw j.error(key, "must be >= " + min + ", got " + Math.min(h, w));
        }
        return new Window(h, w);
    }
}
