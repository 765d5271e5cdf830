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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class InfogainLossTest {
    private static final String SOURCE = LossFixtures.DIR.resolve("infogain_H.npy").toString();

    /** Spatial scores (2, 3, 2, 2), one ignored label, H from a third bottom or from source. */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void matchesPyTorch(boolean hAsBottom) {
        var f = LossFixtures.read("infogain.npz");
        Blob x = blob("x", f.get("x"));
        Blob label = blob("label", f.get("label"));
        var bottom = hAsBottom ? list(x, label, blob("H", f.get("H"))) : list(x, label);
        Layer l = layer("InfogainLoss", "loss",
                "\"ignore_label\":-1" + (hAsBottom ? "" : ",\"source\":\"" + SOURCE + "\""));
        Blob loss = new Blob("loss");
        assertScalar(f.get("loss"), forward(l, bottom, loss), 1e-5);
        backward(l, bottom, loss, 1f, hAsBottom ? new boolean[] {true, false, false} : new boolean[] {true, false});
        assertClose(f.get("dx"), x.dx(), 1e-5, "dx");
    }

    @Test
    void identityHIsSoftmaxWithLoss() {
        Blob x = LayerTesting.random("x", 3, 4);
        Blob label = LossFixtures.values("label", 0, 3, 1);
        Blob h = new Blob("H", 4, 4);
        for (int i = 0; i < 4; i++) {
            h.x()[i * 5] = 1f;
        }
        float info = forward(layer("InfogainLoss", "loss", ""), list(x, label, h), new Blob("loss"));
        float soft = forward(layer("SoftmaxWithLoss", "loss", ""), list(x, label), new Blob("loss"));
        assertEquals(soft, info, 1e-6);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\"normalization\":\"FULL\",\"ignore_label\":2", "\"normalization\":\"BATCH_SIZE\""})
    void gradientsMatchCentralDifferences(String fields) {
        Blob x = LayerTesting.uniform("x", 11L, -2, 2, 2, 3, 2);
        Blob label = new Blob("label", 2, 2);
        System.arraycopy(new float[] {0, 2, 1, 2}, 0, label.x(), 0, 4);
        Blob h = LayerTesting.uniform("H", 12L, 0, 1, 3, 3);
        new GradientChecker(1e-3, 1e-2).check(layer("InfogainLoss", "loss", fields), list(x, label, h),
                list(new Blob("loss")), 0);
    }

    @Test
    void aBinaryprotoSourceIsRejectedWithTheReason() {
        var e = assertThrows(ConfigException.class,
                () -> layer("InfogainLoss", "loss", "\"source\":\"H.binaryproto\""));
        assertTrue(e.getMessage().startsWith("loss.source: layer 'loss' (InfogainLoss)"), e.getMessage());
        assertTrue(e.getMessage().contains("binaryproto is not supported"), e.getMessage());
    }

    @Test
    void aMissingSourceFileIsAConfigError() {
        var e = assertThrows(ConfigException.class, () -> layer("InfogainLoss", "loss", "\"source\":\"no/such/H.npy\""));
        assertTrue(e.getMessage().contains("cannot read the infogain matrix"), e.getMessage());
    }

    @Test
    void noMatrixAtAllNamesTheLayer() {
        var e = assertThrows(ShapeException.class, () -> forward(layer("InfogainLoss", "loss", ""),
                list(LayerTesting.random("x", 2, 3), LossFixtures.values("label", 0, 1)), new Blob("loss")));
        assertTrue(e.getMessage().startsWith("layer 'loss' (InfogainLoss) at loss: needs the infogain matrix"),
                e.getMessage());
    }

    @Test
    void aWrongSizedMatrixNamesTheLayer() {
        var e = assertThrows(ShapeException.class, () -> forward(layer("InfogainLoss", "loss", ""),
                list(LayerTesting.random("x", 2, 3), LossFixtures.values("label", 0, 1), LayerTesting.random("H", 2, 2)),
                new Blob("loss")));
        assertTrue(e.getMessage().contains("must hold 3x3 values, got 4"), e.getMessage());
    }

    @Test
    void normalizeIsRejectedAsInCaffe() {
        var e = assertThrows(ConfigException.class, () -> layer("InfogainLoss", "loss", "\"normalize\":true"));
        assertTrue(e.getMessage().startsWith("loss.normalize: is deprecated"), e.getMessage());
    }
}
