package org.cortado.engine;

import java.util.Map;
import java.util.SplittableRandom;
import org.cortado.engine.tensor.Tensor;

/** Synthetic training batches for tests. */
public final class Batches {
    private Batches() {}

    /** A batch where the class is written into the image (a bright row), so the net can learn it. */
    public static Map<String, Tensor> learnable(int n, int c, int h, int w, int classes, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor x = new Tensor(n, c, h, w);
        Tensor y = new Tensor(n);
        for (int i = 0; i < n; i++) {
            int label = r.nextInt(classes);
            y.data()[i] = label;
            for (int j = 0; j < c * h * w; j++) {
                x.data()[i * c * h * w + j] = (float) (0.1 * r.nextGaussian());
            }
            for (int col = 0; col < w; col++) {
                x.data()[i * c * h * w + (label % h) * w + col] += 1f;
            }
        }
        return Map.of("data", x, "label", y);
    }
}
