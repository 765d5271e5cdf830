package org.cortado.engine.caffe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.cortado.engine.ConfigException;
import org.cortado.engine.CortadoException;
import org.cortado.engine.caffe.proto.Caffe.BlobShape;
import org.cortado.engine.caffe.proto.Caffe.DummyDataParameter;
import org.cortado.engine.caffe.proto.Caffe.LayerParameter;
import org.cortado.engine.caffe.proto.Caffe.LossParameter;
import org.cortado.engine.caffe.proto.Caffe.NetParameter;
import org.cortado.engine.caffe.proto.Caffe.NetStateRule;
import org.cortado.engine.caffe.proto.Caffe.ParamSpec;
import org.cortado.engine.caffe.proto.Caffe.TransformationParameter;
import org.cortado.engine.config.Json;
import org.cortado.engine.layers.LayerRegistry;
import org.cortado.engine.net.Net;
import org.cortado.engine.net.Phase;
import org.cortado.engine.ops.Parallel;

/**
 * A Caffe net definition ({@code .prototxt}, text-format {@code NetParameter}; V1 {@code layers}
 * are upgraded first) as a Cortado config. Each layer keeps its name, type, bottoms and tops;
 * {@code param}, {@code include}/{@code exclude} ({@code {phase}} only) and {@code loss_weight} are
 * copied; the fields its type's {@code *_param} messages set are written flat in the layer object
 * under Caffe's names (never Caffe's defaults: our layers have the same ones).
 *
 * <p>Data layers ({@code Data}, {@code ImageData}, {@code HDF5Data}, {@code MemoryData},
 * {@code DummyData}) become {@code Input} layers: the batch is the layer's {@code batch_size}, a
 * sample's shape is the {@code inputShape} given or what the layer defines ({@code MemoryData}'s
 * channels/height/width, {@code ImageData}'s {@code is_color} and {@code new_height}/{@code new_width},
 * a {@code crop_size} with {@code force_color}/{@code force_gray} or per-channel {@code mean_value}s),
 * further tops (the label) are {@code (batch)}. A TRAIN and a TEST data layer with the same tops
 * become one {@code Input}. {@code Input} layers and the legacy net-level {@code input} with
 * {@code input_shape} or {@code input_dim} convert as they are.
 *
 * <p>Every problem is collected and reported at once, naming the prototxt: all layers of types
 * Cortado lacks, then the others. The converted net is then built for both phases, so a field our
 * layers do not read, or shapes that do not fit, are reported here and not at training time.
 */
public final class PrototxtImport {
    private static final Set<String> DATA_TYPES = Set.of("Data", "ImageData", "HDF5Data", "MemoryData", "DummyData");
    /** Caffe's implementation choices (cuDNN or not): the same arithmetic, so they are dropped. */
    private static final Set<String> ENGINE_FIELDS = Set.of("engine", "force_nd_im2col");
    /** Which {@code *_param} messages each type reads, as in Caffe's layer sources. */
    private static final Map<String, List<String>> PARAMS = new LinkedHashMap<>();
    private static final Pattern LAYER_PATH = Pattern.compile("net\\.layers\\[(\\d+)]");

