package org.cortado.engine.caffe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.cortado.engine.WeightsException;
import org.cortado.engine.config.Json;
import org.cortado.engine.io.CaffeWeights;
import org.cortado.engine.net.Net;
import org.cortado.engine.net.Phase;
import org.cortado.engine.ops.Parallel;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CaffemodelImportTest {
    @TempDir
    Path tmp;

    static Json tinyConfig() {
        var r = PrototxtImport.convert(PrototxtImportTest.fixture("tiny_deploy.prototxt"), null);
        return Json.parse(r.toJson(), "tiny.json");
    }

    /** Written (shape and legacy dims, float and double) by make_caffe_fixtures.py; loaded through our HDF5 file. */
    @ParameterizedTest
    @ValueSource(strings = {"tiny.caffemodel", "tiny_v1.caffemodel"})
    void weightsLoadIntoTheConvertedNetWithTheExactValues(String model) {
        Json config = tinyConfig();
        var r = CaffemodelImport.convert(PrototxtImportTest.fixture(model), config);
        assertEquals(List.of("conv1", "ip1"), List.copyOf(r.weights().keySet()));
        assertEquals(List.of(), r.notes());
        Path h5 = tmp.resolve("tiny.caffemodel.h5");
        CaffeWeights.write(h5, r.weights());

        try (Parallel parallel = new Parallel(1)) {
            Net net = Net.build(Json.of(config.node().get("net").deepCopy(), "net"), Phase.TEST, parallel, 1);
            var report = net.copyWeights(CaffeWeights.read(h5), h5.toString());
            assertEquals(List.of("conv1", "ip1"), report.copied());
            assertEquals(List.of(), report.notInFile());
            List<Blob> conv1 = net.layers().stream().filter(l -> l.name().equals("conv1")).findFirst().orElseThrow().params();
            List<Blob> ip1 = net.layers().stream().filter(l -> l.name().equals("ip1")).findFirst().orElseThrow().params();
            float[] w = new float[18];
            for (int i = 0; i < 18; i++) {
                w[i] = (float) (i * 0.25 - 2);
            }
            assertArrayEquals(new int[] {2, 1, 3, 3}, conv1.get(0).shape());
            assertArrayEquals(w, conv1.get(0).data().toArray());
            assertArrayEquals(new float[] {0.5f, -0.5f}, conv1.get(1).data().toArray());
            float[] v = new float[54];
            for (int i = 0; i < 54; i++) {
                v[i] = (float) (i / 64.0 - 0.4);
            }
            assertArrayEquals(new int[] {3, 18}, ip1.get(0).shape());
            assertArrayEquals(v, ip1.get(0).data().toArray());
            assertArrayEquals(new float[] {0.1f, 0.2f, 0.3f}, ip1.get(1).data().toArray());
        }
    }

    @Test
    void aBlobCountThatDoesNotFitNamesTheFileAndLayer() {
        Path file = PrototxtImportTest.fixture("tiny_wrong_count.caffemodel");
        var e = assertThrows(WeightsException.class, () -> CaffemodelImport.convert(file, tinyConfig()));
        assertEquals(file + ": layer 'conv1' (Convolution) has 1 blobs, the net expects 2 ([2,1,3,3], [2])", e.getMessage());
    }

    @Test
    void aBlobShapeThatDoesNotFitNamesTheFileLayerAndShapes() {
        Path file = PrototxtImportTest.fixture("tiny_wrong_shape.caffemodel");
        var e = assertThrows(WeightsException.class, () -> CaffemodelImport.convert(file, tinyConfig()));
        assertEquals(file + ": layer 'ip1' (InnerProduct) blob 0 has shape [3,20], the net expects [3,18]", e.getMessage());
    }

    @Test
    void filesThatAreNotBinaryNetsAreNamed() {
        Path text = PrototxtImportTest.fixture("tiny_deploy.prototxt");
        var e = assertThrows(WeightsException.class, () -> CaffemodelImport.convert(text, tinyConfig()));
        assertTrue(e.getMessage().startsWith(text + " is not a binary Caffe NetParameter"), e.getMessage());
        Path h5 = Path.of("src/test/resources/fixtures/lenet.caffemodel.h5");
        var h = assertThrows(WeightsException.class, () -> CaffemodelImport.convert(h5, tinyConfig()));
        assertTrue(h.getMessage().startsWith(h5 + " is an HDF5 file"), h.getMessage());
    }
}
