package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.cortado.engine.ConfigException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ThresholdTest {

    @Test
    void matchesPyTorch() {
        ActivationFixtures.matches("threshold_default", "Threshold", "");
        ActivationFixtures.matches("threshold_03", "Threshold", "\"threshold\":0.3");
    }

    @Test
    void theThresholdItselfGivesZero() {
        Blob x = new Blob("x", 3);
        System.arraycopy(new float[] {0.5f, 0.49f, 0.51f}, 0, x.x(), 0, 3);
        Blob y = LayerTesting.forward(layer("Threshold", "t", "\"threshold\":0.5"), x);
        assertArrayEquals(new float[] {0, 0, 1}, y.data().toArray());
    }

    @ParameterizedTest
    @ValueSource(floats = {0f, 0.3f})
    void gradientsMatchCentralDifferencesAwayFromTheStep(float threshold) {
        new GradientChecker().kink(threshold, 0.02).checkAll(layer("Threshold", "t", "\"threshold\":" + threshold),
                list(random("x", 2, 3, 4)), list(new Blob("y")));
    }

    @Test
    void inPlaceGivesTheSameValuesAndGradients() {
        ActivationFixtures.inPlaceMatches("Threshold", "\"threshold\":0.1", random("x", 3, 4, 5));
    }

    @Test
    void aNonNumericThresholdNamesTheJsonPath() {
        var e = assertThrows(ConfigException.class, () -> layer("Threshold", "t", "\"threshold\":true"));
        assertEquals(true, e.getMessage().startsWith("t.threshold: "), e.getMessage());
    }
}
