package org.cortado.engine.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Im2colTest {
    @ParameterizedTest
    @CsvSource({
        "1,5,5,3,3,1,1,0,0,1,1", "3,7,6,3,2,2,1,1,2,1,1", "2,9,9,3,3,1,1,2,2,2,2",
        "4,8,8,1,1,1,1,0,0,1,1", "2,5,7,5,5,3,2,2,3,1,1", "1,4,4,2,2,2,2,0,0,1,1", "2,3,3,3,3,1,1,4,4,1,1"})
    void fastMatchesReference(int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw) {
        ConvGeom g = new ConvGeom(c, h, w, kh, kw, sh, sw, ph, pw, dh, dw);
        Random r = new Random(7);
        float[] x = new float[g.imageSize() + 3];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextFloat() * 2 - 1;
        }
        int n = g.colRows() * g.colCols();
        float[] ref = new float[n + 2];
        float[] fast = new float[n + 2];
        Arrays.fill(ref, Float.NaN); // poison: every element must be written
        Arrays.fill(fast, Float.NaN);
        Im2col.im2colReference(g, x, 3, ref, 2);
        Im2col.im2col(g, x, 3, fast, 2);
        for (int i = 2; i < n + 2; i++) {
            assertEquals(ref[i], fast[i], 0f, "col element " + i);
        }
        float[] back = new float[g.imageSize()];
        float[] backRef = new float[g.imageSize()];
        Arrays.fill(back, Float.NaN);
        Im2col.col2imReference(g, ref, 2, backRef, 0);
        Im2col.col2im(g, ref, 2, back, 0);
        assertArrayEquals(backRef, back, 1e-6f);
    }
}
