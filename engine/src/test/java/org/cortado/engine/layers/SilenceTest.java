package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;

/**
 * Silence has no top, so its gradient is zero; there is nothing PyTorch computes for it beyond that (a
 * tensor used by nothing gets a zero gradient), so the check here is the zero itself.
 */
class SilenceTest {

    @Test
    void takesAnyBottomsProducesNoTopAndZeroesTheGradient() {
        Layer l = layer("Silence", "silence", "");
        assertEquals(0, l.minTops());
        assertEquals(0, l.maxTops());
        Blob a = random("a", 2, 3);
        Blob b = random("b", 4);
        List<Blob> none = list();
        l.setUp(list(a, b), none);
        l.reshape(list(a, b), none);
        l.forward(list(a, b), none);
        java.util.Arrays.fill(a.dx(), 5f);
        java.util.Arrays.fill(b.dx(), 5f);
        l.backward(none, new boolean[] {true, false}, list(a, b));
        for (int i = 0; i < 6; i++) {
            assertEquals(0f, a.dx()[i]);
        }
        assertEquals(5f, b.dx()[0]);
    }

    @Test
    void gradientsMatchCentralDifferences() {
        new GradientChecker().checkAll(layer("Silence", "silence", ""), list(random("a", 2, 3), random("b", 2)), list());
    }
}
