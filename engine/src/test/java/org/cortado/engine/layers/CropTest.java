package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.cortado.engine.layers.UtilityFixtures.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class CropTest {

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {"crop_axis2;'\"offset\":[2,1]'", "crop_axis1;'\"axis\":1,\"offset\":1'",
        "crop_axis1;'\"axis\":-3,\"offset\":[1,1,1]'"})
    void matchesTorchSlicing(String fixture, String fields) {
        var f = load(fixture);
        Blob x = blob("x", f.get("x"));
        Blob ref = blob("ref", f.get("ref"));
        Blob y = new Blob("y");
        Layer l = layer("Crop", "crop", fields);
        run(l, list(x, ref), list(y));
        assertData(f.get("y"), y, 0);
        setDiff(y, f.get("dy"));
        java.util.Arrays.fill(x.dx(), 9f);   // backward must overwrite outside the window too
        ref.dx()[0] = 42;
        l.backward(list(y), new boolean[] {true, false}, list(x, ref));
        assertDiff(f.get("dx"), x, 0);
        assertEquals(42, ref.dx()[0]);
        assertFalse(l.canPropagateDown(1));
    }

    @Test
    void defaultsCropFromAxis2AtOffset0() {
        Blob x = random("x", 1, 2, 3, 3);
        Blob y = new Blob("y");
        run(layer("Crop", "crop", ""), list(x, new Blob("r", 5, 5, 2, 2)), list(y));
        assertArrayEquals(new int[] {1, 2, 2, 2}, y.shape());
        assertEquals(x.x()[9 + 3 + 1], y.x()[4 + 2 + 1]);
    }

    @Test
    void gradientsMatchCentralDifferences() {
        new GradientChecker().check(layer("Crop", "crop", "\"offset\":[1,0]"),
                list(random("x", 2, 2, 4, 3), new Blob("r", 1, 1, 2, 2)), list(new Blob("y")), 0);
    }

    @Test
    void anOffsetPastTheInputNamesTheLayer() {
        var e = assertThrows(ShapeException.class, () -> run(layer("Crop", "crop", "\"offset\":[1,2]"),
                list(new Blob("x", 1, 1, 4, 4), new Blob("r", 1, 1, 3, 3)), list(new Blob("y"))));
        assertEquals("layer 'crop' (Crop) at crop: offset 2 on axis 3 crops 3 values (bottom 'r' of shape [1,1,3,3])"
                + " past the end of bottom 'x' of shape [1,1,4,4]", e.getMessage());
        e = assertThrows(ShapeException.class, () -> run(layer("Crop", "crop", "\"offset\":[1,2,3]"),
                list(new Blob("x", 1, 1, 4, 4), new Blob("r", 1, 1, 3, 3)), list(new Blob("y"))));
        assertEquals("layer 'crop' (Crop) at crop: offset [1, 2, 3] must have one value or one per cropped axis (2 from"
                + " axis 2 of shape [1,1,4,4])", e.getMessage());
        e = assertThrows(ShapeException.class, () -> run(layer("Crop", "crop", ""),
                list(new Blob("x", 1, 1, 4, 4), new Blob("r", 1, 3, 3)), list(new Blob("y"))));
        assertEquals("layer 'crop' (Crop) at crop: bottom 'x' of shape [1,1,4,4] and bottom 'r' of shape [1,3,3] must"
                + " have the same number of axes", e.getMessage());
        var c = assertThrows(ConfigException.class, () -> layer("Crop", "crop", "\"offset\":-1"));
        assertEquals("crop.offset: must be >= 0, got -1", c.getMessage());
    }
}
