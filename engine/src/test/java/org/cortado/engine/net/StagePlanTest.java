package org.cortado.engine.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.cortado.engine.ConfigException;
import org.cortado.engine.config.Json;
import org.cortado.engine.ops.Parallel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class StagePlanTest {
    static final Parallel P = new Parallel(1);

    @AfterAll
    static void close() {
        P.close();
    }

    static final String NET = """
        {"layers": [
          {"name": "data", "type": "Input", "top": ["data", "label"], "shape": [{"dim": [2, 1, 6, 6]}, {"dim": [2]}]},
          {"name": "conv1", "type": "Convolution", "bottom": "data", "top": "conv1", "num_output": 2, "kernel_size": 3},
          {"name": "bn1", "type": "BatchNorm", "bottom": "conv1", "top": "conv1"},
          {"name": "scale1", "type": "Scale", "bottom": "conv1", "top": "conv1", "bias_term": true},
          {"name": "relu1", "type": "ReLU", "bottom": "conv1", "top": "conv1"},
          {"name": "ip1", "type": "InnerProduct", "bottom": "conv1", "top": "ip1", "num_output": 3},
          {"name": "acc", "type": "Accuracy", "bottom": ["ip1", "label"], "top": "acc", "include": {"phase": "TEST"}},
          {"name": "loss", "type": "SoftmaxWithLoss", "bottom": ["ip1", "label"], "top": "loss"}
        ]}""";
    static final List<String> ORDER = List.of("data", "conv1", "bn1", "scale1", "relu1", "ip1", "acc", "loss");

    static Net net(Phase phase) {
        return Net.build(Json.parse(NET, "t"), phase, P, 1);
    }

    @Test
    void cutsByNameCarryTheLiveBlobsAndTheirGradients() {
        Net n = net(Phase.TRAIN);
        StagePlan plan = StagePlan.at(n, ORDER, List.of("relu1", "loss"), "pipeline.stages");
        assertEquals(3, plan.stages());
        assertEquals(List.of("relu1", "loss"), plan.cutNames());
        int cut = plan.start(1);
        // the in-place blob conv1 crosses, with the labels on their way to the loss
        assertEquals(Set.of("conv1", "label"), plan.live(cut));
        assertEquals(Set.of("conv1"), plan.gradients(cut), "labels carry no gradient");
        assertEquals(Set.of("ip1", "label"), plan.live(plan.start(2)));
        assertEquals(List.of("conv1/0", "conv1/1", "bn1/0", "bn1/1", "bn1/2", "scale1/0", "scale1/1"),
                plan.params(0).stream().map(p -> p.name()).toList());
        assertEquals(List.of("ip1/0", "ip1/1"), plan.params(1).stream().map(p -> p.name()).toList());
        // the same cuts in the TEST net: the Accuracy layer joins the last stage
        StagePlan test = StagePlan.at(net(Phase.TEST), ORDER, List.of("relu1", "acc"), "pipeline.stages");
        assertEquals("acc", test.net().layers().get(test.start(2)).name());
    }

    @Test
    void badCutsAreConfigErrorsNamingTheSetting() {
        Net n = net(Phase.TRAIN);
        var e = assertThrows(ConfigException.class, () -> StagePlan.at(n, ORDER, List.of("nope"), "pipeline.stages"));
        assertTrue(e.getMessage().startsWith("pipeline.stages[0]: no layer named \"nope\""), e.getMessage());
        e = assertThrows(ConfigException.class, () -> StagePlan.at(n, ORDER, List.of("scale1"), "pipeline.stages"));
        assertTrue(e.getMessage().contains("folded into the BatchNorm"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> StagePlan.at(n, ORDER, List.of("ip1", "relu1"), "pipeline.stages"));
        assertTrue(e.getMessage().contains("empty stage"), e.getMessage());
    }

    @Test
    void balancedStagesMinimizeTheSlowestStageAndNeverSplitAFoldedPair() {
        Net n = net(Phase.TRAIN);
        int layers = n.layers().size();
        assertEquals(List.of("data", "conv1", "bn1", "scale1", "relu1", "ip1", "loss"), n.layers().stream().map(l -> l.name()).toList());
        // costs: conv1 heavy, bn1 + scale1 light but scale1 may not start a stage
        long[] cost = {0, 10, 1, 9, 1, 10, 1};
        assertEquals(layers, cost.length);
        StagePlan two = StagePlan.balanced(n, 2, cost);
        // best cut starting a stage at relu1 (10+1+9 | 1+10+1): max 20, vs at scale1 (forbidden) 11 | 21
        assertEquals(List.of("relu1"), two.cutNames());
        StagePlan three = StagePlan.balanced(n, 3, cost);
        assertEquals(3, three.stages());
        long worst = 0;
        for (int s = 0; s < 3; s++) {
            long c = 0;
            for (int l = three.start(s); l < three.end(s); l++) {
                c += cost[l];
            }
            worst = Math.max(worst, c);
        }
        assertEquals(11, worst, "stages " + three.cutNames()); // [data conv1] [bn1 scale1 relu1] [ip1 loss]
        assertEquals(1, StagePlan.balanced(n, 1, cost).stages());
    }
}
