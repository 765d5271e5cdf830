package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.cortado.engine.layers.NormalizationFixtures.assertClose;
import static org.cortado.engine.layers.NormalizationFixtures.blob;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;

class BiasTest {
    private static final String FILLER = "\"filler\":{\"type\":\"uniform\",\"min\":-1,\"max\":1}";

    @Test
    void learnedBiasMatchesPyTorch() {
        var f = NormalizationFixtures.read("bias_param");
        Layer l = layer("Bias", "b", "\"num_axes\": 2");
        Blob x = blob("x", f.get("x"));
        Blob y = new Blob("y");
        l.setUp(list(x), list(y));
        assertArrayEquals(new int[] {3, 4}, l.params().get(0).shape());
        assertArrayEquals(new float[12], l.params().get(0).data().toArray(), "filler defaults to constant 0");
        l.params().get(0).data().copyFrom(f.get("b"));
        l.reshape(list(x), list(y));
        l.forward(list(x), list(y));
        assertClose("y", f.get("y"), y.x(), 1e-6f);
        y.diff().copyFrom(f.get("dy"));
        l.backward(list(y), new boolean[] {true}, list(x));
        assertClose("dx", f.get("dx"), x.dx(), 1e-6f);
        assertClose("db", f.get("db"), l.params().get(0).dx(), 1e-5f);
    }

    @Test
    void biasFromTheSecondBottomMatchesPyTorch() {
        var f = NormalizationFixtures.read("bias_bottom");
        Layer l = layer("Bias", "b", "\"axis\": 2");
        Blob x = blob("x", f.get("x"));
        Blob b = blob("b", f.get("b"));
        Blob y = new Blob("y");
        l.setUp(list(x, b), list(y));
        assertEquals(0, l.params().size());
        l.reshape(list(x, b), list(y));
        l.forward(list(x, b), list(y));
        assertClose("y", f.get("y"), y.x(), 1e-6f);
        y.diff().copyFrom(f.get("dy"));
        l.backward(list(y), new boolean[] {true, true}, list(x, b));
        assertClose("dx", f.get("dx"), x.dx(), 1e-6f);
        assertClose("db", f.get("db"), b.dx(), 1e-5f);
    }

    @Test
    void gradientsMatchCentralDifferences() {
        new GradientChecker().checkAll(layer("Bias", "b", FILLER), list(random("x", 2, 3, 2, 2)), list(new Blob("y")));
        new GradientChecker().checkAll(layer("Bias", "b", "\"num_axes\": 0," + FILLER), list(random("x", 2, 3)),
                list(new Blob("y")));
        new GradientChecker().checkAll(layer("Bias", "b", "\"axis\": 1, \"num_axes\": -1," + FILLER),
                list(random("x", 2, 3, 2)), list(new Blob("y")));
        new GradientChecker().checkAll(layer("Bias", "b", ""), list(random("x", 2, 3, 4), random("bb", 3)),
                list(new Blob("y")));
    }

    @Test
    void badParametersNameTheLayer() {
        var c = assertThrows(ConfigException.class, () -> layer("Bias", "b", "\"num_axes\": -3"));
        assertTrue(c.getMessage().contains("b.num_axes"), c.getMessage());
        var e = assertThrows(ShapeException.class,
                () -> LayerTesting.forward(layer("Bias", "b", "\"num_axes\": 3"), random("x", 2, 3, 4)));
        assertTrue(e.getMessage().startsWith("layer 'b' (Bias)"), e.getMessage());
        Layer l = layer("Bias", "b", "");
        Blob x = random("x", 2, 3, 4);
        Blob bb = random("bb", 4);
        e = assertThrows(ShapeException.class, () -> {
            l.setUp(list(x, bb), list(new Blob("y")));
            l.reshape(list(x, bb), list(new Blob("y")));
        });
        assertTrue(e.getMessage().contains("does not match bottom 'x'"), e.getMessage());
    }
}
