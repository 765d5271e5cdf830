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

class MVNTest {

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
        "mvn; ",
        "mvn_across; \"across_channels\": true",
        "mvn_mean_only; \"normalize_variance\": false"})
    void matchesPyTorch(String fixture, String fields) {
        var f = NormalizationFixtures.read(fixture);
        Layer l = layer("MVN", "mvn", fields == null ? "" : fields);
        Blob x = blob("x", f.get("x"));
        Blob y = LayerTesting.forward(l, x);
        assertClose("y", f.get("y"), y.x(), 1e-5f);
        y.diff().copyFrom(f.get("dy"));
        l.backward(list(y), new boolean[] {true}, list(x));
        assertClose("dx", f.get("dx"), x.dx(), 1e-5f);
    }

    /** Default eps only: Caffe's backward is the exact gradient up to eps / std (see MVN's Javadoc). */
    @ParameterizedTest
    @ValueSource(strings = {"", "\"across_channels\": true", "\"normalize_variance\": false"})
    void gradientsMatchCentralDifferences(String fields) {
        new GradientChecker(1e-2, 1e-2).checkAll(layer("MVN", "mvn", fields), list(random("x", 2, 3, 2, 3)),
                list(new Blob("y")));
    }

    @Test
    void badParametersNameTheLayer() {
        var c = assertThrows(ConfigException.class, () -> layer("MVN", "mvn", "\"eps\": -1"));
        assertTrue(c.getMessage().contains("mvn.eps"), c.getMessage());
        var e = assertThrows(ShapeException.class, () -> LayerTesting.forward(layer("MVN", "mvn", ""), random("x", 6)));
        assertTrue(e.getMessage().startsWith("layer 'mvn' (MVN)"), e.getMessage());
    }
}
