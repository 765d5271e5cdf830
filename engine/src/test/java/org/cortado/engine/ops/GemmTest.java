package org.cortado.engine.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Random;
import org.cortado.engine.ShapeException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class GemmTest {
    private static float[] rand(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextGaussian());
        }
        return x;
    }

    @ParameterizedTest
    // Tall and wide C (the parallel GEMM splits rows or column blocks), blocks left over at the edge.
    @CsvSource({"false,false,7,5,3", "true,false,17,9,31", "false,true,64,50,500", "true,true,33,65,17",
            "false,false,1,1,1", "false,false,24,75,60", "true,false,24,75,60", "false,true,24,75,60",
            "true,true,10,200,40"})
    void blasAndParallelMatchTheReference(boolean ta, boolean tb, int m, int n, int k) {
        Random r = new Random(m * 31 + n);
        int off = 3; // offsets and padded leading dimensions are part of the contract
        int lda = (ta ? m : k) + 2;
        int ldb = (tb ? k : n) + 1;
        int ldc = n + 4;
        float[] a = rand(r, off + (ta ? k : m) * lda);
        float[] b = rand(r, off + (tb ? n : k) * ldb);
        float[] c0 = rand(r, off + m * ldc);
        float[] ref = c0.clone();
        float[] fast = c0.clone();
        float[] par = c0.clone();
        Gemm.reference(ta, tb, m, n, k, 0.7f, a, off, lda, b, off, ldb, 0.3f, ref, off, ldc);
        Gemm.gemm(ta, tb, m, n, k, 0.7f, a, off, lda, b, off, ldb, 0.3f, fast, off, ldc);
        try (Parallel p = new Parallel(2)) {
            Gemm.gemm(p, ta, tb, m, n, k, 0.7f, a, off, lda, b, off, ldb, 0.3f, par, off, ldc);
        }
        for (int i = 0; i < ref.length; i++) {
            double tol = 1e-5 * Math.sqrt(k) * 4 + 1e-5 * Math.abs(ref[i]);
            assertEquals(ref[i], fast[i], tol, "blas element " + i);
            assertEquals(ref[i], par[i], tol, "parallel element " + i);
        }
        // Padding between rows of C is never written.
        for (int i = 0; i < m; i++) {
            for (int j = n; j < ldc && off + i * ldc + j < c0.length; j++) {
                assertEquals(c0[off + i * ldc + j], fast[off + i * ldc + j]);
                assertEquals(c0[off + i * ldc + j], par[off + i * ldc + j]);
            }
        }
    }

    @Test
    void betaZeroIgnoresGarbageInC() {
        float[] a = {1, 2, 3, 4};
        float[] b = {1, 0, 0, 1};
        float[] c = new float[4];
        Arrays.fill(c, Float.NaN);
        Gemm.gemm(false, false, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2);
        assertEquals(1f, c[0]);
        assertEquals(4f, c[3]);
    }

    @Test
    void tooSmallArraysAreRejectedBeforeReachingNativeCode() {
        float[] a = new float[5];
        float[] b = new float[6];
        float[] c = new float[6];
        var e = assertThrows(ShapeException.class,
                () -> Gemm.gemm(false, false, 2, 3, 3, 1f, a, 0, 3, b, 0, 3, 0f, c, 0, 3));
        assertEquals("gemm: A needs elements [0, 6) but has 5", e.getMessage());
    }
}