    static {
        for (String t : List.of("Convolution", "Deconvolution")) {
            PARAMS.put(t, List.of("convolution_param"));
        }
        PARAMS.put("InnerProduct", List.of("inner_product_param"));
        PARAMS.put("Pooling", List.of("pooling_param"));
        PARAMS.put("ReLU", List.of("relu_param"));
        PARAMS.put("Sigmoid", List.of("sigmoid_param"));
        PARAMS.put("TanH", List.of("tanh_param"));
        PARAMS.put("Softmax", List.of("softmax_param"));
        PARAMS.put("SoftmaxWithLoss", List.of("softmax_param", "loss_param"));
        PARAMS.put("Accuracy", List.of("accuracy_param"));
        PARAMS.put("Dropout", List.of("dropout_param"));
        PARAMS.put("Flatten", List.of("flatten_param"));
        PARAMS.put("PReLU", List.of("prelu_param"));
        PARAMS.put("ELU", List.of("elu_param"));
        PARAMS.put("Power", List.of("power_param"));
        PARAMS.put("Exp", List.of("exp_param"));
        PARAMS.put("Log", List.of("log_param"));
        PARAMS.put("Threshold", List.of("threshold_param"));
        PARAMS.put("Clip", List.of("clip_param"));
        PARAMS.put("Swish", List.of("swish_param"));
        PARAMS.put("BatchNorm", List.of("batch_norm_param"));
        PARAMS.put("Scale", List.of("scale_param"));
        PARAMS.put("Bias", List.of("bias_param"));
        PARAMS.put("LRN", List.of("lrn_param"));
        PARAMS.put("MVN", List.of("mvn_param"));
        for (String t : List.of("SigmoidCrossEntropyLoss", "EuclideanLoss", "MultinomialLogisticLoss")) {
            PARAMS.put(t, List.of("loss_param"));
        }
        PARAMS.put("HingeLoss", List.of("hinge_loss_param", "loss_param"));
        PARAMS.put("InfogainLoss", List.of("infogain_loss_param", "loss_param"));
        PARAMS.put("ContrastiveLoss", List.of("contrastive_loss_param", "loss_param"));
        PARAMS.put("Concat", List.of("concat_param"));
        PARAMS.put("Slice", List.of("slice_param"));
        PARAMS.put("Eltwise", List.of("eltwise_param"));
        PARAMS.put("Crop", List.of("crop_param"));
        PARAMS.put("Reshape", List.of("reshape_param"));
        PARAMS.put("Tile", List.of("tile_param"));
        PARAMS.put("Reduction", List.of("reduction_param"));
        PARAMS.put("ArgMax", List.of("argmax_param"));
        PARAMS.put("Embed", List.of("embed_param"));
        // AbsVal, BNLL, Split and Silence read no *_param.
    }

    /** The converted config ({@code version}, {@code name}, {@code net}, {@code solver}, ...) and notes on what was dropped. */
    public record Result(ObjectNode config, List<String> notes) {
        /** The config as a file: one line per layer, as the configs in {@code conf/} are written. */
        public String toJson() {
            StringBuilder sb = new StringBuilder("{\n");
            var fields = new ArrayList<Map.Entry<String, JsonNode>>(config.properties());
            for (int i = 0; i < fields.size(); i++) {
                String key = fields.get(i).getKey();
                JsonNode value = fields.get(i).getValue();
                sb.append("  ").append(ProtoJson.NODES.textNode(key)).append(": ");
                if (key.equals("net")) {
                    sb.append("{\n    \"name\": ").append(value.get("name")).append(",\n    \"layers\": [\n");
                    JsonNode layers = value.get("layers");
                    for (int l = 0; l < layers.size(); l++) {
                        sb.append("      ").append(layers.get(l)).append(l + 1 < layers.size() ? ",\n" : "\n");
                    }
                    sb.append("    ]\n  }");
                } else {
                    sb.append(value);
                }
                sb.append(i + 1 < fields.size() ? ",\n" : "\n");
            }
            return sb.append("}\n").toString();
        }
    }

    private final Path file;
    private final int[] inputShape;
    private final List<String> unsupported = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final Set<ObjectNode> fromData = new HashSet<>();

    private PrototxtImport(Path file, int[] inputShape) {
        this.file = file;
        this.inputShape = inputShape;
    }

    /**
     * Converts {@code prototxt}. {@code inputShape} (may be null) is one sample's shape, without the
     * batch, for data layers: {@code {1, 28, 28}} for MNIST; when given it wins over the prototxt.
     *
     * @throws ConfigException naming the file: parse errors with line and column, every layer of an
     *     unsupported type, data shapes it cannot tell, and anything the converted net fails to build with
     */
    public static Result convert(Path prototxt, int[] inputShape) {
        return new PrototxtImport(prototxt, inputShape).run(CaffeNets.readPrototxt(prototxt));
    }

