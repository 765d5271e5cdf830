package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.cortado.engine.layers.LayerTesting.uniform;
import static org.cortado.engine.layers.UtilityFixtures.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class EltwiseTest {

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {"eltwise_sum;'\"coeff\":[0.5,-2,1.5]'", "eltwise_prod;'\"operation\":\"PROD\"'",
        "eltwise_prod;'\"operation\":\"PROD\",\"stable_prod_grad\":false'", "eltwise_max;'\"operation\":\"MAX\"'"})
    void matchesTorch(String fixture, String fields) {
        var f = load(fixture);
        List<Blob> bottom = list(blob("x0", f.get("x0")), blob("x1", f.get("x1")), blob("x2", f.get("x2")));
        Blob y = new Blob("y");
        Layer l = layer("Eltwise", "elt", fields);
        run(l, bottom, list(y));
        assertData(f.get("y"), y, 1e-6);
        setDiff(y, f.get("dy"));
        l.backward(list(y), new boolean[] {true, true, true}, bottom);
        for (int i = 0; i < 3; i++) {
            assertDiff(f.get("dx" + i), bottom.get(i), 2e-5);
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {"''", "'\"coeff\":[2,-1,0.5]'", "'\"operation\":\"PROD\"'",
        "'\"operation\":\"PROD\",\"stable_prod_grad\":false'"})
    void gradientsMatchCentralDifferences(String fields) {
        new GradientChecker().checkAll(layer("Eltwise", "elt", fields),
                list(random("a", 2, 3), random("b", 2, 3), random("c", 2, 3)), list(new Blob("y")));
    }

    @Test
    void maxGradientMatchesCentralDifferencesAwayFromTies() {
        // Values on a grid 0.1 apart, so no two bottoms are within the step of each other.
        List<Blob> bottom = list(new Blob("a", 2, 3), new Blob("b", 2, 3), new Blob("c", 2, 3));
        for (int i = 0; i < 6; i++) {
            int[] order = {(i * 2) % 3, (i * 2 + 1) % 3, (i * 2 + 2) % 3};
            for (int b = 0; b < 3; b++) {
                bottom.get(b).x()[i] = 0.1f * order[b] + 0.3f * i - 0.8f;
            }
        }
        new GradientChecker(1e-2, 1e-2).checkAll(layer("Eltwise", "elt", "\"operation\":\"MAX\""), bottom,
                list(new Blob("y")));
    }

    @Test
    void maxBreaksTiesAsCaffe() {
        // Caffe: between bottoms 0 and 1 a tie goes to 1; later bottoms need to be strictly greater.
        Blob a = new Blob("a", 2);
        Blob b = new Blob("b", 2);
        Blob c = new Blob("c", 2);
        a.x()[0] = 1; b.x()[0] = 1; c.x()[0] = 1;
        a.x()[1] = 0; b.x()[1] = 2; c.x()[1] = 2;
        Blob y = new Blob("y");
        Layer l = layer("Eltwise", "elt", "\"operation\":\"MAX\"");
        run(l, list(a, b, c), list(y));
        y.dx()[0] = 5;
        y.dx()[1] = 7;
        l.backward(list(y), new boolean[] {true, true, true}, list(a, b, c));
        assertArrayEquals(new float[] {0, 0}, a.diff().toArray());
        assertArrayEquals(new float[] {5, 7}, b.diff().toArray());
        assertArrayEquals(new float[] {0, 0}, c.diff().toArray());
    }

    @Test
    void badParametersNameTheLayer() {
        var e = assertThrows(ShapeException.class, () -> run(layer("Eltwise", "elt", ""),
                list(new Blob("a", 2, 3), new Blob("b", 3, 2)), list(new Blob("y"))));
        assertEquals("layer 'elt' (Eltwise) at elt: bottom 'b' of shape [3,2] differs from bottom 'a' of shape [2,3]",
                e.getMessage());
        e = assertThrows(ShapeException.class, () -> run(layer("Eltwise", "elt", "\"coeff\":[1,2,3]"),
                list(new Blob("a", 2), new Blob("b", 2)), list(new Blob("y"))));
        assertEquals("layer 'elt' (Eltwise) at elt: coeff has 3 values, needs one per bottom (2)", e.getMessage());
        var c = assertThrows(ConfigException.class,
                () -> layer("Eltwise", "elt", "\"operation\":\"MAX\",\"coeff\":[1,2]"));
        assertEquals("elt.coeff: only the SUM operation takes coefficients, operation is MAX", c.getMessage());
        c = assertThrows(ConfigException.class, () -> layer("Eltwise", "elt", "\"operation\":\"MIN\""));
        assertEquals("elt.operation: expected one of [PROD, SUM, MAX], got \"MIN\"", c.getMessage());
        assertEquals(2, layer("Eltwise", "elt", "").minBottoms());
    }
}
