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

class EmbedTest {

    private static Blob indices(float... v) {
        Blob x = new Blob("x", 2, v.length / 2);
        System.arraycopy(v, 0, x.x(), 0, v.length);
        return x;
    }

    @Test
    void matchesTorchEmbeddingPlusBias() {
        var f = load("embed");
        Blob x = blob("x", f.get("x"));
        Blob y = new Blob("y");
        Layer l = layer("Embed", "emb", "\"num_output\":3,\"input_dim\":5");
        l.setUp(list(x), list(y));
        l.params().get(0).data().copyFrom(f.get("w"));
        l.params().get(1).data().copyFrom(f.get("b"));
        l.reshape(list(x), list(y));
        l.forward(list(x), list(y));
        assertData(f.get("y"), y, 1e-6);
        setDiff(y, f.get("dy"));
        l.params().get(0).zeroDiff();
        l.params().get(1).zeroDiff();
        l.backward(list(y), new boolean[] {false}, list(x));
        assertDiff(f.get("dw"), l.params().get(0), 1e-6);
        assertDiff(f.get("db"), l.params().get(1), 1e-6);
    }

    @Test
    void gradientsMatchCentralDifferences() {
        Layer l = layer("Embed", "emb", "\"num_output\":3,\"input_dim\":4,"
                + "\"weight_filler\":{\"type\":\"gaussian\"},\"bias_filler\":{\"type\":\"uniform\"}");
        new GradientChecker().check(l, list(indices(0, 3, 3, 1, 2, 0)), list(new Blob("y")));
        Layer noBias = layer("Embed", "emb", "\"num_output\":2,\"input_dim\":3,\"bias_term\":false");
        new GradientChecker().check(noBias, list(indices(2, 2, 0, 1)), list(new Blob("y")));
        assertEquals(1, noBias.params().size());
        assertArrayEquals(new int[] {3, 2}, noBias.params().get(0).shape());
        assertFalse(noBias.canPropagateDown(0));
    }

    @Test
    void anIndexOutOfRangeOrNotIntegerNamesTheLayer() {
        Layer l = layer("Embed", "emb", "\"num_output\":3,\"input_dim\":4");
        var e = assertThrows(ShapeException.class, () -> run(l, list(indices(0, 4)), list(new Blob("y"))));
        assertEquals("layer 'emb' (Embed) at emb: index 4.0 at position 1 of bottom 'x' of shape [2,1] is not an integer"
                + " in [0, 4)", e.getMessage());
        Layer l2 = layer("Embed", "emb", "\"num_output\":3,\"input_dim\":4");
        e = assertThrows(ShapeException.class, () -> run(l2, list(indices(-1, 0)), list(new Blob("y"))));
        assertEquals("layer 'emb' (Embed) at emb: index -1.0 at position 0 of bottom 'x' of shape [2,1] is not an integer"
                + " in [0, 4)", e.getMessage());
        Layer l3 = layer("Embed", "emb", "\"num_output\":3,\"input_dim\":4");
        e = assertThrows(ShapeException.class, () -> run(l3, list(indices(1.5f, 0)), list(new Blob("y"))));
        assertEquals("layer 'emb' (Embed) at emb: index 1.5 at position 0 of bottom 'x' of shape [2,1] is not an integer"
                + " in [0, 4)", e.getMessage());
        var c = assertThrows(ConfigException.class, () -> layer("Embed", "emb", "\"num_output\":3"));
        assertEquals("emb.input_dim: required integer is missing", c.getMessage());
        c = assertThrows(ConfigException.class, () -> layer("Embed", "emb", "\"num_output\":0,\"input_dim\":2"));
        assertEquals("emb.num_output: must be > 0, got 0", c.getMessage());
    }
}
