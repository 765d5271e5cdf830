package org.cortado.engine.augment;

import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Shapes;

/**
 * {@code center_crop}: torchvision's {@code CenterCrop}. Cuts the {@code h x w} window at
 * {@code top = round((H - h) / 2)}, {@code left = round((W - w) / 2)}, where round is Python's (half
 * to even, so (28 - 25) / 2 = 1.5 gives 2 and (28 - 23) / 2 = 2.5 gives 2); Caffe's centered crop
 * (in the {@code caffe} step) rounds down instead. No randomness.
 *
 * <p>Fields: {@code size} (one integer or {@code [h, w]}) or {@code size_h} and {@code size_w}
 * (required). A window larger than the image is an error (torchvision would pad it with zeros).
 */
record CenterCrop(String path, int h, int w) implements Step.Geometric {

    static CenterCrop parse(Json j) {
        int[] s = Steps.size(j);
        return new CenterCrop(j.path(), s[0], s[1]);
    }

    @Override
    public int[] outputShape(int[] in) {
        if (in[1] < h || in[2] < w) {
            throw error("center_crop of " + Steps.hw(h, w) + " is larger than the " + Steps.hw(in[1], in[2])
                    + " image (input " + Shapes.str(in) + ")");
        }
        return new int[] {in[0], h, w};
    }

    @Override
    public void remap(int[] in, Tables t, SampleRandom rng, int fillCode) {
        t.crop((int) Math.rint((t.h - h) / 2.0), (int) Math.rint((t.w - w) / 2.0), h, w);
    }
}
