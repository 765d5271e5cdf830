package org.cortado.engine.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.cortado.engine.Configs;
import org.cortado.engine.ConfigException;
import org.cortado.engine.CortadoException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.train.Trainer;
import org.junit.jupiter.api.Test;

/**
 * Bad inputs in a whole net are errors that name the layer: a bad field (negative pad, dropout_ratio
 * outside [0, 1)) gives its JSON path and {@code (layer 'NAME', TYPE)}; a bad shape (a Crop offset past
 * the input, a Concat or Eltwise of mismatched shapes) gives {@code layer 'NAME' (TYPE) at PATH}. The
 * layers' own tests check the same rules one layer at a time.
 */
class BadInputTest {
    private static final String INPUT =
            "{'name':'in','type':'Input','top':['data','label'],'shape':[{'dim':[2,1,8,8]},{'dim':[2]}]},";
    private static final String TAIL =
            ",{'name':'ip','type':'InnerProduct','bottom':'%s','top':'ip','num_output':3},"
            + "{'name':'loss','type':'SoftmaxWithLoss','bottom':['ip','label'],'top':'loss'}";

    /** A second input of another shape: bottoms read by one layer only (no Split renames them). */
    private static final String SMALL_INPUT =
            "{'name':'in','type':'Input','top':['data','label','small'],'shape':[{'dim':[2,1,8,8]},{'dim':[2]},"
            + "{'dim':[2,1,4,4]}]},";

    private static <T extends CortadoException> String error(Class<T> type, String layers, String last) {
        String input = layers.contains("'small'") ? SMALL_INPUT : INPUT;
        var cfg = Configs.net(input + layers + TAIL.formatted(last), "'base_lr':0.1");
        return assertThrows(type, () -> new Trainer(cfg).close()).getMessage();
    }

    @Test
    void negativePadNamesTheLayer() {
        assertEquals("net.layers[1].pad: must be >= 0, got -1 (layer 'conv1', Convolution)",
                error(ConfigException.class, "{'name':'conv1','type':'Convolution','bottom':'data','top':'conv1',"
                        + "'num_output':2,'kernel_size':3,'pad':-1}", "conv1"));
        assertEquals("net.layers[1].pad_w: must be >= 0, got -2 (layer 'pool1', Pooling)",
                error(ConfigException.class, "{'name':'pool1','type':'Pooling','bottom':'data','top':'pool1',"
                        + "'pool':'MAX','kernel_size':3,'pad_h':0,'pad_w':-2}", "pool1"));
        assertEquals("net.layers[1].pad: must be >= 0, got -1 (layer 'up', Deconvolution)",
                error(ConfigException.class, "{'name':'up','type':'Deconvolution','bottom':'data','top':'up',"
                        + "'num_output':2,'kernel_size':2,'stride':2,'pad':-1}", "up"));
    }

    @Test
    void dropoutRatioOfOneNamesTheLayer() {
        assertEquals("net.layers[1].dropout_ratio: must be in [0, 1), got 1.0 (layer 'drop1', Dropout)",
                error(ConfigException.class, "{'name':'drop1','type':'Dropout','bottom':'data','top':'data',"
                        + "'dropout_ratio':1.0}", "data"));
        assertEquals("net.layers[1].dropout_ratio: must be in [0, 1), got 1.5 (layer 'drop1', Dropout)",
                error(ConfigException.class, "{'name':'drop1','type':'Dropout','bottom':'data','top':'data',"
                        + "'dropout_ratio':1.5}", "data"));
    }

    @Test
    void cropOffsetPastTheInputNamesTheLayer() {
        assertEquals("layer 'crop' (Crop) at net.layers[1]: offset 5 on axis 2 crops 4 values (bottom 'small' of shape"
                        + " [2,1,4,4]) past the end of bottom 'data' of shape [2,1,8,8]",
                error(ShapeException.class, "{'name':'crop','type':'Crop','bottom':['data','small'],'top':'crop',"
                        + "'offset':5}", "crop"));
    }

    @Test
    void concatAndEltwiseOfMismatchedShapesNameTheLayer() {
        assertEquals("layer 'cat' (Concat) at net.layers[1]: bottom 'small' of shape [2,1,4,4] does not match bottom"
                        + " 'data' of shape [2,1,8,8] outside axis 1",
                error(ShapeException.class, "{'name':'cat','type':'Concat','bottom':['data','small'],'top':'cat'}",
                        "cat"));
        assertEquals("layer 'sum' (Eltwise) at net.layers[1]: bottom 'small' of shape [2,1,4,4] differs from bottom"
                        + " 'data' of shape [2,1,8,8]",
                error(ShapeException.class, "{'name':'sum','type':'Eltwise','bottom':['data','small'],'top':'sum'}",
                        "sum"));
    }
}
