package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.forward;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.cortado.engine.ConfigException;
import org.cortado.engine.net.Phase;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;

class DropoutTest {


    @Test
    void trainKeepsAndScalesOrZeroes() {
        Blob x = LayerTesting.uniform("x", 1L, 0.5, 1.5, 100, 100); // no zeros in x
        Blob y = forward(layer("Dropout", "drop", "\"dropout_ratio\":0.3"), x);
        int dropped = 0;
        for (int i = 0; i < x.count(); i++) {
            if (y.x()[i] == 0f) {
                dropped++;
            } else {
                assertEquals(x.x()[i] / 0.7f, y.x()[i], 1e-6f, "a kept element is scaled by 1/(1-ratio)");
            }
        }
        // 10000 Bernoulli(0.3) draws: the standard deviation of the count is about 46.
        assertEquals(3000, dropped, 250);
    }

    @Test
    void defaultRatioIsOneHalf() {
        Blob x = LayerTesting.uniform("x", 2L, 0.5, 1.5, 10_000);
        Blob y = forward(layer("Dropout", "drop", ""), x);
        int kept = 0;
        for (int i = 0; i < x.count(); i++) {
            if (y.x()[i] != 0f) {
                kept++;
                assertEquals(2 * x.x()[i], y.x()[i], 1e-6f);
            }
        }
        assertEquals(5000, kept, 250);
    }

    @Test
    void testPhaseIsTheIdentityForwardAndBackward() {
        Blob x = random("x", 4, 5);
        Layer l = layer("Dropout", "drop", "\"dropout_ratio\":0.9", Phase.TEST);
        Blob y = forward(l, x);
        assertArrayEquals(x.data().toArray(), y.data().toArray());
        Blob dy = random("dy", 4, 5);
        y.diff().copyFrom(dy.data());
        l.backward(list(y), new boolean[] {true}, list(x));
        assertArrayEquals(dy.data().toArray(), x.diff().toArray());
        // In place in TEST: untouched.
        Blob z = random("x", 4, 5);
        Layer l2 = layer("Dropout", "drop", "\"dropout_ratio\":0.9", Phase.TEST);
        l2.setUp(list(z), list(z));
        l2.reshape(list(z), list(z));
        l2.forward(list(z), list(z));
        assertArrayEquals(x.data().toArray(), z.data().toArray());
    }

    @Test
    void backwardUsesTheSameMaskAsForward() {
        Blob x = LayerTesting.uniform("x", 3L, 0.5, 1.5, 50);
        Layer l = layer("Dropout", "drop", "");
        Blob y = forward(l, x);
        Arrays.fill(y.dx(), 0, 50, 1f);
        l.backward(list(y), new boolean[] {true}, list(x));
        for (int i = 0; i < 50; i++) {
            assertEquals(y.x()[i] == 0 ? 0f : 2f, x.dx()[i], "element " + i);
        }
    }

    @Test
    void inPlaceMatchesOutOfPlace() {
        Blob x = random("x", 6, 7);
        Blob dy = random("dy", 6, 7);
        Layer a = layer("Dropout", "drop", "");
        Blob y = forward(a, x);
        y.diff().copyFrom(dy.data());
        a.backward(list(y), new boolean[] {true}, list(x));

        Layer b = layer("Dropout", "drop", "");
        assertTrue(b.allowsInPlace());
        Blob z = random("x", 6, 7);
        b.setUp(list(z), list(z));
        b.reshape(list(z), list(z));
        b.forward(list(z), list(z));
        assertArrayEquals(y.data().toArray(), z.data().toArray());
        z.diff().copyFrom(dy.data());
        b.backward(list(z), new boolean[] {true}, list(z));
        assertArrayEquals(x.diff().toArray(), z.diff().toArray());
    }

    @Test
    void masksAreReproducibleFromSeedNameAndStep() {
        Blob x = LayerTesting.uniform("x", 4L, 0.5, 1.5, 200);
        Dropout a = (Dropout) layer("Dropout", "drop6", "");
        Dropout b = (Dropout) layer("Dropout", "drop6", "");
        Blob ya = new Blob("ya");
        Blob yb = new Blob("yb");
        a.setUp(list(x), list(ya));
        a.reshape(list(x), list(ya));
        b.setUp(list(x), list(yb));
        b.reshape(list(x), list(yb));
        // A fresh layer is at step 0.
        a.forward(list(x), list(ya));
        b.reseed(0);
        b.forward(list(x), list(yb));
        assertArrayEquals(ya.data().toArray(), yb.data().toArray());
        // The stream continues between forwards: a second forward draws a new mask.
        float[] first = ya.data().toArray();
        a.forward(list(x), list(ya));
        assertFalse(Arrays.equals(first, ya.data().toArray()));
        // A resumed run: step 17 gives the same mask however the layer got there.
        a.reseed(17);
        a.forward(list(x), list(ya));
        b.reseed(3);
        b.forward(list(x), list(yb));
        b.reseed(17);
        b.forward(list(x), list(yb));
        assertArrayEquals(ya.data().toArray(), yb.data().toArray());
        // Another layer name or another seed gives another mask.
        Dropout c = (Dropout) layer("Dropout", "drop7", "");
        Blob yc = new Blob("yc");
        c.setUp(list(x), list(yc));
        c.reshape(list(x), list(yc));
        c.reseed(17);
        c.forward(list(x), list(yc));
        assertFalse(Arrays.equals(ya.data().toArray(), yc.data().toArray()));
        Dropout d = new Dropout(LayerConfig.of("Dropout", "drop6", ""),
                new LayerContext(Phase.TRAIN, LayerTesting.PAR, 43));
        Blob yd = new Blob("yd");
        d.setUp(list(x), list(yd));
        d.reshape(list(x), list(yd));
        d.reseed(17);
        d.forward(list(x), list(yd));
        assertFalse(Arrays.equals(ya.data().toArray(), yd.data().toArray()));
    }

    @Test
    void gradientsMatchCentralDifferencesWithTheMaskHeldFixed() {
        Dropout l = (Dropout) layer("Dropout", "drop", "\"dropout_ratio\":0.4");
        Blob x = random("x", 3, 4, 5);
        new GradientChecker().beforeForward(() -> l.reseed(5)).checkAll(l, list(x), list(new Blob("y")));
    }

    @Test
    void ratioOutsideZeroToOneNamesTheJsonPath() {
        var e = assertThrows(ConfigException.class, () -> layer("Dropout", "drop6", "\"dropout_ratio\":1.0"));
        assertEquals("drop6.dropout_ratio: must be in [0, 1), got 1.0", e.getMessage());
        e = assertThrows(ConfigException.class, () -> layer("Dropout", "drop6", "\"dropout_ratio\":-0.1"));
        assertEquals("drop6.dropout_ratio: must be in [0, 1), got -0.1", e.getMessage());
        // 0 is allowed: nothing dropped, scale 1.
        Blob x = random("x", 10);
        assertArrayEquals(x.data().toArray(), forward(layer("Dropout", "d", "\"dropout_ratio\":0"), x).data().toArray());
    }
}
