package org.cortado.engine.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The one-pass copies between NCHW and oneDNN's nChw8c / nChw16c, against the layouts' definition. */
class BlockedLayoutTest {

    @ParameterizedTest(name = "n={0} c={1} h={2} w={3} block={4} threads={5}")
    @CsvSource({"1,8,1,1,8,1", "2,16,3,5,8,2", "3,32,7,7,16,2", "2,48,11,13,16,1", "5,64,4,4,8,2", "4,16,32,32,8,2"})
    void copiesFollowTheBlockedLayoutBothWays(int n, int c, int h, int w, int b, int threads) {
        int hw = h * w;
        float[] nchw = new float[n * c * hw];
        Random r = new Random(c * 31L + hw);
        for (int i = 0; i < nchw.length; i++) {
            nchw[i] = r.nextFloat();
        }
        try (Arena a = Arena.ofShared(); Parallel par = new Parallel(threads)) {
            MemorySegment blocked = a.allocate((long) nchw.length * Float.BYTES, 64);
            BlockedLayout.toBlocked(par, nchw, blocked, n, c, hw, b);
            // oneDNN's aBcd{b}b: dims (N, C/b, H, W, b), row-major.
            for (int in = 0; in < n; in++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int p = 0; p < hw; p++) {
                        long at = (((long) in * (c / b) + ch / b) * hw + p) * b + ch % b;
                        assertEquals(nchw[(in * c + ch) * hw + p], blocked.getAtIndex(ValueLayout.JAVA_FLOAT, at),
                                "image " + in + " channel " + ch + " pixel " + p);
                    }
                }
            }
            float[] back = new float[nchw.length];
            BlockedLayout.fromBlocked(par, blocked, back, n, c, hw, b);
            assertArrayEquals(nchw, back);
        }
    }
}
