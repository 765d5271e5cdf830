package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PReLUTest {

    @Test
    void slopesDefaultToAQuarterPerChannelOrOneShared() {
        Layer l = layer("PReLU", "prelu", "");
        LayerTesting.forward(l, random("x", 2, 3, 4));
        assertArrayEquals(new int[] {3}, l.params().get(0).shape());
        assertArrayEquals(new float[] {0.25f, 0.25f, 0.25f}, l.params().get(0).data().toArray());
        Layer s = layer("PReLU", "prelu", "\"channel_shared\":true,\"filler\":{\"type\":\"constant\",\"value\":0.1}");
        Blob y = LayerTesting.forward(s, random("x", 2, 3, 4));
        assertEquals(0, s.params().get(0).rank(), "a shared slope is a scalar, as Caffe's");
        assertEquals(1, s.params().get(0).count());
        assertEquals(0.1f, s.params().get(0).x()[0]);
        Blob x = random("x", 2, 3, 4);
        for (int i = 0; i < x.count(); i++) {
            float v = x.x()[i];
            assertEquals(v > 0 ? v : 0.1f * v, y.x()[i], 1e-7f);
        }
    }

    @Test
    void matchesPyTorchPerChannel() {
        ActivationFixtures.matches("prelu_channel", "PReLU", "");
    }

    @Test
    void matchesPyTorchShared() {
        ActivationFixtures.matches("prelu_shared", "PReLU", "\"channel_shared\":true");
    }

    @Test
    void matchesPyTorchOnTwoAxes() {
        ActivationFixtures.matches("prelu_rank2", "PReLU", "");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\"channel_shared\":true",
        "\"filler\":{\"type\":\"uniform\",\"min\":-1,\"max\":1}"})
    void gradientsMatchCentralDifferencesAwayFromTheKink(String fields) {
        Blob x = random("x", 2, 3, 2, 3);
        new GradientChecker().kink(0, 0.02).checkAll(layer("PReLU", "prelu", fields), list(x), list(new Blob("y")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\"channel_shared\":true",
        "\"filler\":{\"type\":\"uniform\",\"min\":-1,\"max\":1}"})
    void inPlaceGivesTheSameValuesAndGradients(String fields) {
        ActivationFixtures.inPlaceMatches("PReLU", fields, random("x", 2, 3, 4, 5));
    }

    @Test
    void aBottomWithoutChannelsIsRefused() {
        Layer l = layer("PReLU", "prelu", "");
        var e = assertThrows(ShapeException.class, () -> LayerTesting.forward(l, random("x", 5)));
        assertEquals("layer 'prelu' (PReLU) at prelu: bottom 'x' must have at least 2 axes (N, C, ...), got shape [5]",
                e.getMessage());
    }

    @Test
    void aChangeOfChannelCountIsRefused() {
        Layer l = layer("PReLU", "prelu", "");
        Blob y = LayerTesting.forward(l, random("x", 2, 3, 4));
        Blob x2 = random("x2", 2, 4, 4);
        var e = assertThrows(ShapeException.class, () -> l.reshape(list(x2), list(y)));
        assertEquals("layer 'prelu' (PReLU) at prelu: bottom 'x2' of shape [2,4,4] must have 3 channels on axis 1,"
                + " as at setUp", e.getMessage());
    }
}