    private Result run(NetParameter net) {
        ArrayNode layers = ProtoJson.NODES.arrayNode();
        ObjectNode legacy = legacyInput(net);
        if (legacy != null) {
            layers.add(legacy);
        }
        for (LayerParameter l : net.getLayerList()) {
            String type = l.getType();
            String where = "layer '" + l.getName() + "' (" + type + ")";
            ObjectNode converted;
            if (DATA_TYPES.contains(type)) {
                converted = dataLayer(l, where);
                fromData.add(converted);
            } else if (type.equals("Input")) {
                converted = inputLayer(l, where);
            } else if (!LayerRegistry.isKnown(type)) {
                unsupported.add("'" + l.getName() + "' (type " + (type.isEmpty() ? "missing" : type) + ")");
                continue;
            } else {
                converted = layer(l, where);
            }
            layers.add(converted);
        }
        mergeDataLayers(layers);
        List<String> all = new ArrayList<>();
        if (!unsupported.isEmpty()) {
            all.add(file + ": " + unsupported.size() + (unsupported.size() == 1 ? " layer has a type" : " layers have types")
                    + " Cortado does not support: " + CaffeNets.join(unsupported) + " (supported: "
                    + String.join(", ", LayerRegistry.types()) + "; data layers "
                    + String.join(", ", DATA_TYPES.stream().sorted().toList()) + " become Input)");
        }
        for (String p : problems) {
            all.add(file + ": " + p);
        }
        if (!all.isEmpty()) {
            throw new ConfigException(all);
        }
        String name = net.hasName() ? net.getName() : stem(file);
        ObjectNode netNode = ProtoJson.NODES.objectNode().put("name", name);
        netNode.set("layers", layers);
        check(netNode);

        ObjectNode config = ProtoJson.NODES.objectNode();
        config.put("version", 1);
        config.put("name", name);
        config.put("description", "Converted from Caffe's " + file.getFileName() + " by cortado import caffe.");
        config.put("seed", 1);
        config.set("net", netNode);
        // A prototxt has no solver; Caffe's lenet_solver values stand in until the user sets theirs.
        ObjectNode solver = config.putObject("solver");
        solver.put("type", "SGD").put("base_lr", 0.01).put("momentum", 0.9).put("weight_decay", 0.0005)
                .put("lr_policy", "fixed").put("max_iter", 10000);
        notes.add("solver: placeholder values (SGD, base_lr 0.01, momentum 0.9, max_iter 10000); set your"
                + " solver.prototxt's values in the config's solver section");
        return new Result(config, notes.stream().distinct().toList());
    }

    /** The net-level {@code input:} blobs with {@code input_shape} or 4 {@code input_dim}s each. */
    private ObjectNode legacyInput(NetParameter net) {
        if (net.getInputCount() == 0) {
            if (net.getInputShapeCount() > 0 || net.getInputDimCount() > 0) {
                problems.add("input_shape/input_dim given without input: names");
            }
            return null;
        }
        int n = net.getInputCount();
        ArrayNode shapes = ProtoJson.NODES.arrayNode();
        if (net.getInputShapeCount() > 0) {
            if (net.getInputShapeCount() != n) {
                problems.add(n + " input: blobs but " + net.getInputShapeCount() + " input_shape: entries; give one per input");
                return null;
            }
            for (BlobShape s : net.getInputShapeList()) {
                shapes.add(ProtoJson.object(s));
            }
        } else if (net.getInputDimCount() > 0) {
            if (net.getInputDimCount() != 4 * n) {
                problems.add(n + " input: blobs but " + net.getInputDimCount()
                        + " input_dim: values; give 4 (num, channels, height, width) per input");
                return null;
            }
            for (int i = 0; i < n; i++) {
                shapes.add(shape(net.getInputDimList().subList(4 * i, 4 * i + 4).stream().mapToLong(Integer::longValue).toArray()));
            }
        } else {
            problems.add("input: " + net.getInputList() + " has no input_shape or input_dim");
            return null;
        }
        ObjectNode o = ProtoJson.NODES.objectNode().put("name", "input").put("type", "Input");
        o.set("top", strings(net.getInputList()));
        o.set("shape", shapes);
        return o;
    }

    private ObjectNode inputLayer(LayerParameter l, String where) {
        ObjectNode o = base(l, where);
        if (l.getInputParam().getShapeCount() == 0) {
            problems.add(where + ": input_param has no shape; give one per top");
        }
        ArrayNode shapes = o.putArray("shape");
        for (BlobShape s : l.getInputParam().getShapeList()) {
            shapes.add(ProtoJson.object(s));
        }
        return o;
    }

