package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.cortado.engine.layers.NormalizationFixtures.assertClose;
import static org.cortado.engine.layers.NormalizationFixtures.blob;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.config.Json;
import org.cortado.engine.net.Net;
import org.cortado.engine.net.Phase;
import org.cortado.engine.solver.Param;
import org.cortado.engine.solver.Solver;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;

class BatchNormTest {

    @Test
    void trainMatchesPyTorchAndKeepsCaffesRunningSums() {
        var f = NormalizationFixtures.read("batchnorm_train");
        Layer bn = layer("BatchNorm", "bn", "");
        Blob x = blob("x", f.get("x1"));
        Blob y = new Blob("y");
        bn.setUp(list(x), list(y));
        bn.reshape(list(x), list(y));
        bn.forward(list(x), list(y));
        x.data().copyFrom(f.get("x2"));
        bn.forward(list(x), list(y));
        assertClose("y", f.get("y"), y.x(), 1e-5f);
        y.diff().copyFrom(f.get("dy"));
        bn.backward(list(y), new boolean[] {true}, list(x));
        assertClose("dx", f.get("dx"), x.dx(), 1e-4f);
        assertEquals(3, bn.params().size());
        assertArrayEquals(new int[] {3}, bn.params().get(0).shape());
        assertArrayEquals(new int[] {1}, bn.params().get(2).shape());
        assertClose("mean sum", f.get("mean_sum"), bn.params().get(0).x(), 1e-5f);
        assertClose("variance sum", f.get("var_sum"), bn.params().get(1).x(), 1e-5f);
        assertClose("factor", f.get("factor"), bn.params().get(2).x(), 1e-6f);
    }

    @Test
    void globalStatsIsTheTestDefaultAndMatchesPyTorchEval() {
        var f = NormalizationFixtures.read("batchnorm_global");
        Layer bn = layer("BatchNorm", "bn", "", Phase.TEST);
        Blob x = blob("x", f.get("x"));
        Blob y = new Blob("y");
        bn.setUp(list(x), list(y));
        bn.params().get(0).data().copyFrom(f.get("mean_sum"));
        bn.params().get(1).data().copyFrom(f.get("var_sum"));
        bn.params().get(2).data().copyFrom(f.get("factor"));
        bn.reshape(list(x), list(y));
        bn.forward(list(x), list(y));
        assertClose("y", f.get("y"), y.x(), 1e-5f);
        y.diff().copyFrom(f.get("dy"));
        bn.backward(list(y), new boolean[] {true}, list(x));
        assertClose("dx", f.get("dx"), x.dx(), 1e-5f);
        assertClose("statistics untouched", f.get("mean_sum"), bn.params().get(0).x(), 0f);
    }

    @Test
    void gradientsMatchCentralDifferences() {
        new GradientChecker(1e-2, 1e-2).checkAll(layer("BatchNorm", "bn", ""), list(random("x", 3, 2, 2, 3)),
                list(new Blob("y")));
        new GradientChecker(1e-2, 1e-2).checkAll(layer("BatchNorm", "bn", ""), list(random("x2d", 5, 3)),
                list(new Blob("y")));
    }

    @Test
    void inPlaceGivesTheSameGradient() {
        Blob x = random("x", 3, 2, 2, 3);
        Blob xIn = new Blob("x", 3, 2, 2, 3);
        xIn.data().copyFrom(x.data());
        Layer a = layer("BatchNorm", "bn", "");
        Layer b = layer("BatchNorm", "bn", "");
        Blob y = LayerTesting.forward(a, x);
        b.setUp(list(xIn), list(xIn));
        b.reshape(list(xIn), list(xIn));
        b.forward(list(xIn), list(xIn));
        assertArrayEquals(y.data().toArray(), xIn.data().toArray());
        Blob dy = random("dy", 3, 2, 2, 3);
        y.diff().copyFrom(dy.data());
        xIn.diff().copyFrom(dy.data());
        a.backward(list(y), new boolean[] {true}, list(x));
        b.backward(list(xIn), new boolean[] {true}, list(xIn));
        assertArrayEquals(x.diff().toArray(), xIn.diff().toArray(), 1e-6f);
    }

