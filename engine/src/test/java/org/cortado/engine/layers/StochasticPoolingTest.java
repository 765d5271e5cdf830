package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cortado.engine.net.Phase;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;

/** Caffe's STOCHASTIC pooling (Zeiler and Fergus), written out against its definition. */
class StochasticPoolingTest {
    private static final String FIELDS = "\"pool\":\"STOCHASTIC\",\"kernel_size\":3,\"stride\":2";

    @Test
    void testPhaseOutputsTheProbabilityWeightedAverage() {
        Blob x = uniform("x", 3, 0, 2, 2, 3, 7, 6);
        Layer l = layer("Pooling", "sto", FIELDS, Phase.TEST);
        Blob y = LayerTesting.forward(l, x);
        assertArrayEquals(new int[] {2, 3, 3, 3}, y.shape()); // ceil((7-3)/2)+1 = 3, ceil((6-3)/2)+1 = 3
        for (int p = 0; p < 6; p++) {
            for (int oy = 0; oy < 3; oy++) {
                for (int ox = 0; ox < 3; ox++) {
                    double sum = 0;
                    double sq = 0;
                    for (int iy = oy * 2; iy < Math.min(oy * 2 + 3, 7); iy++) {
                        for (int ix = ox * 2; ix < Math.min(ox * 2 + 3, 6); ix++) {
                            double v = x.x()[p * 42 + iy * 6 + ix];
                            sum += v;
                            sq += v * v;
                        }
                    }
                    assertEquals(sq / sum, y.x()[p * 9 + oy * 3 + ox], 1e-5);
                }
            }
        }
    }

    @Test
    void trainingDrawsPositionsInProportionToTheirValuesAndRoutesTheGradientThere() {
        // One 1x2 window holding 1 and 3: the 3 should be drawn three times in four.
        Blob x = new Blob("x", 1, 1, 1, 2);
        x.x()[0] = 1;
        x.x()[1] = 3;
        Layer l = layer("Pooling", "sto", "\"pool\":\"STOCHASTIC\",\"kernel_h\":1,\"kernel_w\":2");
        Blob y = new Blob("y");
        l.setUp(list(x), list(y));
        l.reshape(list(x), list(y));
        int threes = 0;
        int passes = 4000;
        for (int pass = 0; pass < passes; pass++) {
            l.beginPass(pass);
            l.forward(list(x), list(y));
            assertTrue(y.x()[0] == 1 || y.x()[0] == 3);
            threes += y.x()[0] == 3 ? 1 : 0;
            y.dx()[0] = 5;
            l.backward(list(y), new boolean[] {true}, list(x));
            // dy goes to the drawn position only
            assertEquals(y.x()[0] == 3 ? 5 : 0, x.dx()[1]);
            assertEquals(y.x()[0] == 1 ? 5 : 0, x.dx()[0]);
        }
        assertEquals(0.75, threes / (double) passes, 0.03);
    }

    @Test
    void drawsAreAFunctionOfThePass() {
        Blob x = uniform("x", 9, 0, 1, 2, 2, 6, 6);
        Layer a = layer("Pooling", "sto", FIELDS);
        Layer b = layer("Pooling", "sto", FIELDS);
        Blob ya = new Blob("ya");
        Blob yb = new Blob("yb");
        a.setUp(list(x), list(ya));
        a.reshape(list(x), list(ya));
        b.setUp(list(x), list(yb));
        b.reshape(list(x), list(yb));
        a.beginPass(3);
        a.forward(list(x), list(ya));
        b.beginPass(7);
        b.forward(list(x), list(yb));
        b.beginPass(3);
        b.forward(list(x), list(yb));
        assertArrayEquals(ya.data().toArray(), yb.data().toArray(), "pass 3 again draws the same positions");
    }
}
