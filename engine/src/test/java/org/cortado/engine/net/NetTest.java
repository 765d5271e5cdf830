package org.cortado.engine.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.cortado.engine.ConfigException;
import org.cortado.engine.Configs;
import org.cortado.engine.ShapeException;
import org.cortado.engine.WeightsException;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.ops.Parallel;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class NetTest {
    private static final Parallel PAR = new Parallel(2);

    @AfterAll
    static void close() {
        PAR.close();
    }

    private static Net build(CortadoConfig c, Phase phase) {
        return Net.build(c.net(), phase, PAR, c.seed());
    }

    @Test
    void lenetHasCaffesShapesAndParameterCount() {
        Net train = build(Configs.load("lenet-fashion-mnist.json"), Phase.TRAIN);
        assertArrayEquals(new int[] {64, 20, 24, 24}, train.blob("conv1").shape());
        assertArrayEquals(new int[] {64, 20, 12, 12}, train.blob("pool1").shape());
        assertArrayEquals(new int[] {64, 50, 8, 8}, train.blob("conv2").shape());
        assertArrayEquals(new int[] {64, 50, 4, 4}, train.blob("pool2").shape());
        assertArrayEquals(new int[] {64, 500}, train.blob("ip1").shape());
        assertArrayEquals(new int[] {64, 10}, train.blob("ip2").shape());
        // conv1 20*25+20, conv2 50*500+50, ip1 800*500+500, ip2 500*10+10
        assertEquals(520 + 25_050 + 400_500 + 5_010, train.paramCount());
        assertTrue(!train.hasBlob("accuracy"), "accuracy is TEST-only");
        Net test = build(Configs.load("lenet-fashion-mnist.json"), Phase.TEST);
        assertTrue(test.hasBlob("accuracy"));
        // "label" feeds both accuracy and loss in TEST: an implicit split is inserted.
        assertTrue(test.layers().stream().anyMatch(l -> l.type().equals("Split")));
        train.setBatchSize(5);
        assertArrayEquals(new int[] {5, 20, 24, 24}, train.blob("conv1").shape());
    }

    @Test
    void cifar10QuickHasCaffesShapes() {
        Net net = build(Configs.load("cifar10-quick.json"), Phase.TRAIN);
        assertArrayEquals(new int[] {100, 32, 16, 16}, net.blob("pool1").shape());
        assertArrayEquals(new int[] {100, 32, 8, 8}, net.blob("pool2").shape());
        assertArrayEquals(new int[] {100, 64, 4, 4}, net.blob("pool3").shape());
    }

    /** A blob read by two layers: the net's gradient w.r.t. it must be the sum of both paths. */
    @Test
    void fanOutSumsGradientsThroughTheImplicitSplit() {
        CortadoConfig c = Configs.net(
                "{'name':'in','type':'Input','top':['x','label'],'shape':[{'dim':[3,4]},{'dim':[3]}]},"
                        + "{'name':'a','type':'InnerProduct','bottom':'x','top':'a','num_output':5,'weight_filler':{'type':'gaussian'}},"
                        + "{'name':'b','type':'InnerProduct','bottom':'x','top':'b','num_output':5,'weight_filler':{'type':'gaussian'}},"
                        + "{'name':'la','type':'SoftmaxWithLoss','bottom':['a','label'],'top':'la'},"
                        + "{'name':'lb','type':'SoftmaxWithLoss','bottom':['b','label'],'top':'lb','loss_weight':0.5}", "");
        Net net = build(c, Phase.TRAIN);
        Random r = new Random(5);
        Blob x = net.blob("x");
        for (int i = 0; i < x.count(); i++) {
            x.x()[i] = (float) r.nextGaussian();
        }
        float[] labels = {0, 3, 4};
        System.arraycopy(labels, 0, net.blob("label").x(), 0, 3);
        net.forward();
        // The input gets no gradient by itself (nothing asks for it), so check the first layer's weights.
        Blob w = net.params().get(0).blob();
        w.zeroDiff();
        net.backward();
        float[] analytic = w.diff().toArray();
        double h = 1e-3;
        for (int i = 0; i < w.count(); i++) {
            float v = w.x()[i];
            w.x()[i] = (float) (v + h);
            double plus = net.forward();
            w.x()[i] = (float) (v - h);
            double minus = net.forward();
            w.x()[i] = v;
            assertEquals((plus - minus) / (2 * h), analytic[i], 2e-3, "d loss / d a.w[" + i + "]");
        }
        long splits = net.layers().stream().filter(l -> l.type().equals("Split")).count();
        assertEquals(2, splits, "x and label are each read twice");
    }

    @Test
    void sharedParamsAreOneBlob() {
        CortadoConfig c = Configs.net(
                "{'name':'in','type':'Input','top':['x','y'],'shape':[{'dim':[2,4]},{'dim':[2,4]}]},"
                        + "{'name':'a','type':'InnerProduct','bottom':'x','top':'a','num_output':3,'param':[{'name':'w'},{'name':'bias'}]},"
                        + "{'name':'b','type':'InnerProduct','bottom':'y','top':'b','num_output':3,'param':[{'name':'w'},{'name':'bias'}]}", "");
        Net net = build(c, Phase.TRAIN);
        assertEquals(2, net.params().size());
        assertSame(net.layers().get(1).params().get(0), net.layers().get(2).params().get(0));
    }

    @Test
    void inPlaceLayerOnAFannedOutBlobKeepsTheOtherReaderOnTheOriginalValue() {
        // x (from Input) is read by Flatten and by the in-place ReLU: one version, two readers.
        CortadoConfig c = Configs.net(
                "{'name':'in','type':'Input','top':'x','shape':[{'dim':[2,3]}]},"
                        + "{'name':'copy','type':'Flatten','bottom':'x','top':'y'},"
                        + "{'name':'relu','type':'ReLU','bottom':'x','top':'x'}", "");
        Net net = build(c, Phase.TRAIN);
        float[] v = {-1, 2, -3, 4, -5, 6};
        System.arraycopy(v, 0, net.inputs().get(0).x(), 0, 6);
        net.forward();
        assertArrayEquals(v, net.blob("y").data().toArray(), "Flatten sees x as the Input produced it");
        assertArrayEquals(new float[] {0, 2, 0, 4, 0, 6}, net.blob("x").data().toArray(), "x after the ReLU");
    }

    @Test
    void configErrorsNameTheJsonPath() {
        var e = assertThrows(ConfigException.class, () -> build(Configs.net(
                "{'name':'in','type':'Input','top':'x','shape':[{'dim':[2,3]}]},"
                        + "{'name':'c','type':'Convolutoin','bottom':'x','top':'y'}", ""), Phase.TRAIN));
        assertTrue(e.getMessage().startsWith("net.layers[1].type: unknown layer type \"Convolutoin\"; known types: "),
                e.getMessage());
        e = assertThrows(ConfigException.class, () -> build(Configs.net(
                "{'name':'in','type':'Input','top':'x','shape':[{'dim':[2,3]}]},"
                        + "{'name':'r','type':'ReLU','bottom':'pool9','top':'y'}", ""), Phase.TRAIN));
        assertEquals("net.layers[1].bottom: unknown blob \"pool9\" (no earlier layer has it as a top)", e.getMessage());
        e = assertThrows(ConfigException.class, () -> build(Configs.net(
                "{'name':'in','type':'Input','top':'x','shape':[{'dim':[2,3]}]},"
                        + "{'name':'in','type':'ReLU','bottom':'x','top':'y'}", ""), Phase.TRAIN));
        assertEquals("net.layers[1].name: duplicate layer name \"in\"", e.getMessage());
        e = assertThrows(ConfigException.class, () -> build(Configs.net(
                "{'name':'in','type':'Input','top':'x','shape':[{'dim':[2,3]}]},"
                        + "{'name':'s','type':'SoftmaxWithLoss','bottom':'x','top':'y'}", ""), Phase.TRAIN));
        assertEquals("net.layers[1].bottom: layer type SoftmaxWithLoss takes 2 bottoms, got 1", e.getMessage());
        e = assertThrows(ConfigException.class, () -> build(Configs.net(
                "{'name':'in','type':'Input','top':'x','shape':[{'dim':[2,3]}]},"
                        + "{'name':'p','type':'InnerProduct','bottom':'x','top':'x','num_output':2}", ""), Phase.TRAIN));
        assertEquals("net.layers[1].top: layer type InnerProduct cannot work in place (top \"x\" is also a bottom)",
                e.getMessage());
    }

    @Test
    void kernelLargerThanTheInputFailsWhileBuilding() {
        var e = assertThrows(ShapeException.class, () -> build(Configs.net(
                "{'name':'in','type':'Input','top':'x','shape':[{'dim':[1,1,4,4]}]},"
                        + "{'name':'conv1','type':'Convolution','bottom':'x','top':'y','num_output':2,'kernel_size':5}", ""),
                Phase.TRAIN));
        assertEquals("layer 'conv1' (Convolution) at net.layers[1]: kernel 5x5 (dilation 1x1) does not fit the padded input 4x4",
                e.getMessage());
    }

    @Test
    void weightsWithTheWrongParamCountNameFileAndLayer() {
        Net net = build(Configs.load("lenet-fashion-mnist.json"), Phase.TRAIN);
        Map<String, List<Tensor>> w = new java.util.LinkedHashMap<>(net.weights());
        w.put("conv1", List.of(w.get("conv1").get(0)));
        var e = assertThrows(WeightsException.class, () -> net.copyWeights(w, "lenet.caffemodel.h5"));
        assertEquals("lenet.caffemodel.h5: layer 'conv1' has 1 param blobs in the file, the net expects 2", e.getMessage());
        w.put("conv1", List.of(new Tensor(20, 1, 3, 3), new Tensor(20)));
        e = assertThrows(WeightsException.class, () -> net.copyWeights(w, "lenet.caffemodel.h5"));
        assertEquals("lenet.caffemodel.h5: layer 'conv1' param 0 has shape [20,1,3,3] in the file, the net expects [20,1,5,5]",
                e.getMessage());
    }

    /** Weights written by h5py in Caffe's layout (fixtures/make_io_fixtures.py) load into a net by layer name. */
    @Test
    void caffeWeightsWrittenByH5pyLoadByLayerName() {
        CortadoConfig c = Configs.net(
                "{'name':'data','type':'Input','top':'x','shape':[{'dim':[1,1,4,4]}]},"
                        + "{'name':'conv1','type':'Convolution','bottom':'x','top':'conv1','num_output':2,'kernel_size':3},"
                        + "{'name':'relu1','type':'ReLU','bottom':'conv1','top':'conv1'},"
                        + "{'name':'ip1','type':'InnerProduct','bottom':'conv1','top':'ip1','num_output':3}", "");
        Net net = build(c, Phase.TEST);
        java.nio.file.Path file = java.nio.file.Path.of("src", "test", "resources", "fixtures", "lenet.caffemodel.h5");
        var report = net.copyWeights(org.cortado.engine.io.CaffeWeights.read(file), file.toString());
        assertEquals(List.of("conv1", "ip1"), report.copied());
        // Zero input: conv1 = its bias (0.25, -0.75) everywhere, ReLU keeps (0.25 x4, 0 x4), then
        // ip1[r] = sum_j W[r][j] x[j] + b[r] with W = arange(24)/8 as (3, 8) and b = (1, 2, 3).
        net.forward();
        assertArrayEquals(new float[] {1.1875f, 3.1875f, 5.1875f}, net.blob("ip1").data().toArray(), 1e-6f);
    }

    @Test
    void copyWeightsReportsWhatItSkipped() {
        Net a = build(Configs.load("lenet-fashion-mnist.json"), Phase.TRAIN);
        Map<String, List<Tensor>> w = new java.util.LinkedHashMap<>(a.weights());
        w.remove("ip2");
        w.put("fc_extra", List.of(new Tensor(3)));
        for (Tensor t : w.get("conv1")) {
            t.fill(0.25f);
        }
        var report = a.copyWeights(w, "f.h5");
        assertEquals(List.of("conv1", "conv2", "ip1"), report.copied());
        assertEquals(List.of("ip2"), report.notInFile());
        assertEquals(List.of("fc_extra"), report.notInNet());
        assertEquals(0.25f, a.layers().get(1).params().get(0).x()[7]);
    }
}