    @Test
    void statisticsGetLrMultZeroAndTheSolverLeavesThemAlone() {
        Layer bn = layer("BatchNorm", "bn", "");
        for (int i = 0; i < 3; i++) {
            assertEquals(0f, bn.config().param(i).lrMult());
        }
        String netJson = """
                {"layers": [
                  {"name": "in", "type": "Input", "top": ["data", "label"], "shape": [{"dim": [4, 3, 2, 2]}, {"dim": [4]}]},
                  {"name": "bn", "type": "BatchNorm", "bottom": "data", "top": "data"},
                  {"name": "fc", "type": "InnerProduct", "bottom": "data", "top": "fc", "num_output": 3,
                   "weight_filler": {"type": "gaussian", "std": 0.1}},
                  {"name": "loss", "type": "SoftmaxWithLoss", "bottom": ["fc", "label"], "top": "loss"}
                ]}""";
        Net net = Net.build(Json.parse(netJson, "net"), Phase.TRAIN, LayerTesting.PAR, 7);
        Blob data = net.blob("data");
        data.data().copyFrom(random("d", 4, 3, 2, 2).data());
        float[] label = net.blob("label").x();
        for (int i = 0; i < 4; i++) {
            label[i] = i % 3;
        }
        net.forward();
        net.backward();
        Layer l = net.layers().stream().filter(x -> x.name().equals("bn")).findFirst().orElseThrow();
        float[][] before = new float[3][];
        for (int i = 0; i < 3; i++) {
            before[i] = l.params().get(i).data().toArray();
        }
        assertEquals(1f, before[2][0], "one forward pass: factor 1");
        for (Param p : net.params()) {
            if (p.name().startsWith("bn/")) {
                assertEquals(0f, p.lrMult(), p.name());
            }
        }
        Solver solver = Solver.create(Json.parse("{\"base_lr\": 0.5, \"momentum\": 0.9, \"weight_decay\": 0.1,"
                + " \"max_iter\": 10}", "solver"));
        solver.step(net.params(), 0);
        solver.step(net.params(), 1);
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(before[i], l.params().get(i).data().toArray(), "blob " + i + " moved by the solver");
        }
        assertEquals(3, net.weights().get("bn").size(), "the three statistics blobs are saved as Caffe's");
    }

    @Test
    void aNonZeroLrMultIsAConfigError() {
        var e = assertThrows(ConfigException.class,
                () -> layer("BatchNorm", "bn", "\"param\": [{\"lr_mult\": 0}, {\"lr_mult\": 1}]"));
        assertTrue(e.getMessage().contains("bn.param[1].lr_mult"), e.getMessage());
        assertThrows(ConfigException.class,
                () -> layer("BatchNorm", "bn", "\"param\": [{\"lr_mult\": 0}, {\"lr_mult\": 0}, {\"lr_mult\": 0}, {}]"));
    }

    @Test
    void badFieldsNameTheirJsonPath() {
        var e = assertThrows(ConfigException.class, () -> layer("BatchNorm", "bn", "\"moving_average_fraction\": 1.5"));
        assertTrue(e.getMessage().contains("bn.moving_average_fraction"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> layer("BatchNorm", "bn", "\"eps\": 0"));
        assertTrue(e.getMessage().contains("bn.eps"), e.getMessage());
    }

    @Test
    void aDifferentChannelCountNamesTheLayer() {
        Layer bn = layer("BatchNorm", "bn1", "");
        Blob x = random("x", 2, 3, 2, 2);
        LayerTesting.forward(bn, x);
        Blob x4 = random("x4", 2, 4, 2, 2);
        var e = assertThrows(ShapeException.class, () -> bn.reshape(list(x4), list(new Blob("y"))));
        assertTrue(e.getMessage().startsWith("layer 'bn1' (BatchNorm)"), e.getMessage());
        assertTrue(e.getMessage().contains("4 channels"), e.getMessage());
    }
}
