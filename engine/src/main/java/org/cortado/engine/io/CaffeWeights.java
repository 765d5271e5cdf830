package org.cortado.engine.io;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import io.jhdf.api.WritableGroup;
import java.io.IOException;
import java.lang.reflect.Array;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.TreeMap;
import java.util.UUID;
import org.cortado.engine.WeightsException;
import org.cortado.engine.tensor.Shapes;
import org.cortado.engine.tensor.Tensor;

/**
 * Net weights in Caffe's HDF5 layout ({@code .caffemodel.h5}, as written by {@code Net::ToHDF5}):
 * group {@code /data}, one subgroup per layer, and in it datasets {@code 0}, {@code 1}, ... holding
 * the layer's param blobs in order. Layers without params are empty groups.
 */
public final class CaffeWeights {
    private static final String DATA = "data";

    private CaffeWeights() {}

    /**
     * Writes {@code layers} (layer name to param blobs, in net order) as float32 datasets.
     *
     * <p>The file is written beside the target and then renamed over it, so a crash mid-write never
     * leaves a half-written weights file behind.
     *
     * @throws WeightsException naming the file (and layer) if a layer name is not a valid HDF5
     *     link name or writing fails
     */
    public static void write(Path file, SequencedMap<String, List<Tensor>> layers) {
        for (Map.Entry<String, List<Tensor>> entry : layers.entrySet()) {
            String layer = entry.getKey();
            // A '/' would make HDF5 create nested groups; Caffe cannot write such names either.
            if (layer.isEmpty() || layer.contains("/") || layer.equals(".")) {
                throw new WeightsException("cannot write weights file " + file + ": layer name '" + layer
                        + "' is not a valid HDF5 group name");
            }
            for (int i = 0; i < entry.getValue().size(); i++) {
                Tensor param = entry.getValue().get(i);
                if (param.count() == 0) { // jhdf 0.13 cannot write empty datasets; Caffe never has any
                    throw new WeightsException("cannot write weights file " + file + ": layer '" + layer + "' param "
                            + i + " has no elements (shape " + Shapes.str(param.shape()) + ")");
                }
            }
        }
        Path target = file.toAbsolutePath();
        // Not Files.createTempFile: that makes the file owner-only, and the rename would keep it so.
        Path tmp = target.resolveSibling(target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        String layer = null;
        try {
            try (WritableHdfFile h5 = HdfFile.write(tmp)) {
                WritableGroup data = h5.putGroup(DATA);
                for (Map.Entry<String, List<Tensor>> entry : layers.entrySet()) {
                    layer = entry.getKey();
                    WritableGroup group = data.putGroup(layer);
                    List<Tensor> params = entry.getValue();
                    for (int i = 0; i < params.size(); i++) {
                        group.putDataset(Integer.toString(i), toJavaArray(params.get(i)));
                    }
                }
                layer = null; // the datasets are written on close
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            // jhdf's writer is young: report any failure it has as a failure to write this file.
            throw new WeightsException("cannot write weights file " + file
                    + (layer == null ? "" : " (layer '" + layer + "')") + ": " + e, e);
        } finally {
            deleteQuietly(tmp);
        }
    }

    /**
     * Reads every layer group under {@code /data}: layer name to its param blobs as float32 tensors
     * (float64 and integer datasets are converted). Other top-level groups, such as the
     * {@code /diff} tree some Caffe versions write, are ignored.
     *
     * <p>Layers come in name order: Caffe's files do not record creation order, so the net order
     * is lost and callers match layers by name, as Caffe's {@code CopyTrainedLayersFromHDF5} does.
     *
     * @throws WeightsException naming the file (and layer) if the file is missing or not HDF5,
     *     has no {@code /data} group, or a layer holds anything but numeric datasets
     *     {@code 0..n-1}
     */
    public static LinkedHashMap<String, List<Tensor>> read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new WeightsException("weights file " + file + " does not exist");
        }
        try (HdfFile h5 = new HdfFile(file)) {
            if (!(h5.getChild(DATA) instanceof Group data)) {
                throw new WeightsException("weights file " + file + " has no '/" + DATA
                        + "' group: not Caffe HDF5 weights (top-level entries: " + h5.getChildren().keySet() + ")");
            }
            LinkedHashMap<String, List<Tensor>> layers = new LinkedHashMap<>();
            for (Map.Entry<String, Node> layer : new TreeMap<>(data.getChildren()).entrySet()) {
                layers.put(layer.getKey(), readLayer(file, layer.getKey(), layer.getValue()));
            }
            return layers;
        } catch (WeightsException e) {
            throw e;
        } catch (RuntimeException e) {
            // jhdf reports damaged files with HdfException but also with buffer and argument errors.
            throw new WeightsException("weights file " + file + " is not a readable HDF5 file: " + e, e);
        }
    }

