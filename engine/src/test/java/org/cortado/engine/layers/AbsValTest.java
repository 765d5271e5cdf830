package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;

class AbsValTest {

    @Test
    void matchesPyTorch() {
        ActivationFixtures.matches("absval", "AbsVal", "");
    }

    @Test
    void theGradientAtZeroIsZero() {
        Layer l = layer("AbsVal", "abs", "");
        Blob x = new Blob("x", 3);
        x.x()[0] = 0;
        x.x()[1] = -2;
        x.x()[2] = 3;
        Blob y = LayerTesting.forward(l, x);
        java.util.Arrays.fill(y.dx(), 5f);
        l.backward(list(y), new boolean[] {true}, list(x));
        assertEquals(0f, x.dx()[0]);
        assertEquals(-5f, x.dx()[1]);
        assertEquals(5f, x.dx()[2]);
    }

    @Test
    void gradientsMatchCentralDifferencesAwayFromTheKink() {
        new GradientChecker().kink(0, 0.02).checkAll(layer("AbsVal", "abs", ""), list(random("x", 2, 3, 4)),
                list(new Blob("y")));
    }

    @Test
    void inPlaceIsRefused() {
        Layer l = layer("AbsVal", "abs", "");
        assertFalse(l.allowsInPlace());
        Blob x = random("x", 4);
        var e = assertThrows(ShapeException.class, () -> l.setUp(list(x), list(x)));
        assertEquals("layer 'abs' (AbsVal) at abs: does not work in place: backward needs the sign of the input",
                e.getMessage());
    }
}
