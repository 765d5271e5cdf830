package org.cortado.engine.caffe;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.TextFormat;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.cortado.engine.ConfigException;
import org.cortado.engine.WeightsException;
import org.cortado.engine.caffe.proto.Caffe.LayerParameter;
import org.cortado.engine.caffe.proto.Caffe.NetParameter;
import org.cortado.engine.caffe.proto.Caffe.ParamSpec;
import org.cortado.engine.caffe.proto.Caffe.V1LayerParameter;

/**
 * Reads Caffe's {@code NetParameter} from a {@code .prototxt} (text format) or a {@code .caffemodel}
 * (binary), and upgrades the deprecated V1 {@code layers { type: CONVOLUTION }} form to today's
 * {@code layer { type: "Convolution" }}, as Caffe's {@code UpgradeV1Net} does.
 */
final class CaffeNets {
    /** V1 layer type enum names to the type strings of {@code layer}, as Caffe's {@code UpgradeV1LayerType}. */
    private static final Map<String, String> V1_TYPES = Map.ofEntries(
            Map.entry("ABSVAL", "AbsVal"), Map.entry("ACCURACY", "Accuracy"), Map.entry("ARGMAX", "ArgMax"),
            Map.entry("BNLL", "BNLL"), Map.entry("CONCAT", "Concat"), Map.entry("CONTRASTIVE_LOSS", "ContrastiveLoss"),
            Map.entry("CONVOLUTION", "Convolution"), Map.entry("DECONVOLUTION", "Deconvolution"),
            Map.entry("DATA", "Data"), Map.entry("DROPOUT", "Dropout"), Map.entry("DUMMY_DATA", "DummyData"),
            Map.entry("EUCLIDEAN_LOSS", "EuclideanLoss"), Map.entry("ELTWISE", "Eltwise"), Map.entry("EXP", "Exp"),
            Map.entry("FLATTEN", "Flatten"), Map.entry("HDF5_DATA", "HDF5Data"), Map.entry("HDF5_OUTPUT", "HDF5Output"),
            Map.entry("HINGE_LOSS", "HingeLoss"), Map.entry("IM2COL", "Im2col"), Map.entry("IMAGE_DATA", "ImageData"),
            Map.entry("INFOGAIN_LOSS", "InfogainLoss"), Map.entry("INNER_PRODUCT", "InnerProduct"),
            Map.entry("LRN", "LRN"), Map.entry("MEMORY_DATA", "MemoryData"),
            Map.entry("MULTINOMIAL_LOGISTIC_LOSS", "MultinomialLogisticLoss"), Map.entry("MVN", "MVN"),
            Map.entry("POOLING", "Pooling"), Map.entry("POWER", "Power"), Map.entry("RELU", "ReLU"),
            Map.entry("SIGMOID", "Sigmoid"), Map.entry("SIGMOID_CROSS_ENTROPY_LOSS", "SigmoidCrossEntropyLoss"),
            Map.entry("SILENCE", "Silence"), Map.entry("SOFTMAX", "Softmax"), Map.entry("SOFTMAX_LOSS", "SoftmaxWithLoss"),
            Map.entry("SPLIT", "Split"), Map.entry("SLICE", "Slice"), Map.entry("TANH", "TanH"),
            Map.entry("WINDOW_DATA", "WindowData"), Map.entry("THRESHOLD", "Threshold"));

    private CaffeNets() {}

