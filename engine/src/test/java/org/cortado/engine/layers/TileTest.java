package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.cortado.engine.layers.UtilityFixtures.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.cortado.engine.ConfigException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;

class TileTest {

    @Test
    void matchesTorchRepeat() {
        var f = load("tile");
        Blob x = blob("x", f.get("x"));
        Blob y = new Blob("y");
        Layer l = layer("Tile", "tile", "\"tiles\":3");
        run(l, list(x), list(y));
        assertData(f.get("y"), y, 0);
        setDiff(y, f.get("dy"));
        l.backward(list(y), new boolean[] {true}, list(x));
        assertDiff(f.get("dx"), x, 1e-6);
    }

    @Test
    void gradientsMatchCentralDifferences() {
        new GradientChecker().checkAll(layer("Tile", "tile", "\"tiles\":2"), list(random("x", 2, 2, 3)),
                list(new Blob("y")));
        new GradientChecker().checkAll(layer("Tile", "tile", "\"tiles\":3,\"axis\":-1"), list(random("x", 2, 2)),
                list(new Blob("y")));
    }

    @Test
    void tilesIsRequiredAndPositive() {
        var e = assertThrows(ConfigException.class, () -> layer("Tile", "tile", ""));
        assertEquals("tile.tiles: required integer is missing", e.getMessage());
        e = assertThrows(ConfigException.class, () -> layer("Tile", "tile", "\"tiles\":0"));
        assertEquals("tile.tiles: must be > 0, got 0", e.getMessage());
        var s = assertThrows(org.cortado.engine.ShapeException.class,
                () -> run(layer("Tile", "tile", "\"tiles\":2,\"axis\":2"), list(new Blob("x", 2, 3)), list(new Blob("y"))));
        assertEquals("layer 'tile' (Tile) at tile: axis 2 is out of range for bottom 'x' of shape [2,3]", s.getMessage());
    }
}
