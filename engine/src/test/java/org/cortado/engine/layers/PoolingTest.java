package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.forward;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PoolingTest {

    private static Blob blob(String name, int[] shape, float... v) {
        Blob b = new Blob(name, shape);
        System.arraycopy(v, 0, b.x(), 0, v.length);
        return b;
    }


    /**
     * Distinct values spaced 0.05 apart in random order: no two values in a window are within the
     * checker's step (0.01) of each other, so the argmax never flips under a perturbation.
     */
    private static Blob distinct(String name, long seed, int... shape) {
        Blob b = new Blob(name, shape);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < b.count(); i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(seed));
        for (int i = 0; i < b.count(); i++) {
            b.x()[i] = order.get(i) * 0.05f - 1f;
        }
        return b;
    }

    // A 4x4 plane:
    //   1  2  3  4
    //   5  6  7  8
    //   9 10 11 12
    //  13 14 15 16
    private static final float[] PLANE = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

    @Test
    void maxAndAveOnAHandComputedPlane() {
        Blob x = blob("x", new int[] {1, 1, 4, 4}, PLANE);
        Blob mask = new Blob("mask");
        Blob y = forward(layer("Pooling", "pool", "\"kernel_size\":2,\"stride\":2"), x, mask);
        assertArrayEquals(new int[] {1, 1, 2, 2}, y.shape());
        assertArrayEquals(new float[] {6, 8, 14, 16}, y.data().toArray());
        assertArrayEquals(new float[] {5, 7, 13, 15}, mask.data().toArray(), "argmax index y*W + x in the plane");
        y = forward(layer("Pooling", "pool", "\"pool\":\"AVE\",\"kernel_size\":2,\"stride\":2"), x);
        assertArrayEquals(new float[] {3.5f, 5.5f, 11.5f, 13.5f}, y.data().toArray());
        // Kernel 3, stride 1: overlapping windows.
        y = forward(layer("Pooling", "pool", "\"kernel_size\":3"), x);
        assertArrayEquals(new float[] {11, 12, 15, 16}, y.data().toArray());
    }

    @Test
    void ceilRoundingGivesCaffesSizes() {
        // cifar10_quick: 32x32 -> 16x16 with kernel 3 stride 2 (floor rounding would give 15x15).
        Layer pool1 = layer("Pooling", "pool1", "\"pool\":\"MAX\",\"kernel_size\":3,\"stride\":2");
        Blob y = new Blob("pool1");
        Blob x = new Blob("conv1", 2, 32, 32, 32);
        pool1.setUp(list(x), list(y));
        pool1.reshape(list(x), list(y));
        assertArrayEquals(new int[] {2, 32, 16, 16}, y.shape());
        Layer floor = layer("Pooling", "p", "\"kernel_size\":3,\"stride\":2,\"round_mode\":\"FLOOR\"");
        floor.setUp(list(x), list(y));
        floor.reshape(list(x), list(y));
        assertArrayEquals(new int[] {2, 32, 15, 15}, y.shape());
        // The last ceil window hangs over the edge: on 5x5 with kernel 2 stride 2, output 3x3 and the
        // last row/column pools a single image row/column.
        Blob x5 = new Blob("x", 1, 1, 5, 5);
        for (int i = 0; i < 25; i++) {
            x5.x()[i] = i;
        }
        Blob y5 = forward(layer("Pooling", "p", "\"kernel_size\":2,\"stride\":2"), x5);
        assertArrayEquals(new float[] {6, 8, 9, 16, 18, 19, 21, 23, 24}, y5.data().toArray());
    }

    @Test
    void avePaddingDividesByTheWindowClippedToThePaddedInput() {
        // 3x3 ones, kernel 3, stride 2, pad 1: ceil((3 + 2 - 3) / 2) + 1 = 2 outputs per axis; every window
        // lies within the padded 5x5 so the divisor is 9 and padding counts as zeros.
        Blob x = new Blob("x", 1, 1, 3, 3);
        java.util.Arrays.fill(x.x(), 0, 9, 1f);
        Blob y = forward(layer("Pooling", "pool", "\"pool\":\"AVE\",\"kernel_size\":3,\"stride\":2,\"pad\":1"), x);
        assertArrayEquals(new int[] {1, 1, 2, 2}, y.shape());
        assertArrayEquals(new float[] {4 / 9f, 4 / 9f, 4 / 9f, 4 / 9f}, y.data().toArray(), 1e-6f);
        // 4x4 ones, same pooling: windows start at -1, 1, 3 and the last hangs past the padding (ends at 6
        // > 4 + 1), so its divisor is clipped to 2 rows: min(3 + 3, 4 + 1) - 3.
        Blob x4 = new Blob("x", 1, 1, 4, 4);
        java.util.Arrays.fill(x4.x(), 0, 16, 1f);
        Blob y4 = forward(layer("Pooling", "pool", "\"pool\":\"AVE\",\"kernel_size\":3,\"stride\":2,\"pad\":1"), x4);
        assertArrayEquals(new int[] {1, 1, 3, 3}, y4.shape());
        assertEquals(4 / 9f, y4.x()[0], 1e-6f);
        assertEquals(6 / 9f, y4.x()[1], 1e-6f);
        assertEquals(2 / 6f, y4.x()[2], 1e-6f);  // 2 image cells of a 3x2 clipped window
        assertEquals(1f, y4.x()[4], 1e-6f);
        assertEquals(1 / 4f, y4.x()[8], 1e-6f);  // 1 image cell of a 2x2 clipped window
    }

    @Test
    void globalPoolingCoversTheWholePlane() {
        Blob x = blob("x", new int[] {1, 2, 2, 2}, 1, 2, 3, 4, -1, -2, -3, -4);
        Blob y = forward(layer("Pooling", "gap", "\"pool\":\"AVE\",\"global_pooling\":true"), x);
        assertArrayEquals(new int[] {1, 2, 1, 1}, y.shape());
        assertArrayEquals(new float[] {2.5f, -2.5f}, y.data().toArray());
        y = forward(layer("Pooling", "gmp", "\"global_pooling\":true"), x);
        assertArrayEquals(new float[] {4, -1}, y.data().toArray());
    }

    @Test
    void maxBackwardRoutesToTheFirstMax() {
        Blob x = blob("x", new int[] {1, 1, 2, 2}, 3, 7, 7, 1);
        Layer l = layer("Pooling", "pool", "\"kernel_size\":2");
        Blob y = forward(l, x);
        y.dx()[0] = 5f;
        l.backward(list(y), new boolean[] {true}, list(x));
        assertArrayEquals(new float[] {0, 5, 0, 0}, x.diff().toArray());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "\"kernel_size\":2,\"stride\":2", "\"kernel_size\":3,\"stride\":2", "\"kernel_size\":3,\"stride\":2,\"pad\":1",
        "\"kernel_h\":3,\"kernel_w\":2,\"stride_h\":1,\"stride_w\":2,\"pad_h\":1,\"pad_w\":0",
        "\"global_pooling\":true"})
    void maxGradientsMatchCentralDifferences(String fields) {
        Blob x = distinct("x", fields.hashCode(), 2, 2, 5, 5);
        new GradientChecker().checkAll(layer("Pooling", "pool", fields), list(x), list(new Blob("y")));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "\"kernel_size\":2,\"stride\":2", "\"kernel_size\":3,\"stride\":2,\"pad\":1",
        "\"kernel_size\":3,\"stride\":2,\"pad\":2", "\"kernel_h\":2,\"kernel_w\":3,\"pad_h\":0,\"pad_w\":1",
        "\"global_pooling\":true"})
    void aveGradientsMatchCentralDifferences(String fields) {
        Blob x = LayerTesting.random("x", 2, 2, 5, 4);
        new GradientChecker().checkAll(layer("Pooling", "pool", "\"pool\":\"AVE\"," + fields), list(x),
                list(new Blob("y")));
    }

    @Test
    void badFieldsNameTheirJsonPath() {
        var e = assertThrows(ConfigException.class, () -> layer("Pooling", "pool1", "\"kernel_size\":3,\"pad\":3"));
        assertEquals("pool1.pad: must be < the kernel height 3, got 3", e.getMessage());
        e = assertThrows(ConfigException.class,
                () -> layer("Pooling", "pool1", "\"kernel_h\":3,\"kernel_w\":2,\"pad_h\":1,\"pad_w\":2"));
        assertEquals("pool1.pad_w: must be < the kernel width 2, got 2", e.getMessage());
        e = assertThrows(ConfigException.class, () -> layer("Pooling", "pool1", "\"stride\":2"));
        assertEquals("pool1.kernel_size: required", e.getMessage());
        e = assertThrows(ConfigException.class,
                () -> layer("Pooling", "pool1", "\"global_pooling\":true,\"kernel_size\":2"));
        assertEquals("pool1.kernel_size: must not be set with global_pooling: the kernel is the whole input",
                e.getMessage());
        e = assertThrows(ConfigException.class,
                () -> layer("Pooling", "pool1", "\"global_pooling\":true,\"stride\":2"));
        assertEquals("pool1.stride: with global_pooling only stride 1 and pad 0 are allowed", e.getMessage());
        e = assertThrows(ConfigException.class,
                () -> layer("Pooling", "pool1", "\"pool\":\"MEDIAN\",\"kernel_size\":2"));
        assertEquals("pool1.pool: expected one of [MAX, AVE, STOCHASTIC], got \"MEDIAN\"", e.getMessage());
    }

    @Test
    void badShapesNameTheLayer() {
        Layer l = layer("Pooling", "pool2", "\"kernel_size\":5");
        var e = assertThrows(ShapeException.class, () -> forward(l, new Blob("conv", 1, 1, 4, 4)));
        assertEquals("layer 'pool2' (Pooling) at pool2: bottom 'conv' (4x4): kernel 5x5 does not fit the padded"
                + " input 4x4", e.getMessage());
        Layer l2 = layer("Pooling", "pool2", "\"kernel_size\":2");
        e = assertThrows(ShapeException.class, () -> forward(l2, new Blob("fc", 2, 10)));
        assertEquals("layer 'pool2' (Pooling) at pool2: bottom 'fc' must have 4 axes, got shape [2,10]", e.getMessage());
        Layer l3 = layer("Pooling", "pool2", "\"kernel_size\":1,\"stride\":3");
        e = assertThrows(ShapeException.class, () -> forward(l3, new Blob("conv", 1, 1, 5, 5)));
        assertEquals("layer 'pool2' (Pooling) at pool2: bottom 'conv' (5x5): stride 3x3 with kernel 1x1 leaves the last"
                + " window of the 5x5 input outside the image", e.getMessage());
        assertEquals(1, layer("Pooling", "p", "\"pool\":\"AVE\",\"kernel_size\":2").maxTops());
        assertEquals(2, layer("Pooling", "p", "\"kernel_size\":2").maxTops());
    }
}
