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

class SliceTest {

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {"slice_points;'\"slice_point\":[1,3]'", "slice_equal;'\"axis\":2'",
        "slice_equal;'\"slice_dim\":2'", "slice_equal;'\"axis\":-1,\"slice_point\":[2,4]'"})
    void matchesTorchSplit(String fixture, String fields) {
        var f = load(fixture);
        Blob x = blob("x", f.get("x"));
        List<Blob> top = list(new Blob("y0"), new Blob("y1"), new Blob("y2"));
        Layer l = layer("Slice", "slice", fields);
        run(l, list(x), top);
        for (int t = 0; t < 3; t++) {
            assertData(f.get("y" + t), top.get(t), 0);
            setDiff(top.get(t), f.get("dy" + t));
        }
        l.backward(top, new boolean[] {true}, list(x));
        assertDiff(f.get("dx"), x, 0);
    }

    @Test
    void gradientsMatchCentralDifferences() {
        new GradientChecker().checkAll(layer("Slice", "slice", "\"slice_point\":[1]"), list(random("x", 2, 3, 2)),
                list(new Blob("a"), new Blob("b")));
        new GradientChecker().checkAll(layer("Slice", "slice", "\"axis\":0"), list(random("x", 4, 2)),
                list(new Blob("a"), new Blob("b"), new Blob("c"), new Blob("d")));
    }

    @Test
    void anUnevenSplitOrBadPointsNameTheLayer() {
        var e = assertThrows(ShapeException.class, () -> run(layer("Slice", "slice", ""),
                list(new Blob("x", 2, 5)), list(new Blob("a"), new Blob("b"))));
        assertEquals("layer 'slice' (Slice) at slice: axis 1 of bottom 'x' of shape [2,5] (5) cannot be split evenly"
                + " into 2 tops", e.getMessage());
        e = assertThrows(ShapeException.class, () -> run(layer("Slice", "slice", "\"slice_point\":[3,2]"),
                list(new Blob("x", 2, 5)), list(new Blob("a"), new Blob("b"), new Blob("c"))));
        assertEquals("layer 'slice' (Slice) at slice: slice_point [3, 2] must be strictly increasing inside (0, 5) for"
                + " axis 1 of bottom 'x' of shape [2,5]", e.getMessage());
        e = assertThrows(ShapeException.class, () -> run(layer("Slice", "slice", "\"slice_point\":[5]"),
                list(new Blob("x", 2, 5)), list(new Blob("a"), new Blob("b"))));
        assertEquals("layer 'slice' (Slice) at slice: slice_point [5] must be strictly increasing inside (0, 5) for"
                + " axis 1 of bottom 'x' of shape [2,5]", e.getMessage());
        e = assertThrows(ShapeException.class, () -> run(layer("Slice", "slice", "\"slice_point\":[1]"),
                list(new Blob("x", 2, 5)), list(new Blob("a"), new Blob("b"), new Blob("c"))));
        assertEquals("layer 'slice' (Slice) at slice: slice_point [1] needs one point fewer than the 3 tops",
                e.getMessage());
        var c = assertThrows(ConfigException.class, () -> layer("Slice", "slice", "\"axis\":1,\"slice_dim\":1"));
        assertEquals("slice.slice_dim: give either axis or slice_dim (legacy), not both", c.getMessage());
    }
}