    /**
     * Parses a text-format net. Syntax errors and unknown fields name the file, line and column,
     * e.g. {@code lenet.prototxt:12:5: Message type "caffe.LayerParameter" has no field named "foo".}
     */
    static NetParameter readPrototxt(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read the net definition: " + e);
        }
        NetParameter.Builder net = NetParameter.newBuilder();
        try {
            TextFormat.getParser().merge(text, net);
        } catch (TextFormat.ParseException e) {
            // The parser's message starts with "line:column: "; lines and columns count from 1.
            throw new ConfigException(file + ":" + e.getMessage());
        }
        return upgrade(net.build(), file.toString());
    }

    /** Parses a binary net with weights; a file that is not one is an error naming it. */
    static NetParameter readCaffemodel(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new WeightsException("weights file " + file + " does not exist");
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] magic = in.readNBytes(4);
            if (magic.length == 4 && magic[0] == (byte) 0x89 && magic[1] == 'H' && magic[2] == 'D' && magic[3] == 'F') {
                throw new WeightsException(file + " is an HDF5 file, not a binary .caffemodel: Cortado reads Caffe's "
                        + "HDF5 weights as they are (--weights of train/extract), no import needed");
            }
        } catch (IOException e) {
            throw new WeightsException("cannot read weights file " + file + ": " + e, e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            CodedInputStream coded = CodedInputStream.newInstance(in);
            coded.setSizeLimit(Integer.MAX_VALUE);
            return upgrade(NetParameter.parseFrom(coded), file.toString());
        } catch (InvalidProtocolBufferException e) {
            throw new WeightsException(file + " is not a binary Caffe NetParameter (.caffemodel): " + e.getMessage(), e);
        } catch (IOException e) {
            throw new WeightsException("cannot read weights file " + file + ": " + e, e);
        }
    }

    /** Moves V1 {@code layers} into {@code layer}; a net using both is an error, as in Caffe. */
    static NetParameter upgrade(NetParameter net, String source) {
        if (net.getLayersCount() == 0) {
            return net;
        }
        if (net.getLayerCount() > 0) {
            throw new ConfigException(source + ": the net has both 'layer' and the deprecated V1 'layers' fields;"
                    + " use one of them");
        }
        NetParameter.Builder up = net.toBuilder().clearLayers();
        for (V1LayerParameter v1 : net.getLayersList()) {
            up.addLayer(upgrade(v1, source));
        }
        return up.build();
    }

    private static LayerParameter upgrade(V1LayerParameter v1, String source) {
        if (v1.hasLayer()) {
            throw new ConfigException(source + ": layer '" + v1.getName() + "' is in Caffe's V0 format (a nested"
                    + " 'layer' inside 'layers'); upgrade it with Caffe's upgrade_net_proto_text first");
        }
        LayerParameter.Builder l = LayerParameter.newBuilder()
                .setName(v1.getName())
                .addAllBottom(v1.getBottomList())
                .addAllTop(v1.getTopList())
                .addAllInclude(v1.getIncludeList())
                .addAllExclude(v1.getExcludeList())
                .addAllBlobs(v1.getBlobsList())
                .addAllLossWeight(v1.getLossWeightList());
        if (v1.hasType()) {
            String name = v1.getType().name();
            l.setType(V1_TYPES.getOrDefault(name, name));
        }
        int specs = Math.max(Math.max(v1.getParamCount(), v1.getBlobsLrCount()),
                Math.max(v1.getWeightDecayCount(), v1.getBlobShareModeCount()));
        for (int i = 0; i < specs; i++) {
            ParamSpec.Builder p = ParamSpec.newBuilder();
            if (i < v1.getParamCount()) {
                p.setName(v1.getParam(i));
            }
            if (i < v1.getBlobsLrCount()) {
                p.setLrMult(v1.getBlobsLr(i));
            }
            if (i < v1.getWeightDecayCount()) {
                p.setDecayMult(v1.getWeightDecay(i));
            }
            if (i < v1.getBlobShareModeCount()) {
                p.setShareMode(ParamSpec.DimCheckMode.forNumber(v1.getBlobShareMode(i).getNumber()));
            }
            l.addParam(p);
        }
        // The type-specific messages have the same names and types in both versions.
        for (Map.Entry<FieldDescriptor, Object> f : v1.getAllFields().entrySet()) {
            String name = f.getKey().getName();
            if (name.endsWith("_param")) {
                l.setField(LayerParameter.getDescriptor().findFieldByName(name), f.getValue());
            }
        }
        return l.build();
    }

    /** Lists {@code items} as "a, b and c". */
    static String join(List<String> items) {
        if (items.size() <= 1) {
            return String.join("", items);
        }
        return String.join(", ", items.subList(0, items.size() - 1)) + " and " + items.getLast();
    }
}
