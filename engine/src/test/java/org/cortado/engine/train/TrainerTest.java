package org.cortado.engine.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.cortado.engine.Batches;
import org.cortado.engine.Configs;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.solver.Param;
import org.cortado.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

class TrainerTest {
    @Test
    void lenetLearnsAndTheTestNetSeesTheSameWeights() {
        CortadoConfig cfg = Configs.load("lenet-fashion-mnist.json");
        try (Trainer t = new Trainer(cfg)) {
            var batch = Batches.learnable(16, 1, 28, 28, 10, 1);
            double first = t.step(batch).loss();
            double last = first;
            for (int i = 0; i < 30; i++) {
                last = t.step(batch).loss();
            }
            assertTrue(first > 2.0 && last < 0.5 * first, "loss went from " + first + " to " + last);
            var scores = t.test(List.of(batch));
            assertEquals(List.of("accuracy", "loss"), List.copyOf(scores.keySet()));
            assertTrue(scores.get("accuracy") > 0.8, "accuracy on the training batch: " + scores);
            assertEquals(31, t.iter());
        }
    }

    @Test
    void cifar10QuickTrainsAStep() {
        try (Trainer t = new Trainer(Configs.load("cifar10-quick.json"))) {
            var batch = Batches.learnable(4, 3, 32, 32, 10, 2);
            double loss = t.step(batch).loss();
            assertEquals(Math.log(10), loss, 0.05, "tiny initial weights give a uniform softmax");
            assertTrue(Double.isFinite(t.step(batch).loss()));
        }
    }

    /** iter_size 2 over two halves must equal one step over the whole batch (mean-normalized loss). */
    @Test
    void iterSizeAccumulatesLikeOneBigBatch() {
        String layers = "{'name':'in','type':'Input','top':['data','label'],'shape':[{'dim':[8,1,6,6]},{'dim':[8]}]},"
                + "{'name':'conv','type':'Convolution','bottom':'data','top':'conv','num_output':3,'kernel_size':3,"
                + "'weight_filler':{'type':'xavier'}},"
                + "{'name':'ip','type':'InnerProduct','bottom':'conv','top':'ip','num_output':4,'weight_filler':{'type':'xavier'}},"
                + "{'name':'loss','type':'SoftmaxWithLoss','bottom':['ip','label'],'top':'loss'}";
        String solver = "'base_lr':0.1,'momentum':0.9,'weight_decay':0.01";
        var whole = Batches.learnable(8, 1, 6, 6, 4, 9);
        var firstHalf = slice(whole, 0, 4);
        var secondHalf = slice(whole, 4, 8);
        try (Trainer big = new Trainer(Configs.net(layers, solver));
             Trainer acc = new Trainer(Configs.net(layers, solver + ",'iter_size':2"))) {
            for (int s = 0; s < 3; s++) {
                big.step(whole);
                acc.step(List.of(firstHalf, secondHalf));
            }
            List<Param> a = big.trainNet().params();
            List<Param> b = acc.trainNet().params();
            for (int p = 0; p < a.size(); p++) {
                for (int i = 0; i < a.get(p).blob().count(); i++) {
                    assertEquals(a.get(p).blob().x()[i], b.get(p).blob().x()[i], 1e-5, a.get(p).name() + "[" + i + "]");
                }
            }
        }
    }

    private static Map<String, Tensor> slice(Map<String, Tensor> batch, int from, int to) {
        Tensor x = batch.get("data");
        Tensor y = batch.get("label");
        int per = x.count(1);
        Tensor xs = new Tensor(java.util.Arrays.copyOfRange(x.data(), from * per, to * per), to - from, x.dim(1), x.dim(2), x.dim(3));
        Tensor ys = new Tensor(java.util.Arrays.copyOfRange(y.data(), from, to), to - from);
        return Map.of("data", xs, "label", ys);
    }

    @Test
    void sameSeedSameWeights() {
        CortadoConfig cfg = Configs.load("lenet-fashion-mnist.json");
        var batch = Batches.learnable(8, 1, 28, 28, 10, 4);
        try (Trainer a = new Trainer(cfg); Trainer b = new Trainer(cfg)) {
            for (int i = 0; i < 3; i++) {
                a.step(batch);
                b.step(batch);
            }
            var wa = a.trainNet().weights();
            var wb = b.trainNet().weights();
            for (String layer : wa.keySet()) {
                for (int i = 0; i < wa.get(layer).size(); i++) {
                    org.junit.jupiter.api.Assertions.assertArrayEquals(wa.get(layer).get(i).toArray(),
                            wb.get(layer).get(i).toArray(), layer);
                }
            }
        }
    }
}
