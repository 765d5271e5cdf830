package org.cortado.engine.io;

import static org.cortado.engine.io.NpyTest.fixture;
import static org.cortado.engine.io.NpyTest.python;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.stream.Stream;
import org.cortado.engine.WeightsException;
import org.cortado.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CaffeWeights against h5py-written files in Caffe's layout, and h5py reading what we write. */
class CaffeWeightsTest {
    @TempDir
    Path tmp;

    @Test
    void readsCaffeLayoutWrittenByH5py() {
        LinkedHashMap<String, List<Tensor>> layers = CaffeWeights.read(fixture("lenet.caffemodel.h5"));
        // Name order (the file keeps no net order); /diff is ignored.
        assertEquals(List.of("conv1", "ip1", "relu1"), List.copyOf(layers.keySet()));

        List<Tensor> conv1 = layers.get("conv1");
        assertEquals(2, conv1.size());
        assertArrayEquals(new int[] {2, 1, 3, 3}, conv1.get(0).shape());
        assertArrayEquals(range(18, 0.5f, -4), conv1.get(0).toArray());
        assertArrayEquals(new int[] {2}, conv1.get(1).shape());
        assertArrayEquals(new float[] {0.25f, -0.75f}, conv1.get(1).toArray());

        assertEquals(List.of(), layers.get("relu1"));

        List<Tensor> ip1 = layers.get("ip1"); // stored as float64
        assertArrayEquals(new int[] {3, 8}, ip1.get(0).shape());
        assertArrayEquals(range(24, 1 / 8f, 0), ip1.get(0).toArray());
        assertArrayEquals(new float[] {1, 2, 3}, ip1.get(1).toArray());
    }

    @Test
    void roundTripsAndReplacesAtomically() throws IOException {
        Path file = tmp.resolve("net.caffemodel.h5");
        Files.writeString(file, "old contents");
        LinkedHashMap<String, List<Tensor>> layers = lenet();
        CaffeWeights.write(file, layers);

        LinkedHashMap<String, List<Tensor>> back = CaffeWeights.read(file);
        assertEquals(List.of("conv1", "ip1", "relu1"), List.copyOf(back.keySet()));
        for (String layer : layers.keySet()) {
            assertEquals(layers.get(layer).size(), back.get(layer).size(), layer);
            for (int i = 0; i < layers.get(layer).size(); i++) {
                Tensor expected = layers.get(layer).get(i);
                assertArrayEquals(expected.shape(), back.get(layer).get(i).shape(), layer + "/" + i);
                assertArrayEquals(expected.toArray(), back.get(layer).get(i).toArray(), layer + "/" + i);
            }
        }
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of(file), files.toList(), "no temp file is left behind");
        }
    }

    @Test
    void ordersParamsNumerically() {
        List<Tensor> params = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            params.add(new Tensor(new float[] {i}, 1));
        }
        LinkedHashMap<String, List<Tensor>> layers = new LinkedHashMap<>();
        layers.put("many", params);
        Path file = tmp.resolve("many.h5");
        CaffeWeights.write(file, layers);
        List<Tensor> back = CaffeWeights.read(file).get("many");
        for (int i = 0; i < 12; i++) {
            assertEquals(i, back.get(i).get(0), "param " + i);
        }
    }

    @Test
    void rejectsLayerNamesThatAreNotGroupNames() {
        LinkedHashMap<String, List<Tensor>> layers = new LinkedHashMap<>();
        layers.put("inception_3a/1x1", List.of(new Tensor(1)));
        Path file = tmp.resolve("bad.h5");
        WeightsException e = assertThrows(WeightsException.class, () -> CaffeWeights.write(file, layers));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("inception_3a/1x1"),
                e.getMessage());
    }

    @Test
    void h5pyReadsWhatJavaWrites() {
        Path file = tmp.resolve("lenet.caffemodel.h5");
        CaffeWeights.write(file, lenet());
        python("""
                import sys, h5py, numpy as np
                with h5py.File(sys.argv[1], "r") as f:
                    assert list(f.keys()) == ["data"], list(f.keys())
                    d = f["data"]
                    assert sorted(d.keys()) == ["conv1", "ip1", "relu1"], list(d.keys())
                    assert len(d["relu1"]) == 0
                    w = d["conv1/0"]
                    assert w.dtype == np.float32 and w.shape == (2, 1, 3, 3), (w.dtype, w.shape)
                    assert (w[()] == (np.arange(18, dtype=np.float32) * 0.5 - 4).reshape(2, 1, 3, 3)).all(), w[()]
                    assert (d["conv1/1"][()] == np.float32([0.25, -0.75])).all()
                    assert d["ip1/0"].shape == (3, 8) and (d["ip1/0"][()] == np.arange(24).reshape(3, 8) / 8).all()
                    assert d["ip1/1"].shape == (3,) and (d["ip1/1"][()] == [1, 2, 3]).all()
                """, file);
    }

    // ---- bad input --------------------------------------------------------------------------

    @Test
    void rejectsMissingFile() {
        assertFails(tmp.resolve("missing.caffemodel.h5"), "does not exist");
    }

    @Test
    void rejectsFileThatIsNotHdf5() throws IOException {
        Path file = Files.writeString(tmp.resolve("text.caffemodel.h5"), "name: \"LeNet\"\nlayer { }\n");
        assertFails(file, "not a readable HDF5 file");
    }

    @Test
    void rejectsHdf5WithoutDataGroup() {
        assertFails(fixture("no_data_group.h5"), "no '/data' group");
    }

    @Test
    void rejectsNonNumericParam() {
        assertFails(fixture("string_param.caffemodel.h5"), "layer 'conv1'", "not numeric");
    }

    @Test
    void rejectsNonConsecutiveParams() {
        assertFails(fixture("gap_param.caffemodel.h5"), "layer 'conv1'", "[0, 2]");
    }

    // ---- helpers ------------------------------------------------------------------------------

    /** The values of the lenet fixture, as written by make_io_fixtures.py. */
    private static LinkedHashMap<String, List<Tensor>> lenet() {
        LinkedHashMap<String, List<Tensor>> layers = new LinkedHashMap<>();
        Tensor bias = new Tensor(new float[] {0.25f, -0.75f, 99, 99}, 2); // storage longer than count
        layers.put("conv1", List.of(new Tensor(range(18, 0.5f, -4), 2, 1, 3, 3), bias));
        layers.put("relu1", List.of());
        layers.put("ip1", List.of(new Tensor(range(24, 1 / 8f, 0), 3, 8), new Tensor(new float[] {1, 2, 3}, 3)));
        return layers;
    }

    /** {@code i * step + offset} for i in [0, n). */
    private static float[] range(int n, float step, float offset) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = i * step + offset;
        }
        return v;
    }

    private static void assertFails(Path file, String... what) {
        WeightsException e = assertThrows(WeightsException.class, () -> CaffeWeights.read(file));
        assertTrue(e.getMessage().contains(file.toString()), "message should name the file: " + e.getMessage());
        for (String w : what) {
            assertTrue(e.getMessage().contains(w), "message should say '" + w + "': " + e.getMessage());
        }
    }
}
