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

import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;

class MultinomialLogisticLossTest {

    @Test
    void matchesPyTorch() {
        var f = LossFixtures.read("multinomial_logistic.npz");
        Blob p = blob("p", f.get("p"));
        Blob label = blob("label", f.get("label"));
        Layer l = layer("MultinomialLogisticLoss", "loss", "");
        Blob loss = new Blob("loss");
        assertScalar(f.get("loss"), forward(l, list(p, label), loss), 1e-5);
        backward(l, list(p, label), loss, 1f, true, false);
        assertClose(f.get("dp"), p.dx(), 1e-5, "dp");
    }

    @Test
    void zeroProbabilityIsClampedAt1e20() {
        Blob p = new Blob("p", 1, 2);
        p.x()[1] = 1f;
        float loss = forward(layer("MultinomialLogisticLoss", "loss", ""), list(p, LossFixtures.values("label", 0)),
                new Blob("loss"));
        assertEquals(-Math.log(1e-20), loss, 1e-3);
    }

    @Test
    void gradientsMatchCentralDifferences() {
        Blob p = LayerTesting.uniform("p", 9L, 0.2, 0.9, 3, 4);
        new GradientChecker(1e-3, 1e-2).check(layer("MultinomialLogisticLoss", "loss", ""),
                list(p, LossFixtures.values("label", 1, 3, 0)), list(new Blob("loss")), 0);
    }

    @Test
    void badLabelsNameTheLayer() {
        var e = assertThrows(ShapeException.class, () -> forward(layer("MultinomialLogisticLoss", "loss", ""),
                list(LayerTesting.random("p", 2, 3), LossFixtures.values("label", 0, -1)), new Blob("loss")));
        assertTrue(e.getMessage().startsWith("layer 'loss' (MultinomialLogisticLoss) at loss: label -1.0 of item 1"),
                e.getMessage());
        e = assertThrows(ShapeException.class, () -> forward(layer("MultinomialLogisticLoss", "loss", ""),
                list(LayerTesting.random("p", 2, 3), LossFixtures.values("label", 0)), new Blob("loss")));
        assertTrue(e.getMessage().contains("must hold one class index per item"), e.getMessage());
    }
}
