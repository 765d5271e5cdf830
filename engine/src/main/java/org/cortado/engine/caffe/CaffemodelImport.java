package org.cortado.engine.caffe;

import com.google.protobuf.Internal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import org.cortado.engine.WeightsException;
import org.cortado.engine.caffe.proto.Caffe.BlobProto;
import org.cortado.engine.caffe.proto.Caffe.LayerParameter;
import org.cortado.engine.caffe.proto.Caffe.NetParameter;
import org.cortado.engine.config.Json;
import org.cortado.engine.layers.Layer;
import org.cortado.engine.net.Net;
import org.cortado.engine.net.Phase;
import org.cortado.engine.ops.Parallel;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;
import org.cortado.engine.tensor.Tensor;

/**
 * Binary Caffe weights ({@code .caffemodel}: a {@code NetParameter} whose layers carry
 * {@code blobs}; V1 {@code layers} too) as the layer-name-to-blobs map that
 * {@link org.cortado.engine.io.CaffeWeights#write} stores in Caffe's HDF5 layout.
 *
 * <p>Blobs are matched to the converted net by layer name, as Caffe's {@code CopyTrainedLayersFrom}
 * does, and must fit it: the same number of blobs, and each blob's {@code shape} equal to the net's,
 * or, for the legacy {@code num}/{@code channels}/{@code height}/{@code width} dims, equal to the
 * net's shape padded with leading 1s to four axes (Caffe's {@code Blob::ShapeEquals}; an old
 * InnerProduct weight is {@code (1, 1, out, in)}), in which case the net's shape is used.
 * {@code double_data} is converted to float32.
 */
public final class CaffemodelImport {
    /** The weights in net order and notes on layers only one side has. */
    public record Result(SequencedMap<String, List<Tensor>> weights, List<String> notes) {}

    private CaffemodelImport() {}

    /**
     * Reads {@code caffemodel} for the net of {@code config} (the converted config's root).
     *
     * @throws WeightsException naming the file and layer when a blob count or shape does not fit
     *     the net, or the file is not a binary NetParameter
     */
    public static Result convert(Path caffemodel, Json config) {
        NetParameter model = CaffeNets.readCaffemodel(caffemodel);
        SequencedMap<String, List<int[]>> expected = paramShapes(config);
        Map<String, LayerParameter> byName = new HashMap<>();
        for (LayerParameter l : model.getLayerList()) {
            if (l.getBlobsCount() > 0 && byName.putIfAbsent(l.getName(), l) != null) {
                throw new WeightsException(caffemodel + ": two layers named '" + l.getName() + "' have blobs");
            }
        }
        SequencedMap<String, List<Tensor>> weights = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, List<int[]>> e : expected.entrySet()) {
            LayerParameter l = byName.remove(e.getKey());
            if (l == null) {
                missing.add(e.getKey());
                continue;
            }
            weights.put(e.getKey(), blobs(caffemodel, l, e.getValue()));
        }
        List<String> notes = new ArrayList<>();
        if (!missing.isEmpty()) {
            notes.add(caffemodel + " has no blobs for " + CaffeNets.join(missing.stream().map(n -> "'" + n + "'").toList())
                    + ": they keep their fillers' values");
        }
        if (!byName.isEmpty()) {
            notes.add(caffemodel + ": ignored the blobs of " + CaffeNets.join(byName.keySet().stream().sorted()
                    .map(n -> "'" + n + "'").toList()) + ", which the net has no learnable layer for");
        }
        return new Result(weights, List.copyOf(notes));
    }

    /** Layer name to the shapes of its learnable blobs, from the config's net built for TRAIN then TEST. */
    private static SequencedMap<String, List<int[]>> paramShapes(Json config) {
        SequencedMap<String, List<int[]>> out = new LinkedHashMap<>();
        for (Phase phase : Phase.values()) {
            try (Parallel parallel = new Parallel(1)) {
                Net net = Net.build(Json.of(config.node().get("net").deepCopy(), "net"), phase, parallel, 1);
                for (Layer l : net.layers()) {
                    if (!l.params().isEmpty() && !out.containsKey(l.name())) {
                        out.put(l.name(), l.params().stream().map(Blob::shape).toList());
                    }
                }
            }
        }
        return out;
    }

    private static List<Tensor> blobs(Path file, LayerParameter l, List<int[]> shapes) {
        String where = file + ": layer '" + l.getName() + "' (" + l.getType() + ")";
        if (l.getBlobsCount() != shapes.size()) {
            throw new WeightsException(where + " has " + l.getBlobsCount() + " blobs, the net expects " + shapes.size()
                    + " (" + String.join(", ", shapes.stream().map(Shapes::str).toList()) + ")");
        }
        List<Tensor> out = new ArrayList<>();
        for (int i = 0; i < shapes.size(); i++) {
            out.add(tensor(where + " blob " + i, l.getBlobs(i), shapes.get(i)));
        }
        return out;
    }

    private static Tensor tensor(String where, BlobProto b, int[] expected) {
        int[] shape;
        if (b.hasShape()) {
            shape = b.getShape().getDimList().stream().mapToInt(d -> (int) Math.min(d, Integer.MAX_VALUE)).toArray();
            if (!Arrays.equals(shape, expected)) {
                throw new WeightsException(where + " has shape " + Shapes.str(shape) + ", the net expects "
                        + Shapes.str(expected));
            }
        } else {
            int[] legacy = {b.getNum(), b.getChannels(), b.getHeight(), b.getWidth()};
            if (expected.length > 4 || !Arrays.equals(legacy, padTo4(expected))) {
                throw new WeightsException(where + " has legacy dims (num, channels, height, width) "
                        + Shapes.str(legacy) + ", which do not fit the net's " + Shapes.str(expected));
            }
            shape = expected;
        }
        long count = 1;
        for (int d : shape) {
            count *= d;
        }
        int n = b.getDataCount() > 0 ? b.getDataCount() : b.getDoubleDataCount();
        if (n != count) {
            throw new WeightsException(where + " has " + n + " values for shape " + Shapes.str(shape) + " (" + count + ")");
        }
        float[] values = new float[n];
        if (b.getDataCount() > 0) {
            List<Float> data = b.getDataList();
            for (int i = 0; i < n; i++) {
                values[i] = data instanceof Internal.FloatList fl ? fl.getFloat(i) : data.get(i);
            }
        } else {
            List<Double> data = b.getDoubleDataList();
            for (int i = 0; i < n; i++) {
                values[i] = (float) (data instanceof Internal.DoubleList dl ? dl.getDouble(i) : data.get(i));
            }
        }
        return new Tensor(values, shape);
    }

    private static int[] padTo4(int[] shape) {
        int[] out = {1, 1, 1, 1};
        System.arraycopy(shape, 0, out, 4 - shape.length, shape.length);
        return out;
    }
}
