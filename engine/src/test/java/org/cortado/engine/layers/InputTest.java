package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;

/** Input has no bottoms and no parameters, hence no gradient to check: forward and backward are no-ops. */
class InputTest {

    @Test
    void setUpShapesUnshapedTopsAndForwardLeavesTheirValues() {
        Input in = (Input) layer("Input", "data",
                "\"top\":[\"data\",\"label\"],\"shape\":[{\"dim\":[4,1,28,28]},{\"dim\":[4]}]");
        Blob data = new Blob("data");
        Blob label = new Blob("label");
        List<Blob> top = list(data, label);
        in.setUp(list(), top);
        in.reshape(list(), top);
        assertArrayEquals(new int[] {4, 1, 28, 28}, data.shape());
        assertArrayEquals(new int[] {4}, label.shape());
        data.x()[5] = 3.5f;
        in.forward(list(), top);
        in.backward(top, new boolean[0], list());
        assertEquals(3.5f, data.x()[5]);
        assertEquals(0, in.minBottoms());
        assertEquals(0, in.maxBottoms());
    }

    @Test
    void oneShapeIsSharedByAllTops() {
        Input in = (Input) layer("Input", "in", "\"top\":[\"a\",\"b\"],\"shape\":{\"dim\":[2,3]}");
        int[][] shapes = in.shapes();
        assertEquals(2, shapes.length);
        assertArrayEquals(new int[] {2, 3}, shapes[0]);
        assertArrayEquals(new int[] {2, 3}, shapes[1]);
        shapes[0][0] = 99; // a copy: the layer's shapes do not change
        assertEquals(2, in.shapes()[0][0]);
    }

    @Test
    void aTopReshapedByTheNetKeepsItsShape() {
        Input in = (Input) layer("Input", "in", "\"top\":\"x\",\"shape\":{\"dim\":[64,3,32,32]}");
        Blob x = new Blob("x");
        in.setUp(list(), list(x));
        x.reshape(10, 3, 32, 32); // the net switches to a batch of 10
        in.reshape(list(), list(x));
        assertArrayEquals(new int[] {10, 3, 32, 32}, x.shape());
    }

    @Test
    void aTopOfAnotherRankIsAnError() {
        Input in = (Input) layer("Input", "in", "\"top\":\"x\",\"shape\":{\"dim\":[2,3]}");
        Blob x = new Blob("x", 6);
        var e = assertThrows(ShapeException.class, () -> in.setUp(list(), list(x)));
        assertEquals("layer 'in' (Input) at in: top 'x' has shape [6], configured as [2,3]", e.getMessage());
    }

    @Test
    void badShapesNameTheirJsonPath() {
        var e = assertThrows(ConfigException.class, () -> layer("Input", "in", "\"top\":\"x\""));
        assertEquals("in.shape: required: one {\"dim\": [...]} per top", e.getMessage());
        e = assertThrows(ConfigException.class, () -> layer("Input", "in", "\"top\":\"x\",\"shape\":{\"dim\":[2,0]}"));
        assertEquals("in.shape.dim: dimension 1 must be > 0, got 0", e.getMessage());
        e = assertThrows(ConfigException.class, () -> layer("Input", "in",
                "\"top\":[\"a\",\"b\",\"c\"],\"shape\":[{\"dim\":[1]},{\"dim\":[2]}]"));
        assertEquals("in.shape: expected 1 shape or one per top (3), got 2", e.getMessage());
        e = assertThrows(ConfigException.class, () -> layer("Input", "in", "\"top\":\"x\",\"shape\":{\"dims\":[2]}"));
        assertEquals("in.shape.dims: unknown field", e.getMessage());
    }
}
