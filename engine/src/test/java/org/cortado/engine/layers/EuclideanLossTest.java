package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LossFixtures.assertClose;
import static org.cortado.engine.layers.LossFixtures.assertScalar;
import static org.cortado.engine.layers.LossFixtures.backward;
import static org.cortado.engine.layers.LossFixtures.blob;
import static org.cortado.engine.layers.LossFixtures.forward;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;

class EuclideanLossTest {

    @Test
    void matchesPyTorch() {
        var f = LossFixtures.read("euclidean.npz");
        Blob a = blob("a", f.get("a"));
        Blob b = blob("b", f.get("b"));
        Layer l = layer("EuclideanLoss", "loss", "");
        Blob loss = new Blob("loss");
        assertScalar(f.get("loss"), forward(l, list(a, b), loss), 1e-6);
        backward(l, list(a, b), loss, 1f, true, true);
        assertClose(f.get("da"), a.dx(), 1e-6, "da");
        assertClose(f.get("db"), b.dx(), 1e-6, "db");
    }

    @Test
    void valueFromTheDefinition() {
        Blob a = new Blob("a", 2, 2);
        System.arraycopy(new float[] {1, 2, 3, 4}, 0, a.x(), 0, 4);
        Blob b = new Blob("b", 2, 2);
        float loss = forward(layer("EuclideanLoss", "loss", ""), list(a, b), new Blob("loss"));
        assertEquals((1 + 4 + 9 + 16) / 4.0, loss, 1e-6);
    }

    @Test
    void gradientsMatchCentralDifferencesForBothBottoms() {
        new GradientChecker().checkAll(layer("EuclideanLoss", "loss", ""),
                list(LayerTesting.random("a", 3, 2, 2), LayerTesting.random("b", 3, 4)), list(new Blob("loss")));
    }

    @Test
    void mismatchedShapesNameTheLayer() {
        var e = assertThrows(ShapeException.class, () -> forward(layer("EuclideanLoss", "loss", ""),
                list(LayerTesting.random("a", 3, 4), LayerTesting.random("b", 3, 5)), new Blob("loss")));
        assertTrue(e.getMessage().startsWith("layer 'loss' (EuclideanLoss) at loss: bottoms 'a' [3,4] and 'b' [3,5]"),
                e.getMessage());
        assertThrows(ShapeException.class, () -> forward(layer("EuclideanLoss", "loss", ""),
                list(LayerTesting.random("a", 3, 4), LayerTesting.random("b", 4, 3)), new Blob("loss")));
    }

    @Test
    void normalizationIsNotAFieldOfEuclideanLoss() {
        var e = assertThrows(ConfigException.class,
                () -> layer("EuclideanLoss", "loss", "\"normalization\":\"FULL\""));
        assertTrue(e.getMessage().contains("loss.normalization: unknown field"), e.getMessage());
    }
}
