package org.cortado.engine.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.cortado.engine.Configs;
import org.cortado.engine.augment.Augmentation;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.config.Json;
import org.cortado.engine.data.SourceConfig;
import org.cortado.engine.layers.Layer;
import org.cortado.engine.solver.Param;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.train.Benchmark;
import org.cortado.engine.train.Trainer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * The classic nets in {@code conf/}: each builds at its full input size, has the reference parameter
 * count and convolution + inner-product FLOPs, and trains one step (forward, backward, SGD update) at
 * batch 1.
 *
 * <p>Batch 1: the test rewrites the batch dimension of the config's {@code Input} shapes to 1 before
 * building (everything else, the 224x224 or 28x28 image size included, is the file as committed), so
 * that VGG-16 (a 138M-parameter net, ~31 GFLOPs per image) fits the test heap and time.
 *
 * <p>Reference numbers: the same architectures written independently with {@code torch.nn} (Debian's
 * PyTorch 1.13; Conv2d/Linear/BatchNorm2d, {@code groups} for the grouped and depthwise convolutions),
 * with params = {@code sum(p.numel() for p in model.parameters())} (BatchNorm's running statistics are
 * buffers, not parameters; here {@link Net#paramCount()} leaves them out the same way) and conv+fc FLOPs
 * from forward hooks on every Conv2d and Linear: {@code 2 * out.numel() * in_channels/groups * kh * kw}
 * (Linear: {@code 2 * out.numel() * in_features}) plus {@code out.numel()} where there is a bias, for a
 * single image. They agree with the published counts: AlexNet (BVLC's two-group version) 60,965,224;
 * VGG-16 138,357,544 and 15.47 GMACs; torchvision's resnet18 11,689,512 and 1.81 GMACs; MobileNet v1
 * 4,231,976 (Howard et al.: 4.2M) and 569M multiply-adds.
 */
class ClassicNetsTest {
    private static final int SAMPLE = 4096;

    /** A conf file and its torch.nn reference numbers. */
    record Ref(String file, long params, long convFcFlops, int classes) {
        @Override
        public String toString() {
            return file;
        }
    }

    static List<Ref> nets() {
        return List.of(
                new Ref("alexnet.json", 60_965_224L, 1_449_472_904L, 1000),
                new Ref("vgg16.json", 138_357_544L, 30_954_085_352L, 1000),
                new Ref("resnet18.json", 11_689_512L, 3_628_147_688L, 1000),
                new Ref("mobilenet-v1.json", 4_231_976L, 1_137_481_704L, 1000),
                new Ref("inception.json", 232_442L, 63_008_546L, 10),
                new Ref("resnet-small.json", 272_186L, 62_043_914L, 10),
                new Ref("se-resnet-small.json", 280_670L, 62_060_462L, 10),
                new Ref("fashion-mnist-bn.json", 620_010L, 15_956_234L, 10));
    }

    /** The config file with every Input's batch dimension set to {@code batch}. */
    static CortadoConfig withBatch(String file, int batch) throws IOException {
        ObjectMapper m = new ObjectMapper();
        JsonNode root = m.readTree(Files.readString(Configs.conf(file)));
        for (JsonNode layer : root.get("net").get("layers")) {
            if (layer.get("type").asText().equals("Input")) {
                for (JsonNode shape : layer.get("shape")) {
                    ((ArrayNode) shape.get("dim")).set(0, batch);
                }
            }
        }
        return CortadoConfig.from(Json.parse(m.writeValueAsString(root), file), file, file);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("nets")
    void buildsHasTheReferenceParamsAndFlopsAndTrainsAStep(Ref ref) throws IOException {
        // The file as committed loads (and names its Input batch).
        CortadoConfig full = Configs.load(ref.file());
        assertTrue(full.net().objects("layers").get(0).node().get("shape").get(0).get("dim").get(0).asInt() > 1);

        try (Trainer t = new Trainer(withBatch(ref.file(), 1))) {
            Net net = t.trainNet();
            assertEquals(1, net.batchSize());
            assertEquals(ref.params(), net.paramCount(), "params of " + ref.file());

            long convFc = 0;
            long total = 0;
            for (int l = 0; l < net.layers().size(); l++) {
                String type = net.layers().get(l).type();
                if (type.equals("Convolution") || type.equals("InnerProduct")) {
                    convFc += net.flops(l);
                }
                total += net.flops(l);
            }
            assertEquals(ref.convFcFlops(), convFc, "conv + fc FLOPs per image of " + ref.file());
            assertEquals(total, net.flopsPerImage());
            // Pooling and the element-wise layers add a little on top (0.06% for VGG-16 to 2.2% for MobileNet,
            // whose BatchNorm, Scale and ReLU run on every map).
            assertTrue(total > convFc && total < convFc * 1.03, "total " + total + " vs conv+fc " + convFc);

            // The classifier: (1, classes) scores into SoftmaxWithLoss.
            Layer loss = net.layers().getLast();
            assertEquals("SoftmaxWithLoss", loss.type());
            assertArrayEquals(new int[] {1, ref.classes()}, net.bottomsOf(net.layers().size() - 1).get(0).shape());

            // One training step on synthetic data: a finite loss, and every learned blob moves (checked on
            // its first values, so VGG-16's weights are not copied whole).
            List<float[]> before = new ArrayList<>();
            for (Param p : net.params()) {
                before.add(java.util.Arrays.copyOf(p.blob().x(), Math.min(p.blob().count(), SAMPLE)));
            }
            double lossValue = t.step(Benchmark.synthetic(net, 7)).loss();
            assertTrue(Double.isFinite(lossValue) && lossValue > 0, "loss " + lossValue);
            for (int i = 0; i < net.params().size(); i++) {
                Param p = net.params().get(i);
                if (p.lrMult() != 0) {
                    Blob b = p.blob();
                    int n = Math.min(b.count(), SAMPLE);
                    assertFalse(java.util.Arrays.equals(before.get(i), 0, n, b.x(), 0, n),
                            p.name() + " did not change in a training step");
                }
            }
        }
    }

    /** The 28x28 nets read Fashion-MNIST: 1x28x28 inputs, and data and augment sections that parse. */
    @Test
    void fashionMnistNetsHaveDataSections() {
        for (String file : List.of("inception.json", "resnet-small.json", "se-resnet-small.json", "fashion-mnist-bn.json")) {
            CortadoConfig cfg = Configs.load(file);
            JsonNode in = cfg.net().objects("layers").get(0).node();
            assertEquals("[64,1,28,28]", in.get("shape").get(0).get("dim").toString(), file);
            assertEquals(2, SourceConfig.parseAll(cfg.root().object("data")).size(), file);
            Augmentation.fromConfig(cfg.root(), null);
        }
    }

    /**
     * FLOPs counted by hand, per image (a multiply-add is 2; bias adds 1 per output; pooling 1 per window
     * element per output; ReLU 1 per element; loss 0).
     *
     * <pre>
     * LeNet (1x28x28):
     *   conv1  20x24x24 outputs x (2*1*5*5 + 1)    =   587,520
     *   pool1  20x12x12 x 2*2                      =    11,520
     *   conv2  50x8x8 x (2*20*5*5 + 1)             = 3,203,200
     *   pool2  50x4x4 x 2*2                        =     3,200
     *   ip1    500 x (2*800 + 1)                   =   800,500
     *   relu1  500                                 =       500
     *   ip2    10 x (2*500 + 1)                    =    10,010
     *                                        total = 4,616,450
     * cifar10_quick (3x32x32):
     *   conv1  32x32x32 x (2*3*25 + 1)             = 4,947,968
     *   pool1  32x16x16 x 9 (MAX 3/2, ceil)        =    73,728
     *   relu1  32x16x16                            =     8,192
     *   conv2  32x16x16 x (2*32*25 + 1)            = 13,115,392
     *   relu2  32x16x16                            =     8,192
     *   pool2  32x8x8 x 9                          =    18,432
     *   conv3  64x8x8 x (2*32*25 + 1)              = 6,557,696
     *   relu3  64x8x8                              =     4,096
     *   pool3  64x4x4 x 9                          =     9,216
     *   ip1    64 x (2*1024 + 1)                   =   131,136
     *   ip2    10 x (2*64 + 1)                     =     1,290
     *                                        total = 24,875,338
     * </pre>
     */
    @Test
    void flopsOfLeNetAndCifar10QuickMatchTheHandCount() {
        try (Trainer t = new Trainer(Configs.load("lenet-fashion-mnist.json"))) {
            Net net = t.trainNet();
            assertEquals(4_616_450L, net.flopsPerImage());
            assertEquals(3_203_200L * net.batchSize(), net.flops(3), net.layers().get(3).name());
            net.setBatchSize(3);
            assertEquals(4_616_450L, net.flopsPerImage(), "per image at any batch size");
        }
        try (Trainer t = new Trainer(Configs.load("cifar10-quick.json"))) {
            assertEquals(24_875_338L, t.trainNet().flopsPerImage());
        }
    }

    /** BatchNorm's three statistics blobs are saved with the weights but are not parameters. */
    @Test
    void batchNormStatisticsAreNotCountedAsParameters() {
        var cfg = Configs.net("{'name':'in','type':'Input','top':['data','label'],'shape':[{'dim':[2,3,4,4]},{'dim':[2]}]},"
                + "{'name':'conv','type':'Convolution','bottom':'data','top':'conv','num_output':5,'kernel_size':3,"
                + "'bias_term':false},"
                + "{'name':'bn','type':'BatchNorm','bottom':'conv','top':'conv'},"
                + "{'name':'sc','type':'Scale','bottom':'conv','top':'conv','bias_term':true},"
                + "{'name':'ip','type':'InnerProduct','bottom':'conv','top':'ip','num_output':2},"
                + "{'name':'loss','type':'SoftmaxWithLoss','bottom':['ip','label'],'top':'loss'}", "'base_lr':0.1");
        try (Trainer t = new Trainer(cfg)) {
            Net net = t.trainNet();
            // conv 5*3*3*3, scale 5 + 5, ip 2*20 + 2; BatchNorm's 5 + 5 + 1 statistics left out
            assertEquals(135 + 10 + 42, net.paramCount());
            assertEquals(3, net.weights().get("bn").size());
            // conv 5x2x2 x 2*27; bn 2 and scale 2 per element (20 each); ip 2 x (2*20 + 1)
            assertEquals(20 * 54 + 40 + 40 + 82, net.flopsPerImage());
        }
    }
}
