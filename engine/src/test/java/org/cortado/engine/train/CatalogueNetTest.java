package org.cortado.engine.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.cortado.engine.Batches;
import org.cortado.engine.Configs;
import org.cortado.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The catalogue's layers working together in one net: a residual block with BatchNorm, a concat, a silenced top. */
class CatalogueNetTest {
    private static final String LAYERS =
            "{'name':'in','type':'Input','top':['data','label'],'shape':[{'dim':[6,1,8,8]},{'dim':[6]}]},"
            + "{'name':'conv1','type':'Convolution','bottom':'data','top':'conv1','num_output':4,'kernel_size':3,'pad':1,"
            + "'weight_filler':{'type':'msra'}},"
            + "{'name':'bn1','type':'BatchNorm','bottom':'conv1','top':'conv1'},"
            + "{'name':'sc1','type':'Scale','bottom':'conv1','top':'conv1','bias_term':true},"
            + "{'name':'relu1','type':'PReLU','bottom':'conv1','top':'conv1'},"
            + "{'name':'conv2','type':'Convolution','bottom':'conv1','top':'conv2','num_output':4,'kernel_size':3,'pad':1,"
            + "'weight_filler':{'type':'msra'}},"
            + "{'name':'res','type':'Eltwise','bottom':['conv1','conv2'],'top':'res'},"
            + "{'name':'up','type':'Deconvolution','bottom':'res','top':'up','num_output':2,'kernel_size':2,'stride':2,"
            + "'weight_filler':{'type':'bilinear'}},"
            + "{'name':'pool','type':'Pooling','bottom':'up','top':'pool','pool':'MAX','kernel_size':2,'stride':2},"
            + "{'name':'cat','type':'Concat','bottom':['res','pool'],'top':'cat'},"
            + "{'name':'parts','type':'Slice','bottom':'cat','top':['keep','spare'],'slice_point':[4]},"
            + "{'name':'mute','type':'Silence','bottom':'spare'},"
            + "{'name':'ip','type':'InnerProduct','bottom':'keep','top':'ip','num_output':3,'weight_filler':{'type':'xavier'}},"
            + "{'name':'loss','type':'SoftmaxWithLoss','bottom':['ip','label'],'top':'loss'}";

    @Test
    void trainsWithAdam() {
        var cfg = Configs.net(LAYERS, "'type':'Adam','base_lr':0.01,'momentum':0.9,'lr_policy':'fixed'");
        try (Trainer t = new Trainer(cfg)) {
            double first = Double.NaN;
            double last = Double.NaN;
            Map<String, Tensor> batch = Batches.learnable(6, 1, 8, 8, 3, 7);
            for (int i = 0; i < 30; i++) {
                last = t.step(batch).loss();
                first = i == 0 ? last : first;
                assertTrue(Double.isFinite(last), "step " + i + ": loss " + last);
            }
            assertTrue(last < first, "the loss falls on a repeated batch: " + first + " -> " + last);
        }
    }
}
