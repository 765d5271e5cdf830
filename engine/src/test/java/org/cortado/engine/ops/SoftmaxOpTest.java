package org.cortado.engine.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SoftmaxOpTest {
    private static float[] rand(Random r, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextGaussian() * scale);
        }
        return x;
    }

    @ParameterizedTest
    @CsvSource({"1,5,1", "64,10,1", "3,4,7", "2,21,33", "400,100,1", "1,1,9"})
    void fastMatchesReference(int outer, int channels, int inner) {
        Random r = new Random(outer * 1000 + channels * 10 + inner);
        int n = outer * channels * inner;
        float[] x = rand(r, n, 5);
        float[] dy = rand(r, n, 1);
        float[] ref = new float[n];
        float[] fast = new float[n + 3];
        Arrays.fill(fast, Float.NaN);
        try (Parallel p = new Parallel(2)) {
            Softmax.forwardReference(outer, channels, inner, x, ref);
            Softmax.forward(p, outer, channels, inner, x, fast, new Scratch());
            for (int i = 0; i < n; i++) {
                assertEquals(ref[i], fast[i], 1e-6 + 1e-5 * ref[i], "y[" + i + "]");
            }
            assertEquals(Float.NaN, fast[n], "nothing written past count");
            float[] dxRef = new float[n];
            float[] dxFast = new float[n];
            Softmax.backwardReference(outer, channels, inner, ref, dy, dxRef);
            Softmax.backward(p, outer, channels, inner, ref, dy, dxFast, new Scratch());
            for (int i = 0; i < n; i++) {
                assertEquals(dxRef[i], dxFast[i], 1e-5, "dx[" + i + "]");
            }
        }
    }

    @Test
    void referenceIsTheDefinitionAndStable() {
        // (1, 3, 2): columns (1, 2, 3) and (1000, 1000, 1000): the second would overflow exp without the max.
        float[] x = {1, 1000, 2, 1000, 3, 1000};
        float[] y = new float[6];
        Softmax.forwardReference(1, 3, 2, x, y);
        double z = Math.exp(1) + Math.exp(2) + Math.exp(3);
        assertEquals(Math.exp(1) / z, y[0], 1e-7);
        assertEquals(Math.exp(2) / z, y[2], 1e-7);
        assertEquals(Math.exp(3) / z, y[4], 1e-7);
        assertEquals(1 / 3.0, y[1], 1e-7);
        assertEquals(1 / 3.0, y[5], 1e-7);
    }

    @Test
    void inPlaceGivesTheSameResult() {
        Random r = new Random(5);
        float[] x = rand(r, 2 * 6 * 5, 3);
        float[] y = new float[x.length];
        try (Parallel p = new Parallel(2)) {
            Softmax.forward(p, 2, 6, 5, x, y, new Scratch());
            Softmax.forward(p, 2, 6, 5, x, x, new Scratch());
        }
        for (int i = 0; i < x.length; i++) {
            assertEquals(y[i], x[i], 0f);
        }
    }
}
