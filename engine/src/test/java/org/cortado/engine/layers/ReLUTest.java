package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ReLUTest {
    private static void run(Layer l, List<Blob> bottom, List<Blob> top) {
        l.setUp(bottom, top);
        l.reshape(bottom, top);
        l.forward(bottom, top);
    }

    @Test
    void forwardIsMaxPlusSlopeTimesMin() {
        Blob x = new Blob("x", 2, 3);
        float[] v = {-2, -0.5f, 0, 0.25f, 1, 3};
        System.arraycopy(v, 0, x.x(), 0, 6);
        Blob y = new Blob("y");
        run(layer("ReLU", "relu", ""), list(x), list(y));
        assertArrayEquals(new float[] {0, 0, 0, 0.25f, 1, 3}, y.data().toArray());
        assertArrayEquals(new int[] {2, 3}, y.shape());
        run(layer("ReLU", "leaky", "\"negative_slope\":0.1"), list(x), list(y));
        assertArrayEquals(new float[] {-0.2f, -0.05f, 0, 0.25f, 1, 3}, y.data().toArray(), 1e-7f);
    }

    @ParameterizedTest
    @ValueSource(floats = {0f, 0.1f, -0.3f})
    void gradientsMatchCentralDifferencesAwayFromTheKink(float slope) {
        Layer relu = layer("ReLU", "relu", "\"negative_slope\":" + slope);
        Blob x = random("x", 2, 3, 4, 5);
        new GradientChecker().kink(0, 0.02).checkAll(relu, list(x), list(new Blob("y")));
    }

    @ParameterizedTest
    @ValueSource(floats = {0f, 0.2f})
    void inPlaceGivesTheSameValuesAndGradients(float slope) {
        Blob x = random("x", 3, 4, 5);
        Blob dy = random("dy", 3, 4, 5);
        // Out of place.
        Layer a = layer("ReLU", "relu", "\"negative_slope\":" + slope);
        Blob y = new Blob("y");
        run(a, list(x), list(y));
        System.arraycopy(dy.x(), 0, y.dx(), 0, y.count());
        a.backward(list(y), new boolean[] {true}, list(x));
        // In place: top == bottom; backward sees the output where the input was.
        Layer b = layer("ReLU", "relu", "\"negative_slope\":" + slope);
        assertTrue(b.allowsInPlace());
        Blob z = new Blob("z", 3, 4, 5);
        z.data().copyFrom(x.data());
        run(b, list(z), list(z));
        assertArrayEquals(y.data().toArray(), z.data().toArray());
        System.arraycopy(dy.x(), 0, z.dx(), 0, z.count());
        b.backward(list(z), new boolean[] {true}, list(z));
        assertArrayEquals(x.diff().toArray(), z.diff().toArray());
        // And the gradient is the rule itself, not merely consistent.
        for (int i = 0; i < x.count(); i++) {
            assertEquals(x.x()[i] > 0 ? dy.x()[i] : slope * dy.x()[i], x.dx()[i], 0f);
        }
    }

    @Test
    void inPlaceWithANegativeSlopeIsRefused() {
        Layer relu = layer("ReLU", "relu4", "\"negative_slope\":-0.5");
        Blob x = random("x", 4);
        var e = assertThrows(ShapeException.class, () -> relu.setUp(list(x), list(x)));
        assertEquals("layer 'relu4' (ReLU) at relu4: in place needs negative_slope >= 0 (the output must keep the"
                + " sign of the input), got -0.5", e.getMessage());
    }

    @Test
    void noPropagationLeavesTheBottomDiffAlone() {
        Layer relu = layer("ReLU", "relu", "");
        Blob x = random("x", 4);
        Blob y = new Blob("y");
        run(relu, list(x), list(y));
        x.dx()[0] = 42;
        relu.backward(list(y), new boolean[] {false}, list(x));
        assertEquals(42, x.dx()[0]);
    }
}
