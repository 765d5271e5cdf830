package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;

class SplitTest {

    @Test
    void everyTopGetsACopyAndBackwardSumsTheirDiffs() {
        Layer split = layer("Split", "x_split", "");
        Blob x = random("x", 2, 3, 4);
        List<Blob> top = list(new Blob("x_0"), new Blob("x_1"), new Blob("x_2"));
        split.setUp(list(x), top);
        split.reshape(list(x), top);
        split.forward(list(x), top);
        for (Blob t : top) {
            assertArrayEquals(x.shape(), t.shape());
            assertArrayEquals(x.data().toArray(), t.data().toArray());
        }
        top.get(0).x()[0] = 99; // the copies are independent
        assertEquals(x.x()[1], top.get(1).x()[1]);
        float[] a = random("a", 24).x();
        float[] b = random("b", 24).x();
        float[] c = random("c", 24).x();
        System.arraycopy(a, 0, top.get(0).dx(), 0, 24);
        System.arraycopy(b, 0, top.get(1).dx(), 0, 24);
        System.arraycopy(c, 0, top.get(2).dx(), 0, 24);
        split.backward(top, new boolean[] {true}, list(x));
        for (int i = 0; i < 24; i++) {
            assertEquals(a[i] + b[i] + c[i], x.dx()[i], 1e-6f);
        }
        x.dx()[0] = 42;
        split.backward(top, new boolean[] {false}, list(x));
        assertEquals(42, x.dx()[0]);
    }

    @Test
    void gradientsMatchCentralDifferences() {
        // The checker's objective sums over all tops, so this checks the summation too.
        new GradientChecker().checkAll(layer("Split", "s", ""), list(random("x", 3, 4)),
                list(new Blob("t0"), new Blob("t1"), new Blob("t2")));
        new GradientChecker().checkAll(layer("Split", "s", ""), list(random("x", 5)), list(new Blob("t0")));
    }

    @Test
    void inPlaceIsRefused() {
        Blob x = random("x", 3);
        Layer split = layer("Split", "s", "");
        var e = assertThrows(ShapeException.class, () -> split.reshape(list(x), list(new Blob("t"), x)));
        assertEquals("layer 's' (Split) at s: cannot run in place: top 'x' is the bottom", e.getMessage());
    }
}
