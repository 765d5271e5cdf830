package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SoftmaxWithLossTest {

    private static Blob labels(float... v) {
        Blob b = new Blob("label", v.length);
        System.arraycopy(v, 0, b.x(), 0, v.length);
        return b;
    }

    private static float forward(Layer l, Blob x, Blob label, Blob... extraTops) {
        Blob loss = new Blob("loss");
        List<Blob> top = list(loss);
        top.addAll(List.of(extraTops));
        l.setUp(list(x, label), top);
        l.reshape(list(x, label), top);
        l.forward(list(x, label), top);
        assertEquals(0, loss.rank(), "the loss is a scalar");
        return loss.x()[0];
    }

    /** -log softmax(x[n])[label], straight from the definition. */
    private static double nll(Blob x, int n, int c, int label) {
        double z = 0;
        for (int k = 0; k < c; k++) {
            z += Math.exp(x.x()[n * c + k]);
        }
        return -Math.log(Math.exp(x.x()[n * c + label]) / z);
    }

    @Test
    void lossIsTheMeanNegativeLogLikelihood() {
        Blob x = new Blob("scores", 2, 3);
        System.arraycopy(new float[] {1, 2, 3, 0, 0, 0}, 0, x.x(), 0, 6);
        float loss = forward(layer("SoftmaxWithLoss", "loss", ""), x, labels(2, 0));
        double z = Math.exp(1) + Math.exp(2) + Math.exp(3);
        double expected = (-Math.log(Math.exp(3) / z) - Math.log(1 / 3.0)) / 2;
        assertEquals(expected, loss, 1e-6);
    }

    /**
     * (4, 3) scores, labels {0, 255, 2, 1} with ignore_label 255: 3 valid positions of 4. The loss is the
     * sum over valid positions divided by the normalizer of each mode.
     */
    @ParameterizedTest
    @CsvSource({"VALID,3", "FULL,4", "BATCH_SIZE,4", "NONE,1"})
    void eachNormalizationDividesByItsCount(String mode, int normalizer) {
        Blob x = random("scores", 4, 3);
        Blob label = labels(0, 255, 2, 1);
        Layer l = layer("SoftmaxWithLoss", "loss", "\"ignore_label\":255,\"normalization\":\"" + mode + "\"");
        float loss = forward(l, x, label);
        double sum = nll(x, 0, 3, 0) + nll(x, 2, 3, 2) + nll(x, 3, 3, 1);
        assertEquals(sum / normalizer, loss, 1e-6);
        // Backward: (p - onehot) * lossWeight / normalizer, zero at the ignored position.
        Blob top = new Blob("loss");
        top.reshape();
        l.reshape(list(x, label), list(top));
        l.forward(list(x, label), list(top));
        top.dx()[0] = 2f;
        l.backward(list(top), new boolean[] {true, false}, list(x, label));
        for (int n = 0; n < 4; n++) {
            double z = Math.exp(x.x()[n * 3]) + Math.exp(x.x()[n * 3 + 1]) + Math.exp(x.x()[n * 3 + 2]);
            int lab = (int) label.x()[n];
            for (int c = 0; c < 3; c++) {
                double expected = n == 1 ? 0 : (Math.exp(x.x()[n * 3 + c]) / z - (c == lab ? 1 : 0)) * 2 / normalizer;
                assertEquals(expected, x.dx()[n * 3 + c], 1e-6, "dx[" + n + "," + c + "]");
            }
        }
    }

    @Test
    void allIgnoredGivesZeroLossWithNormalizerOne() {
        Blob x = random("scores", 2, 3);
        float loss = forward(layer("SoftmaxWithLoss", "loss", "\"ignore_label\":-1"), x, labels(-1, -1));
        assertEquals(0f, loss);
    }

    @Test
    void legacyNormalizeMapsToValidOrBatchSize() {
        assertEquals(SoftmaxWithLoss.Normalization.VALID,
                ((SoftmaxWithLoss) layer("SoftmaxWithLoss", "l", "")).normalization());
        assertEquals(SoftmaxWithLoss.Normalization.VALID,
                ((SoftmaxWithLoss) layer("SoftmaxWithLoss", "l", "\"normalize\":true")).normalization());
        assertEquals(SoftmaxWithLoss.Normalization.BATCH_SIZE,
                ((SoftmaxWithLoss) layer("SoftmaxWithLoss", "l", "\"normalize\":false")).normalization());
        // normalization wins over normalize when both are given, as in Caffe.
        assertEquals(SoftmaxWithLoss.Normalization.FULL, ((SoftmaxWithLoss) layer("SoftmaxWithLoss", "l",
                "\"normalize\":false,\"normalization\":\"FULL\"")).normalization());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\"normalization\":\"FULL\",\"ignore_label\":1", "\"normalization\":\"NONE\"",
        "\"normalization\":\"BATCH_SIZE\",\"ignore_label\":0"})
    void gradientsMatchCentralDifferences(String fields) {
        Blob x = LayerTesting.uniform("scores", 5L, -2.0, 2.0, 4, 5);
        Blob label = labels(0, 1, 4, 1);
        new GradientChecker().check(layer("SoftmaxWithLoss", "loss", fields), list(x, label),
                list(new Blob("loss")), 0);
    }

    @Test
    void spatialScoresUseOneLabelPerPixel() {
        // (N, C, H, W) = (2, 3, 2, 2) with labels (2, 2, 2): the softmax runs over C at every pixel.
        Blob x = random("scores", 2, 3, 2, 2);
        Blob label = new Blob("label", 2, 2, 2);
        float[] lv = {0, 1, 2, 0, 2, 2, 1, 0};
        System.arraycopy(lv, 0, label.x(), 0, 8);
        float loss = forward(layer("SoftmaxWithLoss", "loss", ""), x, label);
        double sum = 0;
        for (int n = 0; n < 2; n++) {
            for (int p = 0; p < 4; p++) {
                double z = 0;
                for (int c = 0; c < 3; c++) {
                    z += Math.exp(x.x()[(n * 3 + c) * 4 + p]);
                }
                sum -= Math.log(Math.exp(x.x()[(n * 3 + (int) lv[n * 4 + p]) * 4 + p]) / z);
            }
        }
        assertEquals(sum / 8, loss, 1e-6);
        new GradientChecker().check(layer("SoftmaxWithLoss", "loss", ""), list(x, label), list(new Blob("loss")), 0);
    }

    @Test
    void secondTopHoldsTheProbabilities() {
        Blob x = random("scores", 3, 4);
        Blob prob = new Blob("prob");
        forward(layer("SoftmaxWithLoss", "loss", ""), x, labels(0, 1, 2), prob);
        Blob expected = new Blob("y");
        Layer softmax = layer("Softmax", "s", "");
        softmax.setUp(list(x), list(expected));
        softmax.reshape(list(x), list(expected));
        softmax.forward(list(x), list(expected));
        assertArrayEquals(new int[] {3, 4}, prob.shape());
        assertArrayEquals(expected.data().toArray(), prob.data().toArray(), 1e-7f);
    }

    @Test
    void labelsGetNoGradient() {
        Layer l = layer("SoftmaxWithLoss", "loss", "");
        assertTrue(l.isLoss());
        assertTrue(l.canPropagateDown(0));
        assertFalse(l.canPropagateDown(1));
        Blob x = random("scores", 2, 3);
        Blob label = labels(0, 1);
        Blob top = new Blob("loss");
        forward(l, x, label);
        l.reshape(list(x, label), list(top));
        l.forward(list(x, label), list(top));
        var e = assertThrows(ShapeException.class,
                () -> l.backward(list(top), new boolean[] {true, true}, list(x, label)));
        assertEquals("layer 'loss' (SoftmaxWithLoss) at loss: cannot backpropagate to the labels 'label'", e.getMessage());
    }

    @Test
    void aLabelOutOfRangeNamesTheLayerAndTheValue() {
        Layer l = layer("SoftmaxWithLoss", "loss", "\"ignore_label\":-1");
        var e = assertThrows(ShapeException.class, () -> forward(l, random("scores", 3, 10), labels(1, 10, 2)));
        assertEquals("layer 'loss' (SoftmaxWithLoss) at loss: label 10.0 at position 1 is not a class index in [0, 10)"
                + " nor ignore_label -1", e.getMessage());
        Layer l2 = layer("SoftmaxWithLoss", "loss", "");
        e = assertThrows(ShapeException.class, () -> forward(l2, random("scores", 2, 10), labels(-1, 0)));
        assertEquals("layer 'loss' (SoftmaxWithLoss) at loss: label -1.0 at position 0 is not a class index in [0, 10)",
                e.getMessage());
        Layer l3 = layer("SoftmaxWithLoss", "loss", "");
        e = assertThrows(ShapeException.class, () -> forward(l3, random("scores", 2, 10), labels(1.5f, 0)));
        assertTrue(e.getMessage().contains("label 1.5 at position 0 is not a class index"), e.getMessage());
    }

    @Test
    void aLabelCountMismatchNamesTheLayerAndShapes() {
        Layer l = layer("SoftmaxWithLoss", "loss", "");
        var e = assertThrows(ShapeException.class, () -> forward(l, random("scores", 4, 10), labels(1, 2, 3)));
        assertEquals("layer 'loss' (SoftmaxWithLoss) at loss: label 'label' of shape [3] has 3 labels; scores"
                + " 'scores' of shape [4,10] with softmax axis 1 need 4 (one per position, class indexes 0..9)",
                e.getMessage());
    }

    @Test
    void anUnknownNormalizationNamesTheJsonPath() {
        var e = assertThrows(ConfigException.class, () -> layer("SoftmaxWithLoss", "loss", "\"normalization\":\"MEAN\""));
        assertEquals("loss.normalization: expected one of [FULL, VALID, BATCH_SIZE, NONE], got \"MEAN\"", e.getMessage());
    }
}
