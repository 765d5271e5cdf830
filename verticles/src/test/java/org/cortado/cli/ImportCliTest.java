package org.cortado.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.io.CaffeWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImportCliTest {
    private static final Path FIXTURES = Path.of("..", "engine", "src", "test", "resources", "fixtures", "caffe");

    @Test
    void importsANetAndItsWeights(@TempDir Path dir) {
        Path config = dir.resolve("tiny.json");
        var r = CliTest.cli("import", "caffe", FIXTURES.resolve("tiny_deploy.prototxt").toString(),
                "--weights", FIXTURES.resolve("tiny.caffemodel").toString(), "--out", config.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("tiny.caffemodel.h5: weights of 2 layers"), r.out());
        assertTrue(r.out().contains("note: solver: placeholder values"), r.out());
        assertEquals("tiny", CortadoConfig.load(config).name());
        var weights = CaffeWeights.read(dir.resolve("tiny.caffemodel.h5"));
        assertEquals(List.of("conv1", "ip1"), List.copyOf(weights.keySet()));
        assertArrayEquals(new float[] {0.5f, -0.5f}, weights.get("conv1").get(1).toArray());

        Path named = dir.resolve("w.h5");
        var two = CliTest.cli("import", "caffe", FIXTURES.resolve("tiny_deploy.prototxt").toString(),
                "--weights", FIXTURES.resolve("tiny_v1.caffemodel").toString(), "--out", dir.resolve("t2.json").toString(),
                named.toString());
        assertEquals(0, two.code(), two.err());
        assertTrue(Files.exists(named));
    }

    @Test
    void dataShapesComeFromInputShape(@TempDir Path dir) {
        String lenet = FIXTURES.resolve("lenet_train_test.prototxt").toString();
        Path config = dir.resolve("lenet.json");
        var missing = CliTest.cli("import", "caffe", lenet, "--out", config.toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().startsWith("error: " + lenet + ": layer 'mnist' (Data): the data shape is not in the prototxt"),
                missing.err());
        assertFalse(Files.exists(config));

        var bad = CliTest.cli("import", "caffe", lenet, "--input-shape", "1,x,28", "--out", config.toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--input-shape: expected positive integers"), bad.err());

        var ok = CliTest.cli("import", "caffe", lenet, "--input-shape", "1,28,28", "--out", config.toString());
        assertEquals(0, ok.code(), ok.err());
        assertEquals(10, CortadoConfig.load(config).net().node().get("layers").size());
    }

    @Test
    void misfittingWeightsAreAnErrorAndWriteNothing(@TempDir Path dir) {
        Path config = dir.resolve("tiny.json");
        var r = CliTest.cli("import", "caffe", FIXTURES.resolve("tiny_deploy.prototxt").toString(),
                "--weights", FIXTURES.resolve("tiny_wrong_shape.caffemodel").toString(), "--out", config.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("layer 'ip1' (InnerProduct) blob 0 has shape [3,20], the net expects [3,18]"), r.err());
        assertFalse(Files.exists(config));
    }
}
