package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.UtilityFixtures.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;

/** ArgMax has no gradient, so there is no gradient check; values are compared with {@code torch.topk}. */
class ArgMaxTest {

    @Test
    void withoutAxisMatchesTorchTopkOfEachFlattenedItem() {
        var f = load("argmax_flat");   // x (3, 4, 5); indices and values (3, 2)
        Blob x = blob("x", f.get("x"));
        Blob y = new Blob("y");
        run(layer("ArgMax", "am", "\"top_k\":2"), list(x), list(y));
        assertArrayEquals(new int[] {3, 1, 2}, y.shape());
        assertArrayEquals(f.get("indices").toArray(), y.data().toArray());
        run(layer("ArgMax", "am", "\"top_k\":2,\"out_max_val\":true"), list(x), list(y));
        assertArrayEquals(new int[] {3, 2, 2}, y.shape());
        for (int n = 0; n < 3; n++) {
            for (int k = 0; k < 2; k++) {
                assertEquals(f.get("indices").get(n * 2 + k), y.x()[n * 4 + k]);
                assertEquals(f.get("values").get(n * 2 + k), y.x()[n * 4 + 2 + k]);
            }
        }
    }

    @Test
    void alongAnAxisMatchesTorchTopk() {
        var f = load("argmax_axis1");  // indices and values (3, 2, 5)
        Blob x = blob("x", f.get("x"));
        Blob y = new Blob("y");
        run(layer("ArgMax", "am", "\"top_k\":2,\"axis\":1"), list(x), list(y));
        assertData(f.get("indices"), y, 0);
        run(layer("ArgMax", "am", "\"top_k\":2,\"axis\":-2,\"out_max_val\":true"), list(x), list(y));
        assertData(f.get("values"), y, 0);
    }

    @Test
    void tiesGoToTheLargerIndexAsCaffesPartialSort() {
        Blob x = new Blob("x", 1, 4);
        System.arraycopy(new float[] {3, 1, 3, 2}, 0, x.x(), 0, 4);
        Blob y = new Blob("y");
        run(layer("ArgMax", "am", "\"top_k\":3"), list(x), list(y));
        assertArrayEquals(new int[] {1, 1, 3}, y.shape());
        assertArrayEquals(new float[] {2, 0, 3}, y.data().toArray());
    }

    @Test
    void badParametersNameTheLayerAndThereIsNoGradient() {
        var e = assertThrows(ShapeException.class,
                () -> run(layer("ArgMax", "am", "\"top_k\":7"), list(new Blob("x", 2, 3, 2)), list(new Blob("y"))));
        assertEquals("layer 'am' (ArgMax) at am: top_k 7 is larger than the 6 values per item of bottom 'x' of shape"
                + " [2,3,2]", e.getMessage());
        e = assertThrows(ShapeException.class, () -> run(layer("ArgMax", "am", "\"top_k\":4,\"axis\":1"),
                list(new Blob("x", 2, 3, 2)), list(new Blob("y"))));
        assertEquals("layer 'am' (ArgMax) at am: top_k 4 is larger than axis 1 of bottom 'x' of shape [2,3,2] (3)",
                e.getMessage());
        var c = assertThrows(ConfigException.class, () -> layer("ArgMax", "am", "\"top_k\":0"));
        assertEquals("am.top_k: must be > 0, got 0", c.getMessage());
        Layer l = layer("ArgMax", "am", "");
        assertFalse(l.canPropagateDown(0));
        Blob x = new Blob("x", 2, 3);
        Blob y = new Blob("y");
        run(l, list(x), list(y));
        e = assertThrows(ShapeException.class, () -> l.backward(list(y), new boolean[] {true}, list(x)));
        assertEquals("layer 'am' (ArgMax) at am: has no gradient (it cannot propagate down)", e.getMessage());
    }
}