    private ObjectNode dataLayer(LayerParameter l, String where) {
        ObjectNode o = base(l, where);
        o.put("type", "Input");
        if (l.hasTransformParam()) {
            notes.add(where + ": transform_param " + ProtoJson.object(l.getTransformParam())
                    + " is preprocessing, which Cortado sets in the config's data/augment sections, not in the net");
        }
        ArrayNode shapes = o.putArray("shape");
        if (l.getType().equals("DummyData")) {
            dummyShapes(l.getDummyDataParam(), l.getTopCount(), where).forEach(shapes::add);
            return o;
        }
        long batch = batchSize(l);
        if (batch <= 0) {
            problems.add(where + ": batch_size is missing or 0");
            return o;
        }
        int[] sample = inputShape != null ? inputShape : sampleShape(l, where);
        if (sample == null) {
            return o;
        }
        for (int t = 0; t < l.getTopCount(); t++) {
            long[] dims = t == 0 ? new long[sample.length + 1] : new long[] {batch};
            dims[0] = batch;
            for (int d = 0; t == 0 && d < sample.length; d++) {
                dims[d + 1] = sample[d];
            }
            shapes.add(shape(dims));
        }
        return o;
    }

    private static long batchSize(LayerParameter l) {
        return switch (l.getType()) {
            case "Data" -> l.getDataParam().getBatchSize();
            case "ImageData" -> l.getImageDataParam().getBatchSize();
            case "HDF5Data" -> l.getHdf5DataParam().getBatchSize();
            case "MemoryData" -> l.getMemoryDataParam().getBatchSize();
            default -> 0;
        } & 0xffffffffL;
    }

    /** A sample's shape as the layer defines it, or null (and a problem saying to pass --input-shape). */
    private int[] sampleShape(LayerParameter l, String where) {
        TransformationParameter t = l.getTransformParam();
        int channels = t.getForceColor() ? 3 : t.getForceGray() ? 1
                : t.getMeanValueCount() == 3 || t.getMeanValueCount() == 1 ? t.getMeanValueCount() : 0;
        int crop = t.getCropSize();
        String from;
        switch (l.getType()) {
            case "MemoryData" -> {
                var m = l.getMemoryDataParam();
                if (m.getChannels() > 0 && m.getHeight() > 0 && m.getWidth() > 0) {
                    return crop > 0 ? new int[] {m.getChannels(), crop, crop}
                            : new int[] {m.getChannels(), m.getHeight(), m.getWidth()};
                }
                from = "memory_data_param has no channels/height/width";
            }
            case "ImageData" -> {
                var p = l.getImageDataParam();
                int c = p.getIsColor() ? 3 : 1;
                crop = crop > 0 ? crop : p.getCropSize();
                if (crop > 0) {
                    return new int[] {c, crop, crop};
                }
                if (p.getNewHeight() > 0 && p.getNewWidth() > 0) {
                    return new int[] {c, p.getNewHeight(), p.getNewWidth()};
                }
                from = "its images are not resized (new_height/new_width) or cropped (crop_size)";
            }
            case "Data" -> {
                crop = crop > 0 ? crop : l.getDataParam().getCropSize();
                if (crop > 0 && channels > 0) {
                    return new int[] {channels, crop, crop};
                }
                from = "its samples come from " + (l.getDataParam().hasSource() ? l.getDataParam().getSource() : "a database");
            }
            default -> from = "its samples come from the HDF5 files listed in " + l.getHdf5DataParam().getSource();
        }
        problems.add(where + ": the data shape is not in the prototxt (" + from
                + "); pass it as --input-shape C,H,W (e.g. 1,28,28 for MNIST, 3,32,32 for CIFAR-10)");
        return null;
    }

    private List<ObjectNode> dummyShapes(DummyDataParameter p, int tops, String where) {
        List<ObjectNode> out = new ArrayList<>();
        if (p.getShapeCount() > 0) {
            for (int t = 0; t < tops; t++) {
                out.add(ProtoJson.object(p.getShape(p.getShapeCount() == 1 ? 0 : Math.min(t, p.getShapeCount() - 1))));
            }
        } else if (p.getNumCount() > 0) {
            for (int t = 0; t < tops; t++) {
                int i = p.getNumCount() == 1 ? 0 : t;
                out.add(shape(new long[] {p.getNum(i), p.getChannels(i), p.getHeight(i), p.getWidth(i)}));
            }
        } else {
            problems.add(where + ": dummy_data_param has no shape");
        }
        return out;
    }

