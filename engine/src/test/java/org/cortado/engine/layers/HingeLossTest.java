package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LossFixtures.assertClose;
import static org.cortado.engine.layers.LossFixtures.assertScalar;
import static org.cortado.engine.layers.LossFixtures.backward;
import static org.cortado.engine.layers.LossFixtures.blob;
import static org.cortado.engine.layers.LossFixtures.forward;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HingeLossTest {

    @ParameterizedTest
    @ValueSource(strings = {"L1", "L2"})
    void matchesPyTorch(String norm) {
        var f = LossFixtures.read("hinge.npz");
        Blob x = blob("x", f.get("x"));
        Blob label = blob("label", f.get("label"));
        Layer l = layer("HingeLoss", "loss", norm.equals("L1") ? "" : "\"norm\":\"L2\"");
        Blob loss = new Blob("loss");
        assertScalar(f.get("loss_" + norm), forward(l, list(x, label), loss), 1e-5);
        backward(l, list(x, label), loss, 1f, true, false);
        assertClose(f.get("dx_" + norm), x.dx(), 1e-5, "dx");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\"norm\":\"L2\""})
    void gradientsMatchCentralDifferences(String fields) {
        Blob x = LayerTesting.uniform("x", 7L, -2, 2, 4, 3);
        Blob label = LossFixtures.values("label", 0, 2, 1, 2);
        // Skip the kinks at x = +-1 by keeping every score away from them.
        for (int i = 0; i < x.count(); i++) {
            if (Math.abs(Math.abs(x.x()[i]) - 1) < 0.05) {
                x.x()[i] += 0.2f;
            }
        }
        new GradientChecker(1e-3, 1e-2).check(layer("HingeLoss", "loss", fields), list(x, label),
                list(new Blob("loss")), 0);
    }

    @Test
    void aLabelOutOfRangeNamesTheLayer() {
        var e = assertThrows(ShapeException.class, () -> forward(layer("HingeLoss", "loss", ""),
                list(LayerTesting.random("x", 2, 3), LossFixtures.values("label", 0, 3)), new Blob("loss")));
        assertTrue(e.getMessage().startsWith("layer 'loss' (HingeLoss) at loss: label 3.0 of item 1"), e.getMessage());
    }

    @Test
    void aLabelCountMismatchNamesTheLayer() {
        var e = assertThrows(ShapeException.class, () -> forward(layer("HingeLoss", "loss", ""),
                list(LayerTesting.random("x", 2, 3), LossFixtures.values("label", 0, 1, 2)), new Blob("loss")));
        assertTrue(e.getMessage().startsWith("layer 'loss' (HingeLoss) at loss: label 'label' [3]"), e.getMessage());
    }

    @Test
    void anUnknownNormNamesTheJsonPath() {
        var e = assertThrows(ConfigException.class, () -> layer("HingeLoss", "loss", "\"norm\":\"L3\""));
        assertTrue(e.getMessage().startsWith("loss.norm: expected one of [L1, L2]"), e.getMessage());
    }
}
