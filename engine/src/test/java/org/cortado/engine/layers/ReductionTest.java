package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.cortado.engine.layers.UtilityFixtures.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ReductionTest {

    @ParameterizedTest
    @ValueSource(strings = {"sum", "asum", "sumsq", "mean"})
    void matchesTorch(String op) {
        var f = load("reduction_" + op);
        Blob x = blob("x", f.get("x"));
        Blob y = new Blob("y");
        Layer l = layer("Reduction", "red", "\"operation\":\"" + op.toUpperCase() + "\",\"axis\":1,\"coeff\":0.7");
        run(l, list(x), list(y));
        assertData(f.get("y"), y, 1e-5);
        setDiff(y, f.get("dy"));
        l.backward(list(y), new boolean[] {true}, list(x));
        assertDiff(f.get("dx"), x, 1e-6);
    }

    @ParameterizedTest
    @ValueSource(strings = {"SUM", "ASUM", "SUMSQ", "MEAN"})
    void gradientsMatchCentralDifferences(String op) {
        // ASUM has a kink at 0.
        new GradientChecker().kink(0, 0.02).checkAll(layer("Reduction", "red", "\"operation\":\"" + op + "\",\"coeff\":-1.5"),
                list(random("x", 2, 3)), list(new Blob("y")));
        new GradientChecker().kink(0, 0.02).checkAll(layer("Reduction", "red", "\"operation\":\"" + op + "\",\"axis\":-1"),
                list(random("x", 2, 3)), list(new Blob("y")));
    }

    @Test
    void axis0GivesAScalar() {
        Blob x = random("x", 2, 3, 4);
        Blob y = new Blob("y", 7);
        run(layer("Reduction", "red", ""), list(x), list(y));
        assertArrayEquals(new int[0], y.shape());
        double s = 0;
        for (int i = 0; i < 24; i++) {
            s += x.x()[i];
        }
        assertEquals(s, y.x()[0], 1e-5);
    }

    @Test
    void badParametersNameTheLayer() {
        var e = assertThrows(ShapeException.class,
                () -> run(layer("Reduction", "red", "\"axis\":3"), list(new Blob("x", 2, 3)), list(new Blob("y"))));
        assertEquals("layer 'red' (Reduction) at red: axis 3 is out of range for bottom 'x' of shape [2,3]", e.getMessage());
        var c = assertThrows(ConfigException.class, () -> layer("Reduction", "red", "\"operation\":\"MAX\""));
        assertEquals("red.operation: expected one of [SUM, ASUM, SUMSQ, MEAN], got \"MAX\"", c.getMessage());
    }
}
