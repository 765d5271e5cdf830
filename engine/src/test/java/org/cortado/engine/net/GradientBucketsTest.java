package org.cortado.engine.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.cortado.engine.config.Json;
import org.cortado.engine.ops.Parallel;
import org.cortado.engine.solver.Param;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class GradientBucketsTest {
    static final Parallel P = new Parallel(1);

    @AfterAll
    static void close() {
        P.close();
    }

    /** ip1 and ip3 share their weights ("w"): the gradient is complete only after ip1's backward. */
    static final String NET = """
        {"layers": [
          {"name": "data", "type": "Input", "top": ["data", "label"], "shape": [{"dim": [3, 1, 6, 6]}, {"dim": [3]}]},
          {"name": "conv1", "type": "Convolution", "bottom": "data", "top": "conv1", "num_output": 2, "kernel_size": 3,
           "weight_filler": {"type": "xavier"}},
          {"name": "relu1", "type": "ReLU", "bottom": "conv1", "top": "conv1"},
          {"name": "ip1", "type": "InnerProduct", "bottom": "conv1", "top": "ip1", "num_output": 5,
           "param": [{"name": "w"}, {}], "weight_filler": {"type": "xavier"}},
          {"name": "ip2", "type": "InnerProduct", "bottom": "ip1", "top": "ip2", "num_output": 32, "weight_filler": {"type": "xavier"}},
          {"name": "relu2", "type": "ReLU", "bottom": "ip2", "top": "ip2"},
          {"name": "ip3", "type": "InnerProduct", "bottom": "ip2", "top": "ip3", "num_output": 5,
           "param": [{"name": "w"}, {}], "weight_filler": {"type": "xavier"}},
          {"name": "ip4", "type": "InnerProduct", "bottom": "ip3", "top": "ip4", "num_output": 3, "weight_filler": {"type": "xavier"}},
          {"name": "loss", "type": "SoftmaxWithLoss", "bottom": ["ip4", "label"], "top": "loss"}
        ]}""";

    static Net net() {
        return net(NET);
    }

    @Test
    void bucketsCoverEveryLayerLastFirstAndEveryParamOnceWhereItsFirstUserIs() {
        Net n = net();
        List<Param> params = n.params();
        for (long size : new long[] {1, 60, 200, 1 << 20}) {
            GradientBuckets g = GradientBuckets.of(n, size);
            int to = n.layers().size();
            List<Integer> seen = new ArrayList<>();
            for (GradientBuckets.Bucket b : g.buckets()) {
                assertEquals(to, b.to(), "contiguous, last layers first (bucket size " + size + ")");
                assertTrue(b.from() < b.to());
                to = b.from();
                seen.addAll(b.params());
                for (int i : b.params()) {
                    String owner = params.get(i).name().split("/")[0];
                    int first = owner.equals("ip1") ? 3 : n.layers().stream().map(l -> l.name()).toList().indexOf(owner);
                    assertTrue(b.from() <= first && first < b.to(), params.get(i).name() + " in [" + b.from() + ", " + b.to() + ")");
                }
                long floats = b.params().stream().mapToLong(i -> params.get(i).blob().count()).sum();
                assertTrue(b.from() == 0 || floats >= size, "a bucket closes once it holds " + size + " values: " + floats);
            }
            assertEquals(0, to, "down to the first layer");
            seen.sort(null);
            assertEquals(java.util.stream.IntStream.range(0, params.size()).boxed().toList(), seen, "every param once");
        }
        // One bucket per layer with params (the first one takes the layers after ip4 too, the last the input
        // layer); the shared weights belong to ip1's bucket, not ip3's.
        assertEquals(List.of(List.of("ip4/0", "ip4/1"), List.of("ip3/1"), List.of("ip2/0", "ip2/1"), List.of("ip1/0", "ip1/1"),
                        List.of("conv1/0", "conv1/1")),
                GradientBuckets.of(n, 1).buckets().stream().map(b -> b.params().stream().map(i -> params.get(i).name()).toList()).toList());
        assertThrows(IllegalArgumentException.class, () -> GradientBuckets.of(n, 0));
    }

    /** A BatchNorm with a Scale the net folds into it: the Scale's gradients come from the BatchNorm's backward. */
    static final String FOLDED = """
        {"layers": [
          {"name": "data", "type": "Input", "top": ["data", "label"], "shape": [{"dim": [3, 1, 6, 6]}, {"dim": [3]}]},
          {"name": "conv1", "type": "Convolution", "bottom": "data", "top": "conv1", "num_output": 4, "kernel_size": 3,
           "weight_filler": {"type": "xavier"}},
          {"name": "bn1", "type": "BatchNorm", "bottom": "conv1", "top": "conv1"},
          {"name": "sc1", "type": "Scale", "bottom": "conv1", "top": "conv1", "bias_term": true},
          {"name": "relu1", "type": "ReLU", "bottom": "conv1", "top": "conv1"},
          {"name": "ip1", "type": "InnerProduct", "bottom": "conv1", "top": "ip1", "num_output": 3, "weight_filler": {"type": "xavier"}},
          {"name": "loss", "type": "SoftmaxWithLoss", "bottom": ["ip1", "label"], "top": "loss"}
        ]}""";

    static Net net(String json) {
        Net n = Net.build(Json.parse(json, "t"), Phase.TRAIN, P, 3);
        Random r = new Random(5);
        float[] x = n.blob("data").x();
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        float[] y = n.blob("label").x();
        for (int i = 0; i < y.length; i++) {
            y[i] = i % 3;
        }
        return n;
    }

    /** What a replica relies on: right after a bucket's backward, its params' gradients are those of one whole backward. */
    @Test
    void eachBucketsGradientsAreFinalRightAfterItsBackward() {
        for (String json : List.of(NET, FOLDED)) {
            Net a = net(json);
            a.forward();
            a.backward(0, a.layers().size(), 0.25);
            for (long size : new long[] {1, 2, 8, 60, 200, 1 << 20}) {
                Net b = net(json);
                b.forward();
                List<Param> ps = b.params();
                for (GradientBuckets.Bucket k : GradientBuckets.of(b, size).buckets()) {
                    b.backward(k.from(), k.to(), 0.25);
                    for (int i : k.params()) {
                        assertArrayEquals(a.params().get(i).blob().dx(), ps.get(i).blob().dx().clone(),
                                ps.get(i).name() + " with buckets of " + size + " (folded: " + b.foldedScales() + ")");
                    }
                }
            }
        }
        assertEquals(java.util.Map.of("sc1", "bn1"), net(FOLDED).foldedScales(), "the net folds the Scale");
    }
}
