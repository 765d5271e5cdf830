package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;

class ClipTest {

    @Test
    void matchesPyTorch() {
        ActivationFixtures.matches("clip", "Clip", "\"min\":-0.5,\"max\":0.7");
    }

    @Test
    void theGradientPassesAtTheBounds() {
        Layer l = layer("Clip", "clip", "\"min\":-1,\"max\":1");
        Blob x = new Blob("x", 5);
        System.arraycopy(new float[] {-2, -1, 0, 1, 2}, 0, x.x(), 0, 5);
        Blob y = LayerTesting.forward(l, x);
        assertArrayEquals(new float[] {-1, -1, 0, 1, 1}, y.data().toArray());
        java.util.Arrays.fill(y.dx(), 3f);
        l.backward(list(y), new boolean[] {true}, list(x));
        assertArrayEquals(new float[] {0, 3, 3, 3, 0}, x.diff().toArray());
    }

    @Test
    void gradientsMatchCentralDifferencesAwayFromTheBounds() {
        Layer l = layer("Clip", "clip", "\"min\":-0.4,\"max\":0.5");
        Blob x = random("x", 2, 3, 4);
        for (int i = 0; i < x.count(); i++) { // move values off the bounds, the kinks
            float v = x.x()[i];
            if (Math.abs(v + 0.4f) < 0.02f || Math.abs(v - 0.5f) < 0.02f) {
                x.x()[i] = v + 0.05f;
            }
        }
        new GradientChecker().checkAll(l, list(x), list(new Blob("y")));
    }

    @Test
    void minAndMaxAreRequired() {
        var e = assertThrows(ConfigException.class, () -> layer("Clip", "clip", "\"max\":1"));
        assertEquals("clip.min: required number is missing", e.getMessage());
        e = assertThrows(ConfigException.class, () -> layer("Clip", "clip", "\"min\":1"));
        assertEquals("clip.max: required number is missing", e.getMessage());
    }

    @Test
    void minAboveMaxIsRefused() {
        var e = assertThrows(ConfigException.class, () -> layer("Clip", "clip", "\"min\":1,\"max\":0.5"));
        assertEquals("clip.max: must be >= min (1.0), got 0.5", e.getMessage());
    }

    @Test
    void inPlaceIsRefused() {
        Layer l = layer("Clip", "clip", "\"min\":0,\"max\":1");
        Blob x = random("x", 4);
        var e = assertThrows(ShapeException.class, () -> l.setUp(list(x), list(x)));
        assertEquals("layer 'clip' (Clip) at clip: does not work in place: backward needs the unclipped input",
                e.getMessage());
    }
}
