package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.cortado.engine.ConfigException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SwishTest {

    @Test
    void matchesPyTorch() {
        ActivationFixtures.matches("swish", "Swish", "");
        ActivationFixtures.matches("swish_beta", "Swish", "\"beta\":1.7");
    }

    @ParameterizedTest
    @ValueSource(floats = {1f, 1.7f, -0.5f})
    void gradientsMatchCentralDifferences(float beta) {
        Blob x = LayerTesting.uniform("x", 13L, -4, 4, 2, 3, 4);
        new GradientChecker(1e-3, 1e-2).checkAll(layer("Swish", "swish", "\"beta\":" + beta), list(x),
                list(new Blob("y")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\"beta\":2"})
    void inPlaceGivesTheSameValuesAndGradients(String fields) {
        ActivationFixtures.inPlaceMatches("Swish", fields, random("x", 3, 4, 5));
    }

    @Test
    void anUnknownFieldIsReported() {
        var e = assertThrows(ConfigException.class, () -> layer("Swish", "swish", "\"betta\":2"));
        assertEquals("swish.betta: unknown field", e.getMessage());
    }
}
