package org.cortado.engine.augment;

import com.fasterxml.jackson.databind.JsonNode;
import org.cortado.engine.config.Json;

/**
 * {@code random_erasing}: torchvision's {@code RandomErasing}, on float32 pixels (usually after
 * {@code normalize}). With probability {@code p}:
 * <pre>
 *   up to 10 times:
 *     area   = H * W * uniform(scale[0], scale[1])
 *     aspect = exp(uniform(log ratio[0], log ratio[1]))
 *     eh = round(sqrt(area * aspect)), ew = round(sqrt(area / aspect))   // half to even
 *     if eh &lt; H and ew &lt; W:
 *       top = uniform integer in [0, H - eh], left = uniform integer in [0, W - ew]
 *       out(c, top + y, left + x) = value[c] (or a standard normal draw per pixel for "random"),
 *       for y &lt; eh, x &lt; ew; done
 *   (no box found: the image is left as it is)
 * </pre>
 * Draws the coin, then per attempt the area and aspect, then {@code top}, {@code left} and the
 * random values (row-major, channel by channel).
 *
 * <p>Fields: {@code p} (0.5), {@code scale} ([0.02, 0.33], within [0, 1]), {@code ratio}
 * ([0.3, 3.3]), {@code value} (0: one value, one per channel, or {@code "random"}).
 *
 * @param value the fill per channel (length 1: all channels), or null for random normal values
 */
record RandomErasing(String path, double p, double[] scale, double[] ratio, double[] value) implements Step.InPlace {

    static RandomErasing parse(Json j) {
        double p = Steps.probability(j, "p", 0.5);
        double[] scale = j.doubles("scale");
        if (scale.length == 0) {
            scale = new double[] {0.02, 0.33};
        } else if (scale.length != 2 || !(scale[0] >= 0 && scale[0] <= scale[1] && scale[1] <= 1)) {
            throw j.error("scale", "expected [min, max] with 0 <= min <= max <= 1 (fractions of the image's area)");
        }
        double[] ratio = Steps.positiveRange(j, "ratio", 0.3, 3.3);
        double[] value = {0};
        if (j.has("value")) {
            JsonNode v = j.node().get("value");
            if (v.isTextual()) {
                if (!v.asText().equals("random")) {
                    throw j.error("value", "expected a number, one number per channel or \"random\", got \"" + v.asText() + "\"");
                }
                value = null;
            } else {
                value = j.doubles("value");
                if (value.length == 0) {
                    throw j.error("value", "must not be empty");
                }
            }
        }
        return new RandomErasing(j.path(), p, scale, ratio, value);
    }

    @Override
    public int[] outputShape(int[] in) {
        if (value != null) {
            Steps.perChannel(path + ".value", value, in[0]);
        }
        return in.clone();
    }

    @Override
    public void apply(float[] x, int off, int[] shape, SampleRandom rng, double valueMax) {
        if (!rng.chance(p)) {
            return;
        }
        int channels = shape[0];
        int height = shape[1];
        int width = shape[2];
        double area = (double) height * width;
        double logLo = Math.log(ratio[0]);
        double logHi = Math.log(ratio[1]);
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * rng.uniform(scale[0], scale[1]);
            double aspect = Math.exp(rng.uniform(logLo, logHi));
            int eh = (int) Math.rint(Math.sqrt(target * aspect));
            int ew = (int) Math.rint(Math.sqrt(target / aspect));
            if (!(eh < height && ew < width)) {
                continue;
            }
            int top = rng.nextInt(height - eh + 1);
            int left = rng.nextInt(width - ew + 1);
            for (int c = 0; c < channels; c++) {
                float v = value == null ? 0 : (float) value[value.length == 1 ? 0 : c];
                for (int y = top; y < top + eh; y++) {
                    int row = off + (c * height + y) * width;
                    for (int xx = left; xx < left + ew; xx++) {
                        x[row + xx] = value == null ? (float) rng.nextGaussian() : v;
                    }
                }
            }
            return;
        }
    }
}
