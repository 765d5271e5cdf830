package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.forward;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SoftmaxTest {


    @Test
    void forwardOverChannelsOfNchwMatchesTheDefinition() {
        Blob x = LayerTesting.uniform("x", 9L, -5.0, 5.0, 2, 3, 2, 2); // (N, C, H, W): softmax over C per pixel
        Blob y = forward(layer("Softmax", "prob", ""), x);
        assertArrayEquals(x.shape(), y.shape());
        for (int n = 0; n < 2; n++) {
            for (int p = 0; p < 4; p++) {
                double z = 0;
                for (int c = 0; c < 3; c++) {
                    z += Math.exp(x.x()[(n * 3 + c) * 4 + p]);
                }
                for (int c = 0; c < 3; c++) {
                    int i = (n * 3 + c) * 4 + p;
                    assertEquals(Math.exp(x.x()[i]) / z, y.x()[i], 1e-6, "y[" + i + "]");
                }
            }
        }
    }

    @Test
    void lastAxisAndLargeScoresAreStable() {
        Blob x = new Blob("x", 2, 3);
        float[] v = {1000, 1001, 1002, -1000, -1000, -1000};
        System.arraycopy(v, 0, x.x(), 0, 6);
        Blob y = forward(layer("Softmax", "prob", "\"axis\":-1"), x);
        double z = 1 + Math.exp(1) + Math.exp(2);
        assertArrayEquals(new float[] {(float) (1 / z), (float) (Math.exp(1) / z), (float) (Math.exp(2) / z),
                1 / 3f, 1 / 3f, 1 / 3f}, y.data().toArray(), 1e-6f);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, -1})
    void gradientsMatchCentralDifferences(int axis) {
        Blob x = random("x", 2, 3, 4);
        new GradientChecker().checkAll(layer("Softmax", "prob", "\"axis\":" + axis), list(x), list(new Blob("y")));
    }

    @Test
    void inPlaceGivesTheSameValuesAndGradients() {
        SigmoidTest.checkInPlace("Softmax");
    }

    @Test
    void axisOutOfRangeNamesTheLayer() {
        Layer l = layer("Softmax", "prob", "\"axis\":2");
        var e = assertThrows(ShapeException.class, () -> forward(l, new Blob("scores", 4, 10)));
        assertEquals("layer 'prob' (Softmax) at prob: axis 2 is out of range for bottom 'scores' of shape [4,10]",
                e.getMessage());
    }
}
