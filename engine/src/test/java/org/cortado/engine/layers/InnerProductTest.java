package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class InnerProductTest {
    private static final String FILLERS =
            "\"weight_filler\":{\"type\":\"gaussian\",\"std\":0.5},\"bias_filler\":{\"type\":\"uniform\",\"min\":-1,\"max\":1}";

    private static void run(Layer l, List<Blob> bottom, List<Blob> top) {
        l.setUp(bottom, top);
        l.reshape(bottom, top);
        l.forward(bottom, top);
    }

    /** y[m][o] = b[o] + sum_k x[m][k] * W[o][k] (W[k][o] when transposed), straight from the definition. */
    private static float[] direct(Blob x, int m, int k, Blob w, Blob b, int n, boolean transpose) {
        float[] y = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int o = 0; o < n; o++) {
                double s = b == null ? 0 : b.x()[o];
                for (int j = 0; j < k; j++) {
                    s += x.x()[i * k + j] * (transpose ? w.x()[j * n + o] : w.x()[o * k + j]);
                }
                y[i * n + o] = (float) s;
            }
        }
        return y;
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ",\"transpose\":true", ",\"bias_term\":false", ",\"axis\":2", ",\"axis\":-2,\"transpose\":true"})
    void forwardMatchesTheDefinition(String extra) {
        Layer ip = layer("InnerProduct", "fc", "\"num_output\":5," + FILLERS + extra);
        Blob x = random("x", 3, 4, 2, 3); // (3, 4, 2, 3)
        Blob y = new Blob("y");
        run(ip, list(x), list(y));
        boolean transpose = extra.contains("transpose");
        int axis = extra.contains("axis") ? 2 : 1;
        int m = x.count(0, axis);
        int k = x.count(axis);
        assertArrayEquals(axis == 1 ? new int[] {3, 5} : new int[] {3, 4, 5}, y.shape());
        Blob w = ip.params().get(0);
        assertArrayEquals(transpose ? new int[] {k, 5} : new int[] {5, k}, w.shape());
        Blob b = ip.params().size() > 1 ? ip.params().get(1) : null;
        assertEquals(extra.contains("bias_term") ? 1 : 2, ip.params().size());
        assertArrayEquals(direct(x, m, k, w, b, 5, transpose), y.data().toArray(), 1e-5f);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ",\"transpose\":true", ",\"bias_term\":false", ",\"axis\":2"})
    void gradientsMatchCentralDifferences(String extra) {
        Layer ip = layer("InnerProduct", "fc", "\"num_output\":3," + FILLERS + extra);
        Blob x = random("x", 2, 3, 2, 2);
        new GradientChecker().checkAll(ip, list(x), list(new Blob("y")));
    }

    @Test
    void backwardAccumulatesIntoParamDiffsAndOverwritesBottomDiff() {
        Layer ip = layer("InnerProduct", "fc", "\"num_output\":4," + FILLERS);
        Blob x = random("x", 3, 6);
        Blob y = new Blob("y");
        run(ip, list(x), list(y));
        Blob dyOnes = random("dy", 3, 4);
        System.arraycopy(dyOnes.x(), 0, y.dx(), 0, 12);
        ip.backward(list(y), new boolean[] {true}, list(x));
        float[] dw1 = ip.params().get(0).diff().toArray();
        float[] db1 = ip.params().get(1).diff().toArray();
        float[] dx1 = x.diff().toArray();
        ip.backward(list(y), new boolean[] {true}, list(x));
        for (int i = 0; i < dw1.length; i++) {
            assertEquals(2 * dw1[i], ip.params().get(0).dx()[i], 1e-6f);
        }
        for (int i = 0; i < db1.length; i++) {
            assertEquals(2 * db1[i], ip.params().get(1).dx()[i], 1e-6f);
            // db = column sums of dy
            assertEquals(dyOnes.x()[i] + dyOnes.x()[4 + i] + dyOnes.x()[8 + i], db1[i], 1e-6f);
        }
        assertArrayEquals(dx1, x.diff().toArray(), "bottom diff is overwritten, not accumulated");
    }

    @Test
    void aDifferentInputSizeAfterSetUpNamesTheLayer() {
        Layer ip = layer("InnerProduct", "fc6", "\"num_output\":4");
        Blob x = new Blob("pool5", 2, 3, 4, 4);
        Blob y = new Blob("fc6");
        run(ip, list(x), list(y));
        x.reshape(8, 3, 4, 4); // a new batch size is fine
        ip.reshape(list(x), list(y));
        assertArrayEquals(new int[] {8, 4}, y.shape());
        x.reshape(2, 3, 5, 5);
        var e = assertThrows(ShapeException.class, () -> ip.reshape(list(x), list(y)));
        assertEquals("layer 'fc6' (InnerProduct) at fc6: bottom 'pool5' of shape [2,3,5,5] has 75 inputs per row"
                + " from axis 1, the weights expect 48", e.getMessage());
    }

    @Test
    void defaultFillersAreZeroAsInCaffe() {
        Layer ip = layer("InnerProduct", "fc", "\"num_output\":2");
        Blob x = random("x", 2, 3);
        Blob y = new Blob("y");
        run(ip, list(x), list(y));
        assertArrayEquals(new float[4], y.data().toArray());
    }

    @Test
    void badFieldsNameTheirJsonPath() {
        var e = assertThrows(ConfigException.class, () -> layer("InnerProduct", "fc", "\"bias_term\":false"));
        assertEquals("fc.num_output: required integer is missing", e.getMessage());
        e = assertThrows(ConfigException.class, () -> layer("InnerProduct", "fc", "\"num_output\":-1"));
        assertEquals("fc.num_output: must be > 0, got -1", e.getMessage());
        Layer ip = layer("InnerProduct", "fc", "\"num_output\":2,\"axis\":3");
        var s = assertThrows(ShapeException.class, () -> ip.setUp(list(new Blob("x", 2, 3)), list(new Blob("y"))));
        assertEquals("layer 'fc' (InnerProduct) at fc: axis 3 is out of range for bottom 'x' of shape [2,3]", s.getMessage());
    }
}
