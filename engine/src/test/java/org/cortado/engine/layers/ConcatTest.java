package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.cortado.engine.layers.UtilityFixtures.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ConcatTest {

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {"concat_axis1;''", "concat_axis_m1;'\"axis\":-1'", "concat_axis1;'\"concat_dim\":1'"})
    void matchesTorchCat(String fixture, String fields) {
        var f = load(fixture);
        List<Blob> bottom = list(blob("x0", f.get("x0")), blob("x1", f.get("x1")), blob("x2", f.get("x2")));
        Blob y = new Blob("y");
        Layer l = layer("Concat", "cat", fields);
        run(l, bottom, list(y));
        assertData(f.get("y"), y, 0);
        setDiff(y, f.get("dy"));
        l.backward(list(y), new boolean[] {true, true, true}, bottom);
        for (int i = 0; i < 3; i++) {
            assertDiff(f.get("dx" + i), bottom.get(i), 0);
        }
    }

    @Test
    void gradientsMatchCentralDifferences() {
        new GradientChecker().checkAll(layer("Concat", "cat", ""),
                list(random("a", 2, 1, 3), random("b", 2, 2, 3)), list(new Blob("y")));
        new GradientChecker().checkAll(layer("Concat", "cat", "\"axis\":0"),
                list(random("a", 1, 2), random("b", 3, 2), random("c", 2, 2)), list(new Blob("y")));
    }

    @Test
    void mismatchedShapesNameTheLayerAndBothShapes() {
        var e = assertThrows(ShapeException.class, () -> run(layer("Concat", "cat", ""),
                list(new Blob("a", 2, 3, 4), new Blob("b", 2, 1, 5)), list(new Blob("y"))));
        assertEquals("layer 'cat' (Concat) at cat: bottom 'b' of shape [2,1,5] does not match bottom 'a' of shape"
                + " [2,3,4] outside axis 1", e.getMessage());
        e = assertThrows(ShapeException.class, () -> run(layer("Concat", "cat", ""),
                list(new Blob("a", 2, 3, 4), new Blob("b", 2, 3)), list(new Blob("y"))));
        assertEquals("layer 'cat' (Concat) at cat: bottom 'b' of shape [2,3] does not match bottom 'a' of shape"
                + " [2,3,4] outside axis 1", e.getMessage());
        e = assertThrows(ShapeException.class, () -> run(layer("Concat", "cat", "\"axis\":3"),
                list(new Blob("a", 2, 3, 4), new Blob("b", 2, 3, 4)), list(new Blob("y"))));
        assertEquals("layer 'cat' (Concat) at cat: axis 3 is out of range for bottom 'a' of shape [2,3,4]", e.getMessage());
    }

    @Test
    void axisAndConcatDimTogetherOrANegativeConcatDimAreConfigErrors() {
        var e = assertThrows(ConfigException.class, () -> layer("Concat", "cat", "\"axis\":1,\"concat_dim\":1"));
        assertEquals("cat.concat_dim: give either axis or concat_dim (legacy), not both", e.getMessage());
        e = assertThrows(ConfigException.class, () -> layer("Concat", "cat", "\"concat_dim\":-1"));
        assertEquals("cat.concat_dim: must be >= 0, got -1", e.getMessage());
    }
}
