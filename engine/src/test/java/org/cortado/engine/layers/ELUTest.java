package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ELUTest {

    @Test
    void matchesPyTorch() {
        ActivationFixtures.matches("elu", "ELU", "");
        ActivationFixtures.matches("elu_alpha", "ELU", "\"alpha\":0.5");
    }

    @ParameterizedTest
    @ValueSource(floats = {1f, 0.5f, -0.7f})
    void gradientsMatchCentralDifferencesAwayFromTheKink(float alpha) {
        Blob x = LayerTesting.uniform("x", 3L, -3, 2, 2, 3, 4);
        new GradientChecker().kink(0, 0.02).checkAll(layer("ELU", "elu", "\"alpha\":" + alpha), list(x),
                list(new Blob("y")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\"alpha\":0.3"})
    void inPlaceGivesTheSameValuesAndGradients(String fields) {
        ActivationFixtures.inPlaceMatches("ELU", fields, random("x", 3, 4, 5));
    }

    @Test
    void inPlaceWithANegativeAlphaIsRefused() {
        Layer l = layer("ELU", "elu", "\"alpha\":-0.5");
        Blob x = random("x", 4);
        var e = assertThrows(ShapeException.class, () -> l.setUp(list(x), list(x)));
        assertEquals("layer 'elu' (ELU) at elu: in place needs alpha >= 0 (the output must keep the sign of the"
                + " input), got -0.5", e.getMessage());
    }
}
