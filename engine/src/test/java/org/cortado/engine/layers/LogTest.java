package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LogTest {

    @Test
    void matchesPyTorch() {
        ActivationFixtures.matches("log_default", "Log", "");
        ActivationFixtures.matches("log_base10", "Log", "\"base\":10,\"scale\":2,\"shift\":0.5");
        ActivationFixtures.matches("log_e_shifted", "Log", "\"scale\":0.5,\"shift\":1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\"base\":10,\"scale\":2,\"shift\":0.5", "\"base\":0.5,\"scale\":-1,\"shift\":5"})
    void gradientsMatchCentralDifferences(String fields) {
        Blob x = LayerTesting.uniform("x", 4L, 0.5, 3, 2, 3, 4); // the argument stays positive
        new GradientChecker(1e-3, 1e-2).checkAll(layer("Log", "log", fields), list(x), list(new Blob("y")));
    }

    @ParameterizedTest
    @ValueSource(doubles = {0, -3, 1})
    void aBaseThatIsNotPositiveOrIsOneIsRefused(double base) {
        var e = assertThrows(ConfigException.class, () -> layer("Log", "log", "\"base\":" + base));
        assertEquals("log.base: must be > 0 and not 1, or -1 for e, got " + base, e.getMessage());
    }

    @Test
    void inPlaceIsRefused() {
        Layer l = layer("Log", "log", "");
        Blob x = LayerTesting.uniform("x", 1L, 1, 2, 4);
        var e = assertThrows(ShapeException.class, () -> l.setUp(list(x), list(x)));
        assertEquals("layer 'log' (Log) at log: does not work in place: backward needs the input", e.getMessage());
    }
}
