package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LossFixtures.assertClose;
import static org.cortado.engine.layers.LossFixtures.assertScalar;
import static org.cortado.engine.layers.LossFixtures.backward;
import static org.cortado.engine.layers.LossFixtures.blob;
import static org.cortado.engine.layers.LossFixtures.forward;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.layers.SoftmaxWithLoss.Normalization;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SigmoidCrossEntropyLossTest {

    /** PyTorch's binary_cross_entropy_with_logits (sum, ignored elements weighted 0) / each normalizer. */
    @ParameterizedTest
    @ValueSource(strings = {"VALID", "BATCH_SIZE", "FULL", "NONE"})
    void matchesPyTorch(String mode) {
        var f = LossFixtures.read("sigmoid_cross_entropy.npz");
        Blob x = blob("x", f.get("x"));
        Blob t = blob("t", f.get("t"));
        Layer l = layer("SigmoidCrossEntropyLoss", "loss", "\"ignore_label\":-1,\"normalization\":\"" + mode + "\"");
        Blob loss = new Blob("loss");
        assertScalar(f.get("loss_" + mode), forward(l, list(x, t), loss), 1e-5);
        backward(l, list(x, t), loss, 1f, true, false);
        assertClose(f.get("dx_" + mode), x.dx(), 1e-5, "dx");
        // loss_weight scales the gradient.
        backward(l, list(x, t), loss, 3f, true, false);
        assertEquals(3 * f.get("dx_" + mode).data()[0], x.dx()[0], 1e-5);
    }

    @Test
    void defaultNormalizationIsCaffesBatchSize() {
        assertEquals(Normalization.BATCH_SIZE,
                ((SigmoidCrossEntropyLoss) layer("SigmoidCrossEntropyLoss", "l", "")).normalization());
        assertEquals(Normalization.VALID,
                ((SigmoidCrossEntropyLoss) layer("SigmoidCrossEntropyLoss", "l", "\"normalize\":true")).normalization());
        assertEquals(Normalization.BATCH_SIZE,
                ((SigmoidCrossEntropyLoss) layer("SigmoidCrossEntropyLoss", "l", "\"normalize\":false")).normalization());
        assertTrue(layer("SigmoidCrossEntropyLoss", "l", "").isLoss());
        assertFalse(layer("SigmoidCrossEntropyLoss", "l", "").canPropagateDown(1));
    }

    @Test
    void isStableForLargeScores() {
        Blob x = LossFixtures.values("x", 1000f, -1000f);
        Blob t = LossFixtures.values("t", 0f, 1f);
        float loss = forward(layer("SigmoidCrossEntropyLoss", "loss", ""), list(x, t), new Blob("loss"));
        assertEquals(1000f, loss, 1e-3);   // (1000 + 1000) / N = 2
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\"normalization\":\"VALID\",\"ignore_label\":1", "\"normalization\":\"FULL\""})
    void gradientsMatchCentralDifferences(String fields) {
        Blob x = LayerTesting.uniform("x", 3L, -3, 3, 3, 2, 2);
        Blob t = LayerTesting.uniform("t", 4L, 0, 1, 3, 4);
        t.x()[5] = 1f;
        new GradientChecker().check(layer("SigmoidCrossEntropyLoss", "loss", fields), list(x, t),
                list(new Blob("loss")), 0);
    }

    @Test
    void aCountMismatchNamesTheLayer() {
        var e = assertThrows(ShapeException.class, () -> forward(layer("SigmoidCrossEntropyLoss", "loss", ""),
                list(LayerTesting.random("x", 2, 3), LayerTesting.random("t", 2, 4)), new Blob("loss")));
        assertTrue(e.getMessage().startsWith("layer 'loss' (SigmoidCrossEntropyLoss) at loss: scores 'x' [2,3]"),
                e.getMessage());
    }

    @Test
    void anUnknownNormalizationNamesTheJsonPath() {
        var e = assertThrows(ConfigException.class,
                () -> layer("SigmoidCrossEntropyLoss", "loss", "\"normalization\":\"MEAN\""));
        assertTrue(e.getMessage().startsWith("loss.normalization: expected one of"), e.getMessage());
    }

    @Test
    void targetsGetNoGradient() {
        Layer l = layer("SigmoidCrossEntropyLoss", "loss", "");
        Blob x = LayerTesting.random("x", 2, 2);
        Blob t = LayerTesting.uniform("t", 1L, 0, 1, 2, 2);
        Blob loss = new Blob("loss");
        forward(l, list(x, t), loss);
        assertThrows(ShapeException.class, () -> backward(l, list(x, t), loss, 1f, true, true));
    }
}
