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

class ScaleTest {
    private static final String FILLERS = "\"filler\":{\"type\":\"uniform\",\"min\":0.5,\"max\":2},"
            + "\"bias_filler\":{\"type\":\"uniform\",\"min\":-1,\"max\":1}";

    @Test
    void learnedScaleAndBiasMatchPyTorch() {
        var f = NormalizationFixtures.read("scale_param");
        Layer s = layer("Scale", "sc", "\"bias_term\": true");
        Blob x = blob("x", f.get("x"));
        Blob y = new Blob("y");
        s.setUp(list(x), list(y));
        assertEquals(2, s.params().size());
        s.params().get(0).data().copyFrom(f.get("w"));
        s.params().get(1).data().copyFrom(f.get("b"));
        s.reshape(list(x), list(y));
        s.forward(list(x), list(y));
        assertClose("y", f.get("y"), y.x(), 1e-5f);
        y.diff().copyFrom(f.get("dy"));
        s.backward(list(y), new boolean[] {true}, list(x));
        assertClose("dx", f.get("dx"), x.dx(), 1e-5f);
        assertClose("dw", f.get("dw"), s.params().get(0).dx(), 1e-4f);
        assertClose("db", f.get("db"), s.params().get(1).dx(), 1e-4f);
    }

    @Test
    void scaleFromTheSecondBottomMatchesPyTorch() {
        var f = NormalizationFixtures.read("scale_bottom");
        Layer s = layer("Scale", "sc", "");
        Blob x = blob("x", f.get("x"));
        Blob w = blob("s", f.get("s"));
        Blob y = new Blob("y");
        s.setUp(list(x, w), list(y));
        assertEquals(0, s.params().size());
        s.reshape(list(x, w), list(y));
        s.forward(list(x, w), list(y));
        assertClose("y", f.get("y"), y.x(), 1e-5f);
        y.diff().copyFrom(f.get("dy"));
        s.backward(list(y), new boolean[] {true, true}, list(x, w));
        assertClose("dx", f.get("dx"), x.dx(), 1e-5f);
        assertClose("ds", f.get("ds"), w.dx(), 1e-4f);
    }

    @Test
    void defaultsAreCaffes() {
        Layer s = layer("Scale", "sc", "");
        Blob x = random("x", 2, 3, 2);
        Blob y = LayerTesting.forward(s, x);
        assertEquals(1, s.params().size(), "bias_term defaults to false");
        assertArrayEquals(new float[] {1, 1, 1}, s.params().get(0).data().toArray(), "filler defaults to constant 1");
        assertArrayEquals(x.data().toArray(), y.data().toArray());
    }

    @Test
    void gradientsMatchCentralDifferences() {
        new GradientChecker().checkAll(layer("Scale", "sc", "\"bias_term\": true," + FILLERS),
                list(random("x", 2, 3, 2, 2)), list(new Blob("y")));
        new GradientChecker().checkAll(layer("Scale", "sc", "\"axis\": 0, \"num_axes\": -1," + FILLERS),
                list(random("x", 2, 3, 2)), list(new Blob("y")));
        new GradientChecker().checkAll(layer("Scale", "sc", "\"num_axes\": 0, \"bias_term\": true," + FILLERS),
                list(random("x", 2, 3, 2)), list(new Blob("y")));
        new GradientChecker().checkAll(layer("Scale", "sc", "\"axis\": -2, \"bias_term\": true," + FILLERS),
                list(random("x", 2, 3, 4), random("s", 3, 4)), list(new Blob("y")));
    }

    @Test
    void inPlaceGivesTheSameGradients() {
        Layer a = layer("Scale", "sc", "\"bias_term\": true," + FILLERS);
        Layer b = layer("Scale", "sc", "\"bias_term\": true," + FILLERS);
        Blob x = random("x", 2, 3, 2);
        Blob xIn = random("x", 2, 3, 2);
        Blob y = LayerTesting.forward(a, x);
        b.setUp(list(xIn), list(xIn));
        b.reshape(list(xIn), list(xIn));
        b.forward(list(xIn), list(xIn));
        Blob dy = random("dy", 2, 3, 2);
        y.diff().copyFrom(dy.data());
        xIn.diff().copyFrom(dy.data());
        a.backward(list(y), new boolean[] {true}, list(x));
        b.backward(list(xIn), new boolean[] {true}, list(xIn));
        assertArrayEquals(x.diff().toArray(), xIn.diff().toArray(), 1e-6f);
        assertArrayEquals(a.params().get(0).diff().toArray(), b.params().get(0).diff().toArray(), 1e-6f);
    }

    @Test
    void badParametersNameTheLayer() {
        var c = assertThrows(ConfigException.class, () -> layer("Scale", "sc", "\"num_axes\": -2"));
        assertTrue(c.getMessage().contains("sc.num_axes"), c.getMessage());
        var e = assertThrows(ShapeException.class,
                () -> LayerTesting.forward(layer("Scale", "sc", "\"axis\": 2, \"num_axes\": 2"), random("x", 2, 3, 4)));
        assertTrue(e.getMessage().startsWith("layer 'sc' (Scale)"), e.getMessage());
        e = assertThrows(ShapeException.class,
                () -> LayerTesting.forward(layer("Scale", "sc", "\"axis\": 5"), random("x", 2, 3)));
        assertTrue(e.getMessage().startsWith("layer 'sc' (Scale)"), e.getMessage());
        Layer s = layer("Scale", "sc", "");
        Blob x = random("x", 2, 3, 4);
        Blob w = random("s", 4);
        e = assertThrows(ShapeException.class, () -> {
            s.setUp(list(x, w), list(new Blob("y")));
            s.reshape(list(x, w), list(new Blob("y")));
        });
        assertTrue(e.getMessage().contains("does not match bottom 'x'"), e.getMessage());
    }
}
