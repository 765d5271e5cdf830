package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.forward;
import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.cortado.engine.layers.UtilityFixtures.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ReshapeTest {

    @Test
    void matchesTorchReshape() {
        var f = load("reshape");
        Blob x = blob("x", f.get("x"));
        Blob y = new Blob("y");
        Layer l = layer("Reshape", "r", "\"shape\":{\"dim\":[0,-1,2]}");
        run(l, list(x), list(y));
        assertData(f.get("y"), y, 0);
        setDiff(y, f.get("dy"));
        l.backward(list(y), new boolean[] {true}, list(x));
        assertDiff(f.get("dx"), x, 0);
    }

    /** Caffe's own ReshapeLayer test cases (test_reshape_layer.cpp) on a (2, 3, 6, 5) bottom. */
    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
        "'\"shape\":{\"dim\":[6,2,3,5]}';6,2,3,5",
        "'\"shape\":{\"dim\":[0,3,2,-1]}';2,3,2,15",
        "'\"shape\":{\"dim\":[0,-1]}';2,90",
        "'\"shape\":{\"dim\":[1]},\"axis\":0,\"num_axes\":0';1,2,3,6,5",
        "'\"shape\":{\"dim\":[1]},\"axis\":2,\"num_axes\":0';2,3,1,6,5",
        "'\"shape\":{\"dim\":[1]},\"axis\":-1,\"num_axes\":0';2,3,6,5,1",
        "'\"shape\":{\"dim\":[1,-1]},\"axis\":1,\"num_axes\":1';2,1,3,6,5",
        "'\"shape\":{\"dim\":[-1]},\"axis\":1,\"num_axes\":2';2,18,5",
        "'\"shape\":{\"dim\":[-1,1]},\"axis\":-2';2,3,6,5,1", // -2: from the last axis on
        "'\"shape\":{\"dim\":[]},\"axis\":0,\"num_axes\":0';2,3,6,5"})
    void shapesFollowCaffe(String fields, String expected) {
        Blob x = random("x", 2, 3, 6, 5);
        Blob y = forward(layer("Reshape", "r", fields), x);
        assertArrayEquals(Arrays.stream(expected.split(",")).mapToInt(Integer::parseInt).toArray(), y.shape());
        assertArrayEquals(x.data().toArray(), y.data().toArray());
    }

    @Test
    void gradientsMatchCentralDifferences() {
        new GradientChecker().checkAll(layer("Reshape", "r", "\"shape\":{\"dim\":[-1,3]}"), list(random("x", 2, 3, 2)),
                list(new Blob("y")));
    }

    @Test
    void badShapesNameTheLayer() {
        var e = assertThrows(ShapeException.class,
                () -> forward(layer("Reshape", "r", "\"shape\":{\"dim\":[4,-1]}"), new Blob("x", 2, 3)));
        assertEquals("layer 'r' (Reshape) at r: cannot infer dim -1 of [4, -1]: bottom 'x' of shape [2,3] has 6 values,"
                + " not a multiple of 4", e.getMessage());
        e = assertThrows(ShapeException.class,
                () -> forward(layer("Reshape", "r", "\"shape\":{\"dim\":[4,2]}"), new Blob("x", 2, 3)));
        assertEquals("layer 'r' (Reshape) at r: shape [4,2] (8 values) does not fit bottom 'x' of shape [2,3] (6 values)",
                e.getMessage());
        e = assertThrows(ShapeException.class,
                () -> forward(layer("Reshape", "r", "\"shape\":{\"dim\":[6,0]}"), new Blob("x", 6)));
        assertEquals("layer 'r' (Reshape) at r: dim[1] = 0 copies axis 1, which bottom 'x' of shape [6] does not have",
                e.getMessage());
        var c = assertThrows(ConfigException.class, () -> layer("Reshape", "r", "\"shape\":{\"dim\":[-1,-1]}"));
        assertEquals("r.shape.dim: at most one dim may be -1 (inferred), got [-1, -1]", c.getMessage());
        c = assertThrows(ConfigException.class, () -> layer("Reshape", "r", "\"shape\":{\"dim\":[-2]}"));
        assertEquals("r.shape.dim: every dim must be >= -1 (-1 infers, 0 copies), got -2", c.getMessage());
        c = assertThrows(ConfigException.class, () -> layer("Reshape", "r", "\"shape\":{\"dim\":[1]},\"num_axes\":-2"));
        assertEquals("r.num_axes: must be >= -1 (-1: all axes from axis on), got -2", c.getMessage());
        c = assertThrows(ConfigException.class, () -> layer("Reshape", "r", ""));
        assertEquals("r.shape: required object is missing", c.getMessage());
    }
}
