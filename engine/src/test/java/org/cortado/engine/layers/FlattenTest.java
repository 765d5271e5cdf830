package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.forward;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class FlattenTest {


    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
        "'';2,60", "'\"axis\":0';120", "'\"axis\":1,\"end_axis\":2';2,12,5", "'\"axis\":2';2,3,20",
        "'\"axis\":-2,\"end_axis\":-1';2,3,20", "'\"axis\":3';2,3,4,5", "'\"axis\":0,\"end_axis\":1';6,4,5"})
    void shapeFollowsCaffeAndValuesAreUnchanged(String fields, String expected) {
        Blob x = random("x", 2, 3, 4, 5);
        Blob y = forward(layer("Flatten", "flat", fields), x);
        int[] shape = java.util.Arrays.stream(expected.split(",")).mapToInt(Integer::parseInt).toArray();
        assertArrayEquals(shape, y.shape());
        assertArrayEquals(x.data().toArray(), y.data().toArray());
    }

    @Test
    void gradientsMatchCentralDifferences() {
        new GradientChecker().checkAll(layer("Flatten", "flat", ""), list(random("x", 2, 3, 2)), list(new Blob("y")));
    }

    @Test
    void backwardCopiesTheDiff() {
        Blob x = random("x", 2, 3, 2);
        Layer l = layer("Flatten", "flat", "");
        Blob y = forward(l, x);
        Blob dy = random("dy", 2, 6);
        y.diff().copyFrom(dy.data());
        l.backward(list(y), new boolean[] {true}, list(x));
        assertArrayEquals(dy.data().toArray(), x.diff().toArray());
    }

    @Test
    void badAxesNameTheLayer() {
        var e = assertThrows(ShapeException.class,
                () -> forward(layer("Flatten", "flat", "\"axis\":2,\"end_axis\":1"), new Blob("x", 2, 3, 4)));
        assertEquals("layer 'flat' (Flatten) at flat: end_axis 1 (1) comes before axis 2 (2) for bottom 'x' of shape"
                + " [2,3,4]", e.getMessage());
        e = assertThrows(ShapeException.class,
                () -> forward(layer("Flatten", "flat", "\"axis\":3"), new Blob("x", 2, 3, 4)));
        assertEquals("layer 'flat' (Flatten) at flat: axis 3 is out of range for bottom 'x' of shape [2,3,4]",
                e.getMessage());
        Blob x = new Blob("x", 2, 3);
        Layer l = layer("Flatten", "flat", "");
        e = assertThrows(ShapeException.class, () -> l.reshape(list(x), list(x)));
        assertEquals("layer 'flat' (Flatten) at flat: cannot run in place", e.getMessage());
    }
}
