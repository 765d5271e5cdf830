package org.cortado.engine.augment;

import org.cortado.engine.config.Json;

/**
 * {@code random_resized_crop}: torchvision's {@code RandomResizedCrop}. Picks a box of the (C, H, W)
 * input by torchvision's {@code get_params}, then resizes it to {@code h x w} (bilinear):
 * <pre>
 *   up to 10 times:
 *     area   = H * W * uniform(scale[0], scale[1])
 *     aspect = exp(uniform(log ratio[0], log ratio[1]))
 *     bw = round(sqrt(area * aspect)), bh = round(sqrt(area / aspect))    // Python's round: half to even
 *     if 0 &lt; bw &lt;= W and 0 &lt; bh &lt;= H:
 *       top = uniform integer in [0, H - bh], left = uniform integer in [0, W - bw]; done
 *   otherwise, a centered box: aspect clamped to [ratio[0], ratio[1]]
 *     W / H &lt; ratio[0]: bw = W, bh = round(W / ratio[0]);  W / H &gt; ratio[1]: bh = H, bw = round(H * ratio[1]);
 *     else the whole image; top = (H - bh) / 2, left = (W - bw) / 2 (rounded down)
 *   out = resize(in[:, top : top + bh, left : left + bw], (h, w))
 * </pre>
 * The resize is {@code torch.nn.functional.interpolate(mode="bilinear", align_corners=False)}, with
 * {@code antialias} when shrinking as torchvision (0.17 and later, and PIL) does by default: each output
 * pixel then averages the source pixels under a triangle filter as wide as the shrink factor (PIL's
 * resampling; growing is plain bilinear either way). Separable, in float32: along the width first, then
 * along the height, as torch does.
 * A uint8 image stays uint8: the result is rounded half to even and clamped to [0, 255], as torchvision
 * rounds a uint8 tensor's resize; a float image stays float.
 *
 * <p>Fields: {@code size} (one integer or {@code [h, w]}) or {@code size_h} and {@code size_w}
 * (required), {@code scale} ([0.08, 1]), {@code ratio} ([3/4, 4/3]), {@code antialias} (true).
 */
record RandomResizedCrop(String path, int h, int w, double[] scale, double[] ratio, boolean antialias) implements Step {

    static RandomResizedCrop parse(Json j) {
        int[] s = Steps.size(j);
        double[] scale = Steps.positiveRange(j, "scale", 0.08, 1.0);
        double[] ratio = Steps.positiveRange(j, "ratio", 3.0 / 4.0, 4.0 / 3.0);
        return new RandomResizedCrop(j.path(), s[0], s[1], scale, ratio, j.getBool("antialias", true));
    }

    @Override
    public int[] outputShape(int[] in) {
        return new int[] {in[0], h, w};
    }

    /** torchvision's {@code get_params} for an {@code H x W} image: writes {@code {top, left, bh, bw}} into {@code box}. */
    static void box(int height, int width, double[] scale, double[] ratio, SampleRandom rng, int[] box) {
        double area = (double) height * width;
        double logLo = Math.log(ratio[0]);
        double logHi = Math.log(ratio[1]);
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * rng.uniform(scale[0], scale[1]);
            double aspect = Math.exp(rng.uniform(logLo, logHi));
            int bw = (int) Math.rint(Math.sqrt(target * aspect));
            int bh = (int) Math.rint(Math.sqrt(target / aspect));
            if (0 < bw && bw <= width && 0 < bh && bh <= height) {
                box[0] = rng.nextInt(height - bh + 1);
                box[1] = rng.nextInt(width - bw + 1);
                box[2] = bh;
                box[3] = bw;
                return;
            }
        }
        double inRatio = (double) width / height;
        int bw;
        int bh;
        if (inRatio < ratio[0]) {
            bw = width;
            bh = (int) Math.rint(bw / ratio[0]);
        } else if (inRatio > ratio[1]) {
            bh = height;
            bw = (int) Math.rint(bh * ratio[1]);
        } else {
            bw = width;
            bh = height;
        }
        box[0] = (height - bh) / 2;
        box[1] = (width - bw) / 2;
        box[2] = bh;
        box[3] = bw;
    }
}
