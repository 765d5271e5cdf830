package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;

class SigmoidTest {
    /** The function from its definition, in double. */
    static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    @Test
    void forwardMatchesTheDefinition() {
        checkForward("Sigmoid", SigmoidTest::sigmoid);
    }

    @Test
    void gradientsMatchCentralDifferences() {
        Blob x = LayerTesting.uniform("x", 3L, -3.0, 3.0, 2, 3, 4);
        new GradientChecker().checkAll(layer("Sigmoid", "act", ""), list(x), list(new Blob("y")));
    }

    @Test
    void inPlaceGivesTheSameValuesAndGradients() {
        checkInPlace("Sigmoid");
    }

    static void checkForward(String type, java.util.function.DoubleUnaryOperator f) {
        Layer l = layer(type, "act", "");
        Blob x = LayerTesting.uniform("x", 7L, -4.0, 4.0, 3, 5);
        Blob y = new Blob("y");
        l.setUp(list(x), list(y));
        l.reshape(list(x), list(y));
        l.forward(list(x), list(y));
        assertArrayEquals(x.shape(), y.shape());
        for (int i = 0; i < x.count(); i++) {
            assertEquals(f.applyAsDouble(x.x()[i]), y.x()[i], 1e-6, "y[" + i + "]");
        }
    }

    /** In place (top == bottom) must give what out of place gives: backward needs only the output. */
    static void checkInPlace(String type) {
        Blob x = random("x", 4, 5);
        Blob dy = random("dy", 4, 5);
        Layer a = layer(type, "act", "");
        Blob y = new Blob("y");
        a.setUp(list(x), list(y));
        a.reshape(list(x), list(y));
        a.forward(list(x), list(y));
        y.diff().copyFrom(dy.data());
        a.backward(list(y), new boolean[] {true}, list(x));

        Layer b = layer(type, "act", "");
        Blob z = new Blob("z", 4, 5);
        z.data().copyFrom(x.data());
        b.setUp(list(z), list(z));
        b.reshape(list(z), list(z));
        b.forward(list(z), list(z));
        z.diff().copyFrom(dy.data());
        b.backward(list(z), new boolean[] {true}, list(z));
        assertArrayEquals(y.data().toArray(), z.data().toArray());
        assertArrayEquals(x.diff().toArray(), z.diff().toArray());
    }
}