    /** A layer of a type our registry has: generic fields, then its {@code *_param} fields flat. */
    private ObjectNode layer(LayerParameter l, String where) {
        ObjectNode o = base(l, where);
        List<String> own = PARAMS.getOrDefault(l.getType(), List.of());
        List<String> dropped = new ArrayList<>();
        for (Map.Entry<FieldDescriptor, Object> e : l.getAllFields().entrySet()) {
            String message = e.getKey().getName();
            if (!message.endsWith("_param")) {
                continue;
            }
            if (!own.contains(message)) {
                notes.add(where + ": ignored " + message + " (Caffe's " + l.getType() + " layer does not read it either)");
                continue;
            }
            for (Map.Entry<FieldDescriptor, Object> f : ((Message) e.getValue()).getAllFields().entrySet()) {
                String key = f.getKey().getName();
                if (ENGINE_FIELDS.contains(key)) {
                    dropped.add(message + "." + key);
                    continue;
                }
                JsonNode value = ProtoJson.field(f.getKey(), f.getValue());
                if (message.equals("loss_param") && key.equals("normalize")) {
                    // Caffe's LossLayer: the deprecated bool stands for a normalization mode when none is set.
                    if (l.getLossParam().hasNormalization()) {
                        continue;
                    }
                    key = "normalization";
                    value = ProtoJson.NODES.textNode((Boolean) f.getValue()
                            ? LossParameter.NormalizationMode.VALID.name() : LossParameter.NormalizationMode.BATCH_SIZE.name());
                }
                if (o.has(key)) {
                    problems.add(where + ": " + message + "." + key + " clashes with another field named " + key);
                }
                o.set(key, value);
            }
        }
        if (!dropped.isEmpty()) {
            notes.add(where + ": dropped " + String.join(", ", dropped) + " (an implementation choice; same results)");
        }
        return o;
    }

    /** name, type, bottom, top, param, include/exclude, loss_weight. */
    private ObjectNode base(LayerParameter l, String where) {
        ObjectNode o = ProtoJson.NODES.objectNode();
        o.put("name", l.getName());
        o.put("type", l.getType());
        if (l.getBottomCount() > 0) {
            o.set("bottom", l.getBottomCount() == 1 ? ProtoJson.NODES.textNode(l.getBottom(0)) : strings(l.getBottomList()));
        }
        if (l.getTopCount() > 0) {
            o.set("top", l.getTopCount() == 1 ? ProtoJson.NODES.textNode(l.getTop(0)) : strings(l.getTopList()));
        }
        if (l.getParamCount() > 0) {
            ArrayNode params = o.putArray("param");
            for (ParamSpec p : l.getParamList()) {
                if (p.hasShareMode()) {
                    notes.add(where + ": dropped param.share_mode (shared blobs must have the same shape in Cortado)");
                    p = p.toBuilder().clearShareMode().build();
                }
                params.add(ProtoJson.object(p));
            }
        }
        rule(l.getIncludeList(), "include", o, where);
        rule(l.getExcludeList(), "exclude", o, where);
        if (l.getLossWeightCount() > 0) {
            o.set("loss_weight", ProtoJson.field(LayerParameter.getDescriptor().findFieldByName("loss_weight"),
                    l.getLossWeightList()));
        }
        if (l.hasPhase()) {
            problems.add(where + ": the layer-level phase field is not supported; use include { phase: ... }");
        }
        if (l.getPropagateDownCount() > 0) {
            notes.add(where + ": ignored propagate_down (Cortado works out which bottoms need gradients)");
        }
        if (l.getBlobsCount() > 0) {
            notes.add(where + ": ignored " + l.getBlobsCount() + " blobs in the prototxt (weights come from --weights)");
        }
        return o;
    }

