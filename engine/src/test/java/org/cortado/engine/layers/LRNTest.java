package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.cortado.engine.layers.NormalizationFixtures.assertClose;
import static org.cortado.engine.layers.NormalizationFixtures.blob;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class LRNTest {

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
        "lrn_across; \"local_size\": 5, \"alpha\": 0.7, \"beta\": 0.75, \"k\": 2",
        "lrn_within; \"local_size\": 3, \"alpha\": 0.9, \"beta\": 0.6, \"norm_region\": \"WITHIN_CHANNEL\", \"k\": 7"})
    void matchesPyTorch(String fixture, String fields) {
        var f = NormalizationFixtures.read(fixture);
        Layer l = layer("LRN", "norm", fields);
        Blob x = blob("x", f.get("x"));
        Blob y = LayerTesting.forward(l, x);
        assertClose("y", f.get("y"), y.x(), 1e-5f);
        y.diff().copyFrom(f.get("dy"));
        l.backward(list(y), new boolean[] {true}, list(x));
        assertClose("dx", f.get("dx"), x.dx(), 1e-5f);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\"local_size\": 3, \"alpha\": 2, \"beta\": 0.5, \"k\": 1.5",
        "\"norm_region\": \"WITHIN_CHANNEL\", \"local_size\": 3, \"alpha\": 1.5"})
    void gradientsMatchCentralDifferences(String fields) {
        new GradientChecker(1e-2, 1e-2).checkAll(layer("LRN", "norm", fields), list(random("x", 2, 7, 3, 3)),
                list(new Blob("y")));
    }

    @Test
    void badParametersNameTheLayer() {
        var c = assertThrows(ConfigException.class, () -> layer("LRN", "norm", "\"local_size\": 4"));
        assertTrue(c.getMessage().contains("norm.local_size"), c.getMessage());
        c = assertThrows(ConfigException.class, () -> layer("LRN", "norm", "\"local_size\": 0"));
        assertTrue(c.getMessage().contains("norm.local_size"), c.getMessage());
        c = assertThrows(ConfigException.class, () -> layer("LRN", "norm", "\"norm_region\": \"ACROSS\""));
        assertTrue(c.getMessage().contains("norm.norm_region"), c.getMessage());
        var e = assertThrows(ShapeException.class, () -> LayerTesting.forward(layer("LRN", "norm", ""), random("x", 2, 3)));
        assertTrue(e.getMessage().startsWith("layer 'norm' (LRN)"), e.getMessage());
    }
}
