package org.cortado.engine.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ActivationsTest {
    private static float[] rand(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextGaussian() * 3);
        }
        return x;
    }

    @Test
    void kernelsMatchTheirDefinitions() {
        float[] x = {-2f, -0.5f, 0f, 0.5f, 3f};
        float[] y = new float[5];
        Activations.reluForward(0.1f, x, y, 0, 5);
        assertArrayEquals(new float[] {-0.2f, -0.05f, 0f, 0.5f, 3f}, y, 1e-7f);
        Activations.sigmoidForward(x, y, 0, 5);
        for (int i = 0; i < 5; i++) {
            assertEquals(1 / (1 + Math.exp(-x[i])), y[i], 1e-7);
        }
        Activations.tanhForward(x, y, 0, 5);
        for (int i = 0; i < 5; i++) {
            assertEquals((Math.exp(2 * x[i]) - 1) / (Math.exp(2 * x[i]) + 1), y[i], 1e-6);
        }
        float[] dy = {1f, 2f, 3f, 4f, 5f};
        float[] dx = new float[5];
        // Caffe: the gradient at exactly 0 is the slope.
        Activations.reluBackward(0.1f, x, dy, dx, 0, 5);
        assertArrayEquals(new float[] {0.1f, 0.2f, 0.3f, 4f, 5f}, dx, 1e-6f);
    }

    @Test
    void onlyTheGivenRangeIsWritten() {
        float[] x = rand(10, 1);
        float[] y = new float[10];
        java.util.Arrays.fill(y, 7f);
        Activations.tanhForward(x, y, 3, 6);
        assertEquals(7f, y[2]);
        assertEquals(7f, y[6]);
        assertEquals((float) Math.tanh(x[4]), y[4]);
    }

    /** Large enough that two threads really split the range; the result must equal one serial pass. */
    @Test
    void parallelMatchesSerial() {
        int n = 300_001;
        float[] x = rand(n, 2);
        float[] dy = rand(n, 3);
        float[] serial = new float[n];
        float[] par = new float[n];
        try (Parallel p = new Parallel(3)) {
            Activations.reluForward(0.2f, x, serial, 0, n);
            Activations.parallel(p, n, Activations.RELU_WORK, (a, b) -> Activations.reluForward(0.2f, x, par, a, b));
            assertArrayEquals(serial, par);
            Activations.sigmoidForward(x, serial, 0, n);
            Activations.parallel(p, n, Activations.TRANSCENDENTAL_WORK, (a, b) -> Activations.sigmoidForward(x, par, a, b));
            assertArrayEquals(serial, par);
            Activations.tanhBackward(x, dy, serial, 0, n);
            Activations.parallel(p, n, 1, (a, b) -> Activations.tanhBackward(x, dy, par, a, b));
            assertArrayEquals(serial, par);
            org.junit.jupiter.api.Assertions.assertTrue(p.chunks(n, 1) > 1, "the test must exercise several chunks");
        }
    }
}
