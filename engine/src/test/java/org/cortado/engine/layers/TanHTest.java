package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;

import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;

class TanHTest {

    @Test
    void forwardMatchesTheDefinition() {
        SigmoidTest.checkForward("TanH", x -> (Math.exp(x) - Math.exp(-x)) / (Math.exp(x) + Math.exp(-x)));
    }

    @Test
    void gradientsMatchCentralDifferences() {
        Blob x = LayerTesting.uniform("x", 4L, -2.5, 2.5, 2, 3, 4);
        new GradientChecker().checkAll(layer("TanH", "act", ""), list(x), list(new Blob("y")));
    }

    @Test
    void inPlaceGivesTheSameValuesAndGradients() {
        SigmoidTest.checkInPlace("TanH");
    }
}
