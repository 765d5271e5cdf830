package org.cortado.engine.augment;

import org.cortado.engine.ConfigException;
import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Shapes;

/**
 * Padding as torchvision's {@code Pad} and {@code RandomCrop(padding=...)} read it, shared by the
 * {@code pad} and {@code random_crop} steps.
 *
 * <p>Fields: {@code pad}: one integer (all four sides), two ({@code [left/right, top/bottom]}) or four
 * ({@code [left, top, right, bottom]}), torchvision's order; {@code padding_mode}: {@code constant}
 * (default), {@code edge}, {@code reflect} or {@code symmetric}; {@code fill}: the constant, one value
 * or one per channel (default 0).
 *
 * <p>A padded pixel at position {@code p} outside {@code [0, n)} of an axis reads, by mode:
 * constant: the fill; edge: {@code clamp(p, 0, n - 1)}; reflect: the mirror image about the edge pixel
 * ({@code 2 1 | 0 1 2}, needs pad &lt; n as torch); symmetric: the mirror image about the edge
 * ({@code 1 0 | 0 1 2}, needs pad &lt;= n). Those limits are checked when the image size is known.
 * On uint8 images the fill is rounded to the nearest integer and clamped to [0, 255], since the padded
 * image is still uint8 (torch's {@code pad} casts the fill to the tensor's type too).
 *
 * @param top    rows added above
 * @param bottom rows added below
 * @param left   columns added on the left
 * @param right  columns added on the right
 * @param mode   how the added pixels are filled
 * @param fill   the constant per channel (length 1: all channels)
 */
record Padding(int top, int bottom, int left, int right, Mode mode, double[] fill) {

    /** torchvision's {@code padding_mode}s. */
    enum Mode {
        CONSTANT,
        EDGE,
        REFLECT,
        SYMMETRIC
    }

    static final Padding NONE = new Padding(0, 0, 0, 0, Mode.CONSTANT, new double[] {0});

    /** Reads {@code pad}, {@code padding_mode} and {@code fill} from {@code j}; {@code NONE} when {@code pad} is absent. */
    static Padding parse(Json j, boolean required) {
        int[] p = j.ints("pad");
        Mode mode = j.getEnum("padding_mode", Mode.class, Mode.CONSTANT);
        double[] fill = j.doubles("fill");
        if (p.length == 0) {
            if (!required && (fill.length > 0 || j.has("padding_mode"))) {
                throw j.error(fill.length > 0 ? "fill" : "padding_mode", "has no effect without pad");
            }
            if (required) {
                throw j.error("pad", "required: pixels to add (one integer, [left/right, top/bottom] or [left, top, right, bottom])");
            }
            return NONE;
        }
        for (int v : p) {
            if (v < 0) {
                throw j.error("pad", "must be >= 0, got " + v);
            }
        }
        Padding out = switch (p.length) {
            case 1 -> new Padding(p[0], p[0], p[0], p[0], mode, fill);
            case 2 -> new Padding(p[1], p[1], p[0], p[0], mode, fill);
            case 4 -> new Padding(p[1], p[3], p[0], p[2], mode, fill);
            default -> throw j.error("pad", "expected 1, 2 ([left/right, top/bottom]) or 4 ([left, top, right, bottom]) integers, got " + p.length);
        };
        return fill.length == 0 ? new Padding(out.top, out.bottom, out.left, out.right, mode, new double[] {0}) : out;
    }

    boolean isNone() {
        return top == 0 && bottom == 0 && left == 0 && right == 0;
    }

    /** (C, H, W) after padding; checks the limits of reflect and symmetric and the fill's channels. */
    int[] outputShape(String path, String what, int[] in) {
        int max = switch (mode) {
            case REFLECT -> 1;
            case SYMMETRIC -> 0;
            default -> Integer.MIN_VALUE;
        };
        if (max != Integer.MIN_VALUE) {
            int limitH = in[1] - max;
            int limitW = in[2] - max;
            if (Math.max(top, bottom) > limitH || Math.max(left, right) > limitW) {
                throw new ConfigException(path + ": " + what + " " + mode.name().toLowerCase(java.util.Locale.ROOT)
                        + " padding of " + sides() + " needs at most " + limitH + " rows and " + limitW
                        + " columns on each side for the " + in[1] + "x" + in[2] + " image (input " + Shapes.str(in) + ")");
            }
        }
        if (mode == Mode.CONSTANT) {
            Steps.perChannel(path + ".fill", fill, in[0]);
        }
        return new int[] {in[0], in[1] + top + bottom, in[2] + left + right};
    }

    String sides() {
        return "[left " + left + ", top " + top + ", right " + right + ", bottom " + bottom + "]";
    }

    /** Applies this padding to the tables. */
    void apply(Tables t, int fillCode) {
        t.pad(top, bottom, left, right, mode, fillCode);
    }

    /** Where padded position {@code p} of an axis of length {@code n} reads from, or -1 for the fill. */
    static int source(int p, int n, Mode mode) {
        if (p >= 0 && p < n) {
            return p;
        }
        return switch (mode) {
            case CONSTANT -> -1;
            case EDGE -> p < 0 ? 0 : n - 1;
            case REFLECT -> {
                if (n == 1) {
                    yield 0;
                }
                int period = 2 * (n - 1);
                int q = Math.floorMod(p, period);
                yield q < n ? q : period - q;
            }
            case SYMMETRIC -> {
                int q = Math.floorMod(p, 2 * n);
                yield q < n ? q : 2 * n - 1 - q;
            }
        };
    }
}
