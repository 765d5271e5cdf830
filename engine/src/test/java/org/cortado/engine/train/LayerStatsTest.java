package org.cortado.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.cortado.engine.solver.Param;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;

class LayerStatsTest {

    @Test
    void histogramBinsFiniteValuesEvenlyAndCountsTheRest() {
        float[] a = {0, 1, 2, 3, Float.NaN, Float.POSITIVE_INFINITY, 99};
        var h = LayerStats.Histogram.of(a, 4, 3); // the first 4 values only
        assertEquals(0, h.min());
        assertEquals(3, h.max());
        assertArrayEquals(new long[] {1, 1, 2}, h.counts(), "the maximum falls in the last bin");
        var all = LayerStats.Histogram.of(a, 6, 3);
        assertEquals(2, all.nonFinite());
        assertEquals(4, java.util.Arrays.stream(all.counts()).sum());
        var flat = LayerStats.Histogram.of(new float[] {5, 5, 5}, 3, 4);
        assertArrayEquals(new long[] {3, 0, 0, 0}, flat.counts(), "a constant blob fills the first bin");
        assertTrue(Double.isNaN(LayerStats.Histogram.of(new float[] {Float.NaN}, 1, 2).min()));
    }

    @Test
    void activationMeanStdAndZeros() {
        var s = LayerStats.activation("relu1", new float[] {0, 0, 2, 4}, 4);
        assertEquals(1.5, s.mean(), 1e-12);
        assertEquals(Math.sqrt((1.5 * 1.5 * 2 + 0.25 + 6.25) / 4), s.std(), 1e-12);
        assertEquals(0.5, s.zeroFraction(), 1e-12);
        assertEquals(4, java.util.Arrays.stream(s.values().counts()).sum());
    }

    @Test
    void updateRatioIsMeanUpdateOverMeanWeight() {
        Blob w = new Blob("ip/0", 2, 3);
        float[] x = w.x();
        float[] before = {1, -2, 3, -4, 5, -6};
        System.arraycopy(before, 0, x, 0, 6);
        float[] g = w.dx();
        for (int i = 0; i < 6; i++) {
            g[i] = 2 * (i + 1); // accumulated over iter_size 2
        }
        Blob b = new Blob("ip/1", 3); // zeros: no ratio
        var probe = new LayerStats.UpdateProbe(List.of(new Param("ip/0", w, 1, 1), new Param("ip/1", b, 1, 1)), 2);
        for (int i = 0; i < 6; i++) {
            x[i] -= 0.01f * (i + 1); // the update
        }
        b.x()[0] = 0.5f;
        var stats = probe.after();
        double normW = Math.sqrt(1 + 4 + 9 + 16 + 25 + 36);
        assertEquals(normW, stats.get(0).weightNorm(), 1e-9);
        assertEquals(Math.sqrt(1 + 4 + 9 + 16 + 25 + 36), stats.get(0).gradNorm(), 1e-9, "the diff divided by iter_size");
        assertEquals(0.01 * 21 / 21, stats.get(0).updateRatio(), 1e-6);
        assertTrue(Double.isNaN(stats.get(1).updateRatio()));
        assertEquals(6, java.util.Arrays.stream(stats.get(0).weights().counts()).sum());
    }

    @Test
    void largeParamsAreSampledNotCopied() {
        int n = 10 * LayerStats.SAMPLE + 7;
        Blob w = new Blob("conv/0", n);
        java.util.Arrays.fill(w.x(), 2f);
        var probe = new LayerStats.UpdateProbe(List.of(new Param("conv/0", w, 1, 1)), 1);
        for (int i = 0; i < n; i++) {
            w.x()[i] = 2.002f; // every value moves by 0.1 %
        }
        assertEquals(1e-3, probe.after().getFirst().updateRatio(), 1e-6);
    }
}
