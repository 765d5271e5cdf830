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

class ExpTest {

    @Test
    void matchesPyTorch() {
        ActivationFixtures.matches("exp_default", "Exp", "");
        ActivationFixtures.matches("exp_base2", "Exp", "\"base\":2,\"scale\":0.5,\"shift\":0.3");
        ActivationFixtures.matches("exp_e_scaled", "Exp", "\"scale\":1.3,\"shift\":-0.4");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\"base\":2,\"scale\":0.5,\"shift\":0.3", "\"base\":0.5,\"scale\":-1.2,\"shift\":1"})
    void gradientsMatchCentralDifferences(String fields) {
        new GradientChecker(1e-3, 1e-2).checkAll(layer("Exp", "exp", fields), list(random("x", 2, 3, 4)),
                list(new Blob("y")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\"base\":3,\"scale\":0.5,\"shift\":0.3"})
    void inPlaceGivesTheSameValuesAndGradients(String fields) {
        ActivationFixtures.inPlaceMatches("Exp", fields, random("x", 3, 4, 5));
    }

    @ParameterizedTest
    @ValueSource(doubles = {0, -2, -0.5})
    void aBaseThatIsNotPositiveNorMinusOneIsRefused(double base) {
        var e = assertThrows(ConfigException.class, () -> layer("Exp", "exp", "\"base\":" + base));
        assertEquals("exp.base: must be > 0, or -1 for e, got " + base, e.getMessage());
    }
}
