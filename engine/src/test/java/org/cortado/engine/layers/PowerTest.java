package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PowerTest {

    @Test
    void matchesPyTorch() {
        ActivationFixtures.matches("power_default", "Power", "");
        ActivationFixtures.matches("power_square", "Power", "\"power\":2,\"scale\":1.5,\"shift\":0.5");
        ActivationFixtures.matches("power_cube", "Power", "\"power\":3,\"scale\":0.8,\"shift\":-0.25");
        ActivationFixtures.matches("power_sqrt", "Power", "\"power\":0.5,\"scale\":2,\"shift\":1");
        ActivationFixtures.matches("power_neg", "Power", "\"power\":-1.5,\"scale\":0.7");
    }

    @Test
    void aZeroPowerOrScaleGivesAConstantAndNoGradient() {
        Blob x = random("x", 2, 3);
        Layer l = layer("Power", "p", "\"power\":0,\"shift\":3");
        Blob y = LayerTesting.forward(l, x);
        java.util.Arrays.fill(y.dx(), 1f);
        l.backward(list(y), new boolean[] {true}, list(x));
        for (int i = 0; i < x.count(); i++) {
            assertEquals(1f, y.x()[i]);
            assertEquals(0f, x.dx()[i]);
        }
        Blob y2 = LayerTesting.forward(layer("Power", "p", "\"power\":2,\"scale\":0,\"shift\":3"), x);
        assertEquals(9f, y2.x()[0]);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\"power\":2,\"scale\":1.5,\"shift\":0.5", "\"power\":3,\"scale\":-0.8",
        "\"power\":0.5,\"scale\":0.5,\"shift\":1", "\"power\":-1.5,\"scale\":0.7,\"shift\":1.2"})
    void gradientsMatchCentralDifferences(String fields) {
        Blob x = random("x", 2, 3, 4); // in [-1, 1]: the bases of the fractional powers stay positive
        new GradientChecker(1e-3, 1e-2).checkAll(layer("Power", "p", fields), list(x), list(new Blob("y")));
    }

    @Test
    void inPlaceIsRefused() {
        Layer l = layer("Power", "p", "\"power\":2");
        Blob x = random("x", 4);
        var e = assertThrows(ShapeException.class, () -> l.setUp(list(x), list(x)));
        assertEquals("layer 'p' (Power) at p: does not work in place: backward needs the input", e.getMessage());
    }

    @Test
    void aNonNumericPowerNamesTheJsonPath() {
        var e = assertThrows(ConfigException.class, () -> layer("Power", "p", "\"power\":\"two\""));
        assertEquals(true, e.getMessage().startsWith("p.power: "), e.getMessage());
    }
}