    private static List<Tensor> readLayer(Path file, String layer, Node node) {
        String where = "weights file " + file + ", layer '" + layer + "'";
        if (!(node instanceof Group group)) {
            throw new WeightsException(where + ": /" + DATA + "/" + layer + " is a dataset, expected a layer group");
        }
        // Param datasets are named by their index; sort numerically ("10" after "9") and require 0..n-1.
        TreeMap<Integer, Node> byIndex = new TreeMap<>();
        for (Map.Entry<String, Node> child : group.getChildren().entrySet()) {
            Integer index = parseIndex(child.getKey());
            if (index == null) {
                throw new WeightsException(where + ": unexpected entry '" + child.getKey()
                        + "'; param datasets are named 0, 1, ...");
            }
            byIndex.put(index, child.getValue());
        }
        if (!byIndex.isEmpty() && byIndex.lastKey() != byIndex.size() - 1) {
            throw new WeightsException(where + ": param datasets " + byIndex.keySet()
                    + " are not consecutive from 0");
        }
        List<Tensor> params = new ArrayList<>(byIndex.size());
        try {
            for (Map.Entry<Integer, Node> param : byIndex.entrySet()) {
                if (!(param.getValue() instanceof Dataset ds)) {
                    throw new WeightsException(where + ": param " + param.getKey() + " is a group, expected a dataset");
                }
                params.add(toTensor(ds, where + ", param " + param.getKey()));
            }
        } catch (WeightsException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new WeightsException(where + ": cannot read param: " + e, e);
        }
        return params;
    }

    private static Integer parseIndex(String name) {
        // Only canonical decimal names: "01" or "+1" are not what Caffe writes.
        if (name.isEmpty() || name.length() > 9 || !name.chars().allMatch(Character::isDigit)
                || (name.length() > 1 && name.charAt(0) == '0')) {
            return null;
        }
        return Integer.parseInt(name);
    }

    static Tensor toTensor(Dataset ds, String where) {
        if (ds.isCompound() || ds.isVariableLength()) {
            throw new WeightsException(where + ": dataset is not numeric (" + ds.getJavaType().getSimpleName() + ")");
        }
        int[] shape = ds.getDimensions();
        float[] values = switch (ds.getDataFlat()) {
            case float[] a -> a;
            case double[] a -> {
                float[] f = new float[a.length];
                for (int i = 0; i < a.length; i++) {
                    f[i] = (float) a[i];
                }
                yield f;
            }
            case long[] a -> {
                float[] f = new float[a.length];
                for (int i = 0; i < a.length; i++) {
                    f[i] = a[i];
                }
                yield f;
            }
            case int[] a -> {
                float[] f = new float[a.length];
                for (int i = 0; i < a.length; i++) {
                    f[i] = a[i];
                }
                yield f;
            }
            case short[] a -> {
                float[] f = new float[a.length];
                for (int i = 0; i < a.length; i++) {
                    f[i] = a[i];
                }
                yield f;
            }
            case byte[] a -> {
                float[] f = new float[a.length];
                for (int i = 0; i < a.length; i++) {
                    f[i] = a[i];
                }
                yield f;
            }
            case null, default -> throw new WeightsException(where + ": dataset is not numeric ("
                    + ds.getJavaType().getSimpleName() + ")");
        };
        return new Tensor(values, shape);
    }

    /** jhdf takes the shape from a nested Java array ({@code float[][]...}); a 0-d tensor is a Float. */
    static Object toJavaArray(Tensor t) {
        int[] shape = t.shape();
        if (shape.length == 0) {
            return t.get(0);
        }
        Object array = Array.newInstance(float.class, shape);
        fill(array, shape.length, t.data(), 0);
        return array;
    }

    /** Copies rows of {@code data} into the innermost arrays; returns the next offset. */
    private static int fill(Object array, int depth, float[] data, int offset) {
        if (depth == 1) {
            float[] row = (float[]) array;
            System.arraycopy(data, offset, row, 0, row.length);
            return offset + row.length;
        }
        for (int i = 0, n = Array.getLength(array); i < n; i++) {
            offset = fill(Array.get(array, i), depth - 1, data, offset);
        }
        return offset;
    }

    static void deleteQuietly(Path tmp) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
            // Best effort: the temp file only exists if the write failed.
        }
    }
}
