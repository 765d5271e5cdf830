package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;

class BNLLTest {

    @Test
    void matchesPyTorch() {
        ActivationFixtures.matches("bnll", "BNLL", "");
    }

    @Test
    void largeInputsStayFinite() {
        Layer l = layer("BNLL", "bnll", "");
        Blob x = new Blob("x", 4);
        float[] v = {-1000, -60, 60, 1000};
        System.arraycopy(v, 0, x.x(), 0, 4);
        Blob y = LayerTesting.forward(l, x);
        java.util.Arrays.fill(y.dx(), 1f);
        l.backward(list(y), new boolean[] {true}, list(x));
        assertEquals(0f, y.x()[0]);
        assertEquals(1000f, y.x()[3]);
        assertEquals(60f, y.x()[2]);
        assertEquals(0f, x.dx()[0]);
        assertEquals(1f, x.dx()[3]);
        for (int i = 0; i < 4; i++) {
            assertTrue(Float.isFinite(y.x()[i]) && Float.isFinite(x.dx()[i]));
        }
    }

    @Test
    void gradientsMatchCentralDifferences() {
        Blob x = LayerTesting.uniform("x", 9L, -5, 5, 2, 3, 4);
        new GradientChecker(1e-3, 1e-2).checkAll(layer("BNLL", "bnll", ""), list(x), list(new Blob("y")));
    }

    @Test
    void inPlaceIsRefused() {
        Layer l = layer("BNLL", "bnll", "");
        Blob x = LayerTesting.random("x", 4);
        var e = assertThrows(ShapeException.class, () -> l.setUp(list(x), list(x)));
        assertEquals("layer 'bnll' (BNLL) at bnll: does not work in place: backward needs the input", e.getMessage());
    }
}