    private void rule(List<NetStateRule> rules, String key, ObjectNode o, String where) {
        if (rules.isEmpty()) {
            return;
        }
        NetStateRule r = rules.getFirst();
        if (rules.size() > 1 || !r.hasPhase() || r.hasMinLevel() || r.hasMaxLevel() || r.getStageCount() > 0
                || r.getNotStageCount() > 0) {
            problems.add(where + ": " + key + " " + rules.stream().map(ProtoJson::object).toList()
                    + " is not supported: Cortado selects layers by phase only (one " + key + " { phase: TRAIN|TEST })");
            return;
        }
        o.putObject(key).put("phase", r.getPhase().name());
    }

    /**
     * Caffe nets usually have a TRAIN and a TEST data layer with the same tops (and often the same
     * name); a Cortado net has one {@code Input} for both phases, so they become the TRAIN one.
     */
    private void mergeDataLayers(ArrayNode layers) {
        for (int i = 0; i < layers.size(); i++) {
            ObjectNode a = (ObjectNode) layers.get(i);
            for (int j = i + 1; j < layers.size(); j++) {
                ObjectNode b = (ObjectNode) layers.get(j);
                if (!fromData.contains(a) || !fromData.contains(b) || !a.get("top").equals(b.get("top"))
                        || phase(a) == null || phase(b) == null || phase(a).equals(phase(b))) {
                    continue;
                }
                ObjectNode train = phase(a).equals("TRAIN") ? a : b;
                ObjectNode test = train == a ? b : a;
                if (!sameSamples(train.get("shape"), test.get("shape"))) {
                    problems.add("data layers '" + train.get("name").asText() + "' (TRAIN) and '" + test.get("name").asText()
                            + "' (TEST) give samples of different shapes: " + train.get("shape") + " and " + test.get("shape"));
                    continue;
                }
                train.remove("include");
                if (test.get("shape").size() > 0 && !test.get("shape").equals(train.get("shape"))) {
                    notes.add("data layers '" + train.get("name").asText() + "' (TRAIN) and '" + test.get("name").asText()
                            + "' (TEST) are one Input with the TRAIN batch size; the TEST batch ("
                            + test.get("shape").get(0).get("dim").get(0) + ") is not kept");
                }
                layers.set(i, train);
                layers.remove(j);
                a = train;
                j--;
            }
        }
    }

    private static String phase(ObjectNode layer) {
        JsonNode rule = layer.get("include");
        return rule == null || layer.has("exclude") ? null : rule.get("phase").asText();
    }

    /** Whether two Input shape lists agree in everything but the batch dimension. */
    private static boolean sameSamples(JsonNode a, JsonNode b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int t = 0; t < a.size(); t++) {
            JsonNode da = a.get(t).get("dim");
            JsonNode db = b.get(t).get("dim");
            if (da.size() != db.size()) {
                return false;
            }
            for (int d = 1; d < da.size(); d++) {
                if (da.get(d).asLong() != db.get(d).asLong()) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Builds the converted net for both phases, so what our layers reject is reported now, with the Caffe layer named. */
    private void check(ObjectNode netNode) {
        for (Phase phase : Phase.values()) {
            try (Parallel parallel = new Parallel(1)) {
                Net.build(Json.of(netNode.deepCopy(), "net"), phase, parallel, 1);
            } catch (CortadoException e) {
                throw new ConfigException(file + ": the converted net does not build for " + phase + ": "
                        + nameLayers(e.getMessage(), netNode.get("layers")));
            }
        }
    }

    /** Adds the layer name and type after each {@code net.layers[i]} of an engine message. */
    static String nameLayers(String message, JsonNode layers) {
        Matcher m = LAYER_PATH.matcher(message);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            int i = Integer.parseInt(m.group(1));
            String named = i < layers.size()
                    ? m.group() + " (layer '" + layers.get(i).get("name").asText() + "', " + layers.get(i).get("type").asText() + ")"
                    : m.group();
            m.appendReplacement(sb, Matcher.quoteReplacement(named));
        }
        return m.appendTail(sb).toString();
    }

    private static ObjectNode shape(long[] dims) {
        ObjectNode s = ProtoJson.NODES.objectNode();
        ArrayNode d = s.putArray("dim");
        Arrays.stream(dims).forEach(d::add);
        return s;
    }

    private static ArrayNode strings(List<String> values) {
        ArrayNode a = ProtoJson.NODES.arrayNode();
        values.forEach(a::add);
        return a;
    }

    static String stem(Path file) {
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }
}
