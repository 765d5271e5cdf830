package org.cortado.engine.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Random;
import org.cortado.engine.ShapeException;
import org.cortado.engine.ops.Pooling.Geom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PoolingOpTest {

    @ParameterizedTest
    @CsvSource({
        // h, w, kh, kw, sh, sw, ph, pw, ceil, planes
        "8,8,2,2,2,2,0,0,true,6", "32,32,3,3,2,2,0,0,true,40", "7,9,3,2,2,3,1,1,true,5",
        "6,6,3,3,3,3,2,2,true,3", "5,5,5,5,1,1,0,0,true,4", "10,7,3,3,2,1,1,0,false,3", "4,4,1,1,1,1,0,0,true,2",
        "13,13,3,3,2,2,0,0,true,64", "24,24,2,2,2,2,0,0,true,20", "7,7,2,2,2,2,0,0,true,9",
        "9,11,3,3,1,1,1,1,true,7", "14,14,3,3,2,2,1,1,true,8", "12,12,3,3,3,3,0,0,false,5"})
    void fastMatchesReference(int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, boolean ceil, int planes) {
        Geom g = new Geom(h, w, kh, kw, sh, sw, ph, pw, ceil);
        Random r = new Random(h * 31 + kh);
        float[] x = new float[planes * g.inSize()];
        for (int i = 0; i < x.length; i++) {
            // zeros make ties, as after a ReLU; -0 ties with +0
            x[i] = i % 5 == 0 ? 0f : i % 11 == 0 ? -0f : r.nextFloat() * 2 - 1;
        }
        int out = planes * g.outSize();
        float[] dy = new float[out];
        for (int i = 0; i < out; i++) {
            dy[i] = r.nextFloat() * 2 - 1;
        }
        float[] yRef = new float[out];
        float[] yFast = new float[out];
        int[] mRef = new int[out];
        int[] mFast = new int[out];
        float[] dxRef = new float[x.length];
        float[] dxFast = new float[x.length];
        Arrays.fill(dxFast, Float.NaN); // backward must overwrite, not accumulate
        try (Parallel p = new Parallel(3)) {
            Pooling.maxForwardReference(g, planes, x, yRef, mRef);
            Pooling.maxForward(p, g, planes, x, yFast, mFast);
            assertArrayEquals(yRef, yFast, "max y");
            assertArrayEquals(mRef, mFast, "max mask");
            Pooling.maxBackwardReference(g, planes, dy, mRef, dxRef);
            Pooling.maxBackward(p, g, planes, dy, mFast, dxFast);
            assertArrayEquals(dxRef, dxFast, 1e-6f, "max dx");

            Pooling.aveForwardReference(g, planes, x, yRef);
            Pooling.aveForward(p, g, planes, x, yFast);
            assertArrayEquals(yRef, yFast, 1e-6f, "ave y");
            Arrays.fill(dxFast, Float.NaN);
            Pooling.aveBackwardReference(g, planes, dy, dxRef);
            Pooling.aveBackward(p, g, planes, dy, dxFast);
            assertArrayEquals(dxRef, dxFast, 1e-6f, "ave dx");
        }
    }

    @Test
    void outputSizeIsCaffes() {
        // cifar10_quick pools: 32 -> 16 -> 8 with kernel 3 stride 2: ceil(29/2) + 1 = 16 (floor would give 15).
        assertEquals(16, new Geom(32, 32, 3, 3, 2, 2, 0, 0, true).outH());
        assertEquals(15, new Geom(32, 32, 3, 3, 2, 2, 0, 0, false).outH());
        assertEquals(8, new Geom(16, 16, 3, 3, 2, 2, 0, 0, true).outH());
        // LeNet: 24 -> 12 with kernel 2 stride 2.
        assertEquals(12, new Geom(24, 24, 2, 2, 2, 2, 0, 0, true).outW());
        // Padding kept: ceil((6 + 2 - 3) / 3) + 1 = 3, and (3-1)*3 = 6 < 6 + 1.
        assertEquals(3, new Geom(6, 6, 3, 3, 3, 3, 1, 1, true).outH());
        // Padding clipped: ceil((3 + 2 - 2) / 2) + 1 = 3, but (3-1)*2 = 4 >= 3 + 1: the last window would
        // start in the padding, so 2.
        assertEquals(2, new Geom(3, 3, 2, 2, 2, 2, 1, 1, true).outH());
        // Padding on one axis applies the rule to both (Caffe tests pad_h || pad_w): unpadded width 5,
        // kernel 1, stride 3 gives ceil(4/3) + 1 = 3, and (3-1)*3 = 6 >= 5 + 0 drops it to 2.
        assertEquals(2, new Geom(3, 5, 2, 1, 2, 3, 1, 0, true).outW());
    }

    @Test
    void averageDividesByTheWindowClippedToThePaddedInput() {
        // 3x3 of ones, kernel 2, stride 2, pad 1: windows start at -1 and 1 in each direction.
        Geom g = new Geom(3, 3, 2, 2, 2, 2, 1, 1, true);
        assertEquals(2, g.outH());
        float[] x = new float[9];
        Arrays.fill(x, 1f);
        float[] y = new float[4];
        Pooling.aveForwardReference(g, 1, x, y);
        // Window (0,0) covers rows -1..0, cols -1..0: one image position, divisor 4 (padding counts).
        // Window (0,1) covers rows -1..0, cols 1..2: two image positions, divisor 4.
        assertArrayEquals(new float[] {0.25f, 0.5f, 0.5f, 1f}, y, 1e-7f);
        // Kernel 3, stride 2, pad 1 on 4x4: windows start at -1, 1, 3 (3 outputs). Per axis, the divisor
        // rows are min(start + 3, 4 + 1) - start = 3, 3, 2 (the last window hangs past the padding), and
        // the image rows 2, 3, 1.
        Geom g2 = new Geom(4, 4, 3, 3, 2, 2, 1, 1, true);
        assertEquals(3, g2.outH());
        float[] x2 = new float[16];
        Arrays.fill(x2, 1f);
        float[] y2 = new float[9];
        float[] expected = new float[9];
        int[] div = {3, 3, 2};
        int[] cnt = {2, 3, 1};
        for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++) {
                expected[a * 3 + b] = (float) (cnt[a] * cnt[b]) / (div[a] * div[b]);
            }
        }
        try (Parallel p = new Parallel(1)) {
            Pooling.aveForward(p, g2, 1, x2, y2);
        }
        assertArrayEquals(expected, y2, 1e-6f);
        assertEquals(0.25f, y2[8], 1e-7f);
    }

    @Test
    void maxTieGoesToTheFirstPosition() {
        Geom g = new Geom(2, 2, 2, 2, 1, 1, 0, 0, true);
        float[] x = {1, 5, 5, 5};
        float[] y = new float[1];
        int[] m = new int[1];
        try (Parallel p = new Parallel(1)) {
            Pooling.maxForward(p, g, 1, x, y, m);
        }
        assertEquals(5f, y[0]);
        assertEquals(1, m[0]);
        Pooling.maxForwardReference(g, 1, x, y, m);
        assertEquals(1, m[0]);
    }

    @Test
    void windowsOutsideTheImageAreRejected() {
        // No padding, stride 3 > kernel 1 on 5: ceil(4 / 3) + 1 = 3 windows, the last starting at 6 > 4.
        assertThrows(ShapeException.class, () -> new Geom(5, 5, 1, 1, 3, 3, 0, 0, true));
        assertEquals(2, new Geom(5, 5, 1, 1, 3, 3, 0, 0, false).outH());
        assertThrows(ShapeException.class, () -> new Geom(2, 2, 3, 3, 1, 1, 0, 0, true));
        assertThrows(ShapeException.class, () -> new Geom(4, 4, 2, 2, 1, 1, 2, 2, true));
    }
}
