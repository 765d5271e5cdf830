package org.cortado.engine.caffe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import org.cortado.engine.Batches;
import org.cortado.engine.ConfigException;
import org.cortado.engine.Configs;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.config.Json;
import org.cortado.engine.tensor.Tensor;
import org.cortado.engine.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrototxtImportTest {
    /** Numbers compare by value: Caffe's float {@code lr_mult: 2} is our {@code "lr_mult": 2}. */
    private static final Comparator<JsonNode> BY_VALUE = (a, b) -> a.equals(b) ? 0
            : a.isNumber() && b.isNumber() && a.doubleValue() == b.doubleValue() ? 0 : 1;

    @TempDir
    Path tmp;

    static Path fixture(String name) {
        return Path.of("src/test/resources/fixtures/caffe", name);
    }

    /** Parses the written file, as the CLI's output would be read back by train. */
    static CortadoConfig load(PrototxtImport.Result r) {
        return CortadoConfig.from(Json.parse(r.toJson(), "converted.json"), "converted.json", "converted");
    }

    @Test
    void lenetConvertsToOurLenetConfig() {
        var r = PrototxtImport.convert(fixture("lenet_train_test.prototxt"), new int[] {1, 28, 28});
        JsonNode layers = r.config().get("net").get("layers");
        JsonNode ours = Json.read(Configs.conf("lenet-fashion-mnist.json")).node().get("net").get("layers");
        // The TRAIN and TEST Data layers are one Input with the TRAIN batch; label is (batch).
        assertEquals("{'name':'mnist','type':'Input','top':['data','label'],'shape':[{'dim':[64,1,28,28]},{'dim':[64]}]}"
                .replace('\'', '"'), layers.get(0).toString());
        assertEquals(ours.size(), layers.size());
        for (int i = 1; i < ours.size(); i++) {
            assertTrue(ours.get(i).equals(BY_VALUE, layers.get(i)), "layer " + i + ": " + layers.get(i) + " vs " + ours.get(i));
        }
        assertEquals("LeNet", r.config().get("net").get("name").asText());
        assertTrue(r.notes().stream().anyMatch(n -> n.contains("transform_param") && n.contains("0.00390625")), r.notes().toString());
        assertTrue(r.notes().stream().anyMatch(n -> n.contains("TEST batch (100)")), r.notes().toString());
    }

    @Test
    void convertedLenetTrains() {
        var r = PrototxtImport.convert(fixture("lenet_train_test.prototxt"), new int[] {1, 28, 28});
        try (Trainer t = new Trainer(load(r))) {
            var batch = Batches.learnable(8, 1, 28, 28, 10, 7);
            double first = t.step(batch).loss();
            double last = first;
            for (int i = 0; i < 5; i++) {
                last = t.step(batch).loss();
            }
            assertTrue(Double.isFinite(first) && last < first, "loss went from " + first + " to " + last);
            assertTrue(t.test(java.util.List.of(batch)).containsKey("accuracy"));
        }
    }

    @Test
    void cifar10QuickNeedsTheInputShapeAndThenMatchesOurConfigAndTrains() {
        Path file = fixture("cifar10_quick_train_test.prototxt");
        var e = assertThrows(ConfigException.class, () -> PrototxtImport.convert(file, null));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("layer 'cifar' (Data)")
                && e.getMessage().contains("cifar10_train_lmdb") && e.getMessage().contains("--input-shape"), e.getMessage());

        var r = PrototxtImport.convert(file, new int[] {3, 32, 32});
        JsonNode layers = r.config().get("net").get("layers");
        JsonNode ours = Json.read(Configs.conf("cifar10-quick.json")).node().get("net").get("layers");
        assertEquals(ours.size(), layers.size());
        assertEquals("[{\"dim\":[100,3,32,32]},{\"dim\":[100]}]", layers.get(0).get("shape").toString());
        for (int i = 1; i < ours.size(); i++) {
            assertTrue(ours.get(i).equals(BY_VALUE, layers.get(i)), "layer " + i + ": " + layers.get(i) + " vs " + ours.get(i));
        }
        try (Trainer t = new Trainer(load(r))) {
            var batch = Batches.learnable(4, 3, 32, 32, 10, 7);
            assertEquals(Math.log(10), t.step(batch).loss(), 0.05);
            assertTrue(Double.isFinite(t.step(batch).loss()));
        }
    }

    @Test
    void dataShapesComeFromTheLayerWhenItHasThem() throws IOException {
        Path file = write("mem.prototxt", """
                layer { name: "d" type: "MemoryData" top: "data" top: "label"
                        memory_data_param { batch_size: 5 channels: 2 height: 7 width: 6 } }
                layer { name: "i" type: "ImageData" top: "img" top: "label2"
                        image_data_param { source: "list.txt" batch_size: 3 new_height: 9 new_width: 8 is_color: false } }
                layer { name: "c" type: "Data" top: "crop" top: "label3"
                        transform_param { crop_size: 4 mean_value: 1 mean_value: 2 mean_value: 3 }
                        data_param { source: "db" batch_size: 2 } }
                layer { name: "z" type: "DummyData" top: "z" dummy_data_param { shape { dim: 2 dim: 3 } } }
                layer { name: "s" type: "Silence" bottom: "label" bottom: "label2" bottom: "label3" bottom: "z" }
                """);
        JsonNode layers = PrototxtImport.convert(file, null).config().get("net").get("layers");
        assertEquals("[{\"dim\":[5,2,7,6]},{\"dim\":[5]}]", layers.get(0).get("shape").toString());
        assertEquals("[{\"dim\":[3,1,9,8]},{\"dim\":[3]}]", layers.get(1).get("shape").toString());
        assertEquals("[{\"dim\":[2,3,4,4]},{\"dim\":[2]}]", layers.get(2).get("shape").toString());
        assertEquals("[{\"dim\":[2,3]}]", layers.get(3).get("shape").toString());
    }

    @Test
    void inputLayersAndLegacyInputFieldsConvert() throws IOException {
        Path file = write("deploy.prototxt", """
                name: "deploy"
                input: "data"
                input_shape { dim: 2 dim: 3 dim: 4 dim: 4 }
                layer { name: "extra" type: "Input" top: "y" input_param { shape { dim: 2 dim: 5 } } }
                layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 5 } }
                layer { name: "loss" type: "EuclideanLoss" bottom: "ip" bottom: "y" top: "loss" }
                """);
        var r = PrototxtImport.convert(file, null);
        JsonNode layers = r.config().get("net").get("layers");
        assertEquals("{\"name\":\"input\",\"type\":\"Input\",\"top\":[\"data\"],\"shape\":[{\"dim\":[2,3,4,4]}]}",
                layers.get(0).toString());
        assertEquals("[{\"dim\":[2,5]}]", layers.get(1).get("shape").toString());
        try (Trainer t = new Trainer(load(r))) {
            assertTrue(Double.isFinite(t.step(Map.of("data", new Tensor(2, 3, 4, 4), "y", new Tensor(2, 5))).loss()));
        }

        Path dims = write("dims.prototxt", """
                input: "a" input_dim: 1 input_dim: 2 input_dim: 3 input_dim: 3
                layer { name: "r" type: "ReLU" bottom: "a" top: "a" }
                """);
        assertEquals("[{\"dim\":[1,2,3,3]}]",
                PrototxtImport.convert(dims, null).config().get("net").get("layers").get(0).get("shape").toString());
    }

    @Test
    void v1LayersAreUpgraded() throws IOException {
        Path file = write("v1.prototxt", """
                name: "old"
                input: "data" input_dim: 2 input_dim: 1 input_dim: 4 input_dim: 4
                layers { name: "conv" type: CONVOLUTION bottom: "data" top: "conv" blobs_lr: 1 blobs_lr: 2
                         weight_decay: 1 weight_decay: 0 convolution_param { num_output: 3 kernel_size: 3 } }
                layers { name: "relu" type: RELU bottom: "conv" top: "conv" relu_param { negative_slope: 0.1 } }
                layers { name: "prob" type: SOFTMAX bottom: "conv" top: "prob" }
                """);
        JsonNode layers = PrototxtImport.convert(file, null).config().get("net").get("layers");
        assertEquals("{\"name\":\"conv\",\"type\":\"Convolution\",\"bottom\":\"data\",\"top\":\"conv\","
                + "\"param\":[{\"lr_mult\":1,\"decay_mult\":1},{\"lr_mult\":2,\"decay_mult\":0}],"
                + "\"num_output\":3,\"kernel_size\":3}", layers.get(1).toString());
        assertEquals(0.1, layers.get(2).get("negative_slope").asDouble(), 0);
        assertEquals("Softmax", layers.get(3).get("type").asText());
    }

    @Test
    void everyUnsupportedLayerTypeIsNamedInOneError() throws IOException {
        Path file = write("odd.prototxt", """
                input: "data" input_dim: 1 input_dim: 1 input_dim: 4 input_dim: 4
                layer { name: "py" type: "Python" bottom: "data" top: "py" python_param { module: "m" layer: "L" } }
                layer { name: "relu" type: "ReLU" bottom: "data" top: "r" }
                layer { name: "lstm" type: "LSTM" bottom: "r" top: "lstm" }
                layers { name: "win" type: WINDOW_DATA top: "w" }
                """);
        // V1 and current layers together are an error on their own: test the current ones first.
        Path current = write("odd2.prototxt", Files.readString(file).replace("layers { name: \"win\" type: WINDOW_DATA top: \"w\" }", ""));
        var e = assertThrows(ConfigException.class, () -> PrototxtImport.convert(current, null));
        assertTrue(e.getMessage().startsWith(current + ": 2 layers have types Cortado does not support: "
                + "'py' (type Python) and 'lstm' (type LSTM)"), e.getMessage());
        var both = assertThrows(ConfigException.class, () -> PrototxtImport.convert(file, null));
        assertTrue(both.getMessage().contains("both 'layer' and the deprecated V1 'layers'"), both.getMessage());
        Path v1 = write("v1odd.prototxt", "layers { name: \"win\" type: WINDOW_DATA top: \"w\" }\n"
                + "layers { name: \"im\" type: IM2COL bottom: \"w\" top: \"c\" }\n");
        var old = assertThrows(ConfigException.class, () -> PrototxtImport.convert(v1, null));
        assertTrue(old.getMessage().contains("'win' (type WindowData) and 'im' (type Im2col)"), old.getMessage());
    }

    @Test
    void unknownFieldsNameTheFileLineAndColumn() throws IOException {
        Path file = write("typo.prototxt", """
                name: "t"
                layer {
                  name: "conv"
                  type: "Convolution"
                  convolution_param { num_outputs: 3 }
                }
                """);
        var e = assertThrows(ConfigException.class, () -> PrototxtImport.convert(file, null));
        assertTrue(e.getMessage().startsWith(file + ":5:"), e.getMessage());
        assertTrue(e.getMessage().contains("num_outputs"), e.getMessage());

        Path syntax = write("syntax.prototxt", "name: \"t\"\nlayer {\n  name: \"x\"\n");
        var s = assertThrows(ConfigException.class, () -> PrototxtImport.convert(syntax, null));
        assertTrue(s.getMessage().startsWith(syntax + ":"), s.getMessage());
    }

    @Test
    void whatOurEngineRejectsNamesTheCaffeLayer() throws IOException {
        Path wiring = write("wiring.prototxt", """
                input: "data" input_dim: 1 input_dim: 1 input_dim: 4 input_dim: 4
                layer { name: "ip" type: "InnerProduct" bottom: "nodata" top: "ip" inner_product_param { num_output: 2 } }
                """);
        var e = assertThrows(ConfigException.class, () -> PrototxtImport.convert(wiring, null));
        assertTrue(e.getMessage().startsWith(wiring + ": the converted net does not build for TRAIN: "
                + "net.layers[1] (layer 'ip', InnerProduct).bottom: unknown blob \"nodata\""), e.getMessage());

        Path stages = write("stages.prototxt", """
                input: "data" input_dim: 1 input_dim: 1 input_dim: 4 input_dim: 4
                layer { name: "r" type: "ReLU" bottom: "data" top: "r" include { stage: "deploy" } }
                """);
        var s = assertThrows(ConfigException.class, () -> PrototxtImport.convert(stages, null));
        assertTrue(s.getMessage().contains("layer 'r' (ReLU): include") && s.getMessage().contains("by phase only"),
                s.getMessage());
    }

    @Test
    void engineChoicesAndLegacyNormalizeConvert() throws IOException {
        Path file = write("engine.prototxt", """
                input: "data" input: "label" input_shape { dim: 2 dim: 3 } input_shape { dim: 2 }
                layer { name: "sm" type: "Softmax" bottom: "data" top: "p" softmax_param { engine: CUDNN } }
                layer { name: "loss" type: "SoftmaxWithLoss" bottom: "data" bottom: "label" top: "loss"
                        loss_param { normalize: false ignore_label: 1 } }
                """);
        var r = PrototxtImport.convert(file, null);
        JsonNode layers = r.config().get("net").get("layers");
        assertFalse(layers.get(1).has("engine"));
        assertEquals("BATCH_SIZE", layers.get(2).get("normalization").asText());
        assertEquals(1, layers.get(2).get("ignore_label").asInt());
        assertTrue(r.notes().stream().anyMatch(n -> n.contains("softmax_param.engine")), r.notes().toString());
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(tmp.resolve(name), text);
    }
}
