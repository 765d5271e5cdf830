package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;

/** Accuracy has no gradient (backward refuses to propagate), so there is no numerical gradient check. */
class AccuracyTest {

    private static Blob blob(String name, int[] shape, float... v) {
        Blob b = new Blob(name, shape);
        System.arraycopy(v, 0, b.x(), 0, v.length);
        return b;
    }

    private static float[] run(Layer l, Blob x, Blob label, Blob... extraTops) {
        Blob acc = new Blob("accuracy");
        List<Blob> top = list(acc);
        top.addAll(List.of(extraTops));
        l.setUp(list(x, label), top);
        l.reshape(list(x, label), top);
        l.forward(list(x, label), top);
        assertEquals(0, acc.rank());
        return new float[] {acc.x()[0]};
    }

    // Four samples, three classes.
    private static final float[] SCORES = {
        0.1f, 0.7f, 0.2f,   // argmax 1, second 2
        0.5f, 0.3f, 0.2f,   // argmax 0, second 1
        0.3f, 0.3f, 0.4f,   // argmax 2; classes 0 and 1 tie for second
        0.2f, 0.2f, 0.2f};  // all tied

    @Test
    void topOneCountsTheArgmax() {
        Blob x = blob("scores", new int[] {4, 3}, SCORES);
        // Sample 0 right, 1 wrong, 2 right, 3: the true class ties with two others, so it is wrong (Caffe).
        Blob label = blob("label", new int[] {4}, 1, 1, 2, 0);
        assertEquals(0.5f, run(layer("Accuracy", "acc", ""), x, label)[0]);
    }

    @Test
    void topKTiesCountAgainstTheTrueClassAsInCaffe() {
        Blob x = blob("scores", new int[] {4, 3}, SCORES);
        // top_k 2: sample 0 (label 2: only class 1 scores >= 0.2 besides it) right; sample 1 (label 2:
        // classes 0 and 1 both score more) wrong; sample 2 (label 0 = 0.3: classes 1 (tie) and 2 score
        // >= 0.3, two others, not fewer than 2) wrong; sample 3 (label 1: two ties) wrong.
        Blob label = blob("label", new int[] {4}, 2, 2, 0, 1);
        assertEquals(0.25f, run(layer("Accuracy", "acc", "\"top_k\":2"), x, label)[0]);
        // top_k 3 = C: everything is right, ties or not.
        assertEquals(1f, run(layer("Accuracy", "acc", "\"top_k\":3"), x, label)[0]);
    }

    @Test
    void ignoredLabelsAreNotCounted() {
        Blob x = blob("scores", new int[] {4, 3}, SCORES);
        Blob label = blob("label", new int[] {4}, 1, -1, 0, -1);
        // Counted: sample 0 (right) and sample 2 (label 0 = 0.3 < 0.4: wrong).
        assertEquals(0.5f, run(layer("Accuracy", "acc", "\"ignore_label\":-1"), x, label)[0]);
        Blob allIgnored = blob("label", new int[] {4}, -1, -1, -1, -1);
        assertEquals(0f, run(layer("Accuracy", "acc", "\"ignore_label\":-1"), x, allIgnored)[0]);
    }

    @Test
    void secondTopIsPerClassAccuracy() {
        Blob x = blob("scores", new int[] {4, 3}, SCORES);
        Blob label = blob("label", new int[] {4}, 1, 1, 2, 0);
        Blob perClass = new Blob("per_class");
        run(layer("Accuracy", "acc", ""), x, label, perClass);
        // Class 0: one sample (3), wrong. Class 1: samples 0 (right) and 1 (wrong). Class 2: sample 2, right.
        assertArrayEquals(new int[] {3}, perClass.shape());
        assertArrayEquals(new float[] {0f, 0.5f, 1f}, perClass.data().toArray());
    }

    @Test
    void spatialScoresUseTheAxis() {
        // (N, C, H, W) = (1, 2, 1, 3): per pixel class scores (c0, c1) = (1, 0), (0, 1), (5, 4).
        Blob x = blob("scores", new int[] {1, 2, 1, 3}, 1, 0, 5, 0, 1, 4);
        Blob label = blob("label", new int[] {1, 1, 3}, 0, 0, 0);
        assertEquals(2 / 3f, run(layer("Accuracy", "acc", ""), x, label)[0], 1e-7f);
        // The same data seen with classes on the last axis: (1, 2, 1, 3) -> 2 positions of 3 classes.
        Blob label2 = blob("label", new int[] {2}, 2, 2);
        assertEquals(1f, run(layer("Accuracy", "acc", "\"axis\":-1"), x, label2)[0]);
    }

    @Test
    void noGradient() {
        Layer l = layer("Accuracy", "acc", "");
        assertFalse(l.canPropagateDown(0));
        Blob x = blob("scores", new int[] {4, 3}, SCORES);
        Blob label = blob("label", new int[] {4}, 1, 1, 2, 0);
        run(l, x, label);
        l.backward(list(new Blob("accuracy")), new boolean[] {false, false}, list(x, label));
        var e = assertThrows(ShapeException.class,
                () -> l.backward(list(new Blob("accuracy")), new boolean[] {true, false}, list(x, label)));
        assertEquals("layer 'acc' (Accuracy) at acc: has no gradient; it cannot backpropagate", e.getMessage());
    }

    @Test
    void badInputsNameTheLayer() {
        Blob x = blob("scores", new int[] {4, 3}, SCORES);
        var e = assertThrows(ShapeException.class,
                () -> run(layer("Accuracy", "acc", "\"top_k\":4"), x, blob("label", new int[] {4})));
        assertEquals("layer 'acc' (Accuracy) at acc: top_k (4) must be <= the number of classes (3) of bottom"
                + " 'scores' [4,3]", e.getMessage());
        e = assertThrows(ShapeException.class,
                () -> run(layer("Accuracy", "acc", ""), x, blob("label", new int[] {4}, 0, 3, 0, 0)));
        assertEquals("layer 'acc' (Accuracy) at acc: label 3.0 at position 1 is not a class index in [0, 3)",
                e.getMessage());
        e = assertThrows(ShapeException.class,
                () -> run(layer("Accuracy", "acc", ""), x, blob("label", new int[] {2})));
        assertEquals("layer 'acc' (Accuracy) at acc: label 'label' of shape [2] has 2 labels; scores 'scores' of"
                + " shape [4,3] with axis 1 need 4", e.getMessage());
        var c = assertThrows(ConfigException.class, () -> layer("Accuracy", "acc", "\"top_k\":0"));
        assertEquals("acc.top_k: must be > 0, got 0", c.getMessage());
    }
}
