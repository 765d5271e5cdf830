package org.cortado.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.cortado.engine.config.Json;
import org.cortado.engine.layers.Crop;
import org.cortado.engine.net.Net;
import org.cortado.engine.net.Phase;
import org.cortado.engine.ops.Parallel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The walk {@code crop_copy} makes ({@link CudaOps.CropPlan}: merged axes, x's strides, the offset base)
 * against the engine's Crop layer, without a GPU: x filled with its own indices, so the layer's output
 * says which element of x each element of y came from.
 */
class CropPlanTest {
    private static final Parallel PAR = new Parallel(1);

    @AfterAll
    static void close() {
        PAR.close();
    }

    private static Net cropNet(int[] xShape, int[] refShape, int axis, int[] offset) {
        return Net.build(Json.parse("{\"name\": \"crop\", \"layers\": ["
                + "{\"name\": \"in\", \"type\": \"Input\", \"top\": [\"x\", \"ref\"], \"shape\": [{\"dim\": "
                + Arrays.toString(xShape) + "}, {\"dim\": " + Arrays.toString(refShape) + "}]},"
                + "{\"name\": \"crop\", \"type\": \"Crop\", \"bottom\": [\"x\", \"ref\"], \"top\": \"y\", \"axis\": " + axis
                + ", \"offset\": " + Arrays.toString(offset) + "}]}", "crop net"), Phase.TEST, PAR, 1);
    }

    @Test
    void theKernelsWalkPicksWhatTheCpuCropPicks() {
        SplittableRandom rng = new SplittableRandom(5);
        for (int trial = 0; trial < 300; trial++) {
            int rank = 1 + rng.nextInt(6);
            int axis = rng.nextInt(rank);
            int[] x = new int[rank];
            int[] ref = new int[rank];
            int[] off = new int[rank - axis];
            for (int d = 0; d < rank; d++) {
                x[d] = 1 + rng.nextInt(5);
                ref[d] = d < axis ? 1 + rng.nextInt(5) : 1 + rng.nextInt(x[d]); // before axis: any size, x's is kept
                if (d >= axis) {
                    off[d - axis] = rng.nextInt(x[d] - ref[d] + 1);
                }
            }
            Net net = cropNet(x, ref, axis, off);
            float[] xs = net.blob("x").x();
            for (int i = 0; i < net.blob("x").count(); i++) {
                xs[i] = i;
            }
            net.forward();
            int[] full = ((Crop) net.layers().get(1)).offsets(); // as CudaNet passes them
            CudaOps.CropPlan plan = CudaOps.CropPlan.of(x, net.blob("y").shape(), full);
            assertEquals(net.blob("y").count(), plan.count());
            float[] y = net.blob("y").x();
            for (int i = 0; i < y.length; i++) {
                assertEquals((long) y[i], plan.at(i), "element " + i + " of x " + Arrays.toString(x) + " cropped to "
                        + Arrays.toString(net.blob("y").shape()) + " at " + Arrays.toString(full));
            }
        }
    }

    @Test
    void axesTheWindowSpansAreMerged() {
        // NCHW cropped on H and W: N and C merge, so three axes remain, behind three of size 1
        CudaOps.CropPlan p = CudaOps.CropPlan.of(new int[] {4, 6, 10, 10}, new int[] {4, 6, 5, 5}, new int[] {0, 0, 2, 3});
        assertEquals("[1, 1, 1, 24, 5, 5]", Arrays.toString(p.dims()));
        assertEquals("[0, 0, 0, 100, 10, 1]", Arrays.toString(p.strides()));
        assertEquals(23, p.base());
    }

    @Test
    void moreThanSixCroppedAxesRunOnTheHostSayingWhy() {
        int[] x = {3, 3, 3, 3, 3, 3, 3};
        int[] ref = {2, 2, 2, 2, 2, 2, 2};
        Net net = cropNet(x, ref, 0, new int[] {1});
        List<String> host = CudaNet.onHost(net, 0, net.layers().size());
        assertEquals(1, host.size(), host.toString());
        String m = host.get(0);
        assertTrue(m.startsWith("'crop' (Crop, ") && m.contains("7 cropped axes") && m.contains("at most 6"), m);
        // the same rank with the leading axes kept merges down and is taken
        assertTrue(CudaNet.onHost(cropNet(x, new int[] {3, 3, 3, 3, 2, 2, 2}, 4, new int[] {1}), 0, 2).isEmpty());
    }
}
