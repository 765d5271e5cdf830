package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LossFixtures.assertClose;
import static org.cortado.engine.layers.LossFixtures.assertScalar;
import static org.cortado.engine.layers.LossFixtures.backward;
import static org.cortado.engine.layers.LossFixtures.blob;
import static org.cortado.engine.layers.LossFixtures.forward;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ContrastiveLossTest {

    /**
     * Loss against PyTorch to float precision; gradients to 1e-4, because Caffe's dissimilar gradient
     * divides by d + 1e-4 where autograd divides by d (a relative difference of 1e-4 / d).
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void matchesPyTorch(boolean legacy) {
        var f = LossFixtures.read("contrastive.npz");
        Blob a = blob("a", f.get("a"));
        Blob b = blob("b", f.get("b"));
        Blob y = blob("y", f.get("y"));
        String k = legacy ? "legacy" : "default";
        Layer l = layer("ContrastiveLoss", "loss", legacy ? "\"legacy_version\":true" : "");
        Blob loss = new Blob("loss");
        assertScalar(f.get("loss_" + k), forward(l, list(a, b, y), loss), 1e-6);
        backward(l, list(a, b, y), loss, 1f, true, true, false);
        assertClose(f.get("da_" + k), a.dx(), legacy ? 1e-6 : 1e-4, "da");
        assertClose(f.get("db_" + k), b.dx(), legacy ? 1e-6 : 1e-4, "db");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\"legacy_version\":true", "\"margin\":2.0"})
    void gradientsMatchCentralDifferences(String fields) {
        Blob a = LayerTesting.uniform("a", 21L, -0.5, 0.5, 4, 3);
        Blob b = LayerTesting.uniform("b", 22L, -0.5, 0.5, 4, 3, 1, 1);
        Blob y = LossFixtures.values("y", 1, 0, 0, 1);
        new GradientChecker(1e-3, 1e-2).check(layer("ContrastiveLoss", "loss", fields), list(a, b, y),
                list(new Blob("loss")), 0, 1);
    }

    @Test
    void theLabelGetsNoGradient() {
        assertFalse(layer("ContrastiveLoss", "loss", "").canPropagateDown(2));
        assertTrue(layer("ContrastiveLoss", "loss", "").canPropagateDown(1));
    }

    @Test
    void mismatchedShapesNameTheLayer() {
        var e = assertThrows(ShapeException.class, () -> forward(layer("ContrastiveLoss", "loss", ""),
                list(LayerTesting.random("a", 2, 3), LayerTesting.random("b", 2, 4), LossFixtures.values("y", 1, 0)),
                new Blob("loss")));
        assertTrue(e.getMessage().startsWith("layer 'loss' (ContrastiveLoss) at loss: bottoms 'a' [2,3] and 'b' [2,4]"),
                e.getMessage());
        e = assertThrows(ShapeException.class, () -> forward(layer("ContrastiveLoss", "loss", ""),
                list(LayerTesting.random("a", 2, 3), LayerTesting.random("b", 2, 3), LossFixtures.values("y", 1, 0, 1)),
                new Blob("loss")));
        assertTrue(e.getMessage().contains("similarity label 'y' [3] must hold one value per pair, 2 in all"),
                e.getMessage());
    }
}
