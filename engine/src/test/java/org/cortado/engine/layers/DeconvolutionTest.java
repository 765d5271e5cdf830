package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.io.Npz;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DeconvolutionTest {
    private static final Path FIXTURES = Path.of("src/test/resources/fixtures/layers/vision");

    private static void assertClose(Tensor expected, float[] actual, double tol, String what) {
        float[] e = expected.data();
        for (int i = 0; i < expected.count(); i++) {
            assertEquals(e[i], actual[i], tol * (1 + Math.abs(e[i])), what + "[" + i + "]");
        }
    }

    /** Forward and every gradient against PyTorch's {@code F.conv_transpose2d} (make_vision_fixtures.py). */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void matchesPytorchConvTranspose(int k) {
        Map<String, Tensor> f = Npz.read(FIXTURES.resolve("deconv_" + k + ".npz"));
        float[] p = f.get("params").data(); // num_output, k, stride, pad, dilation, group, bias
        boolean bias = p[6] != 0;
        Layer l = layer("Deconvolution", "up", String.format(
                "\"num_output\":%d,\"kernel_size\":%d,\"stride\":%d,\"pad\":%d,\"dilation\":%d,\"group\":%d,\"bias_term\":%b",
                (int) p[0], (int) p[1], (int) p[2], (int) p[3], (int) p[4], (int) p[5], bias));
        Tensor xt = f.get("x");
        Blob x = new Blob("x", xt.shape());
        System.arraycopy(xt.data(), 0, x.x(), 0, xt.count());
        Blob y = new Blob("y");
        l.setUp(list(x), list(y));
        System.arraycopy(f.get("w").data(), 0, l.param(0).x(), 0, f.get("w").count());
        if (bias) {
            System.arraycopy(f.get("b").data(), 0, l.param(1).x(), 0, f.get("b").count());
        }
        l.reshape(list(x), list(y));
        assertArrayEquals(f.get("y").shape(), y.shape());
        l.forward(list(x), list(y));
        assertClose(f.get("y"), y.x(), 1e-4, "y");
        System.arraycopy(f.get("dy").data(), 0, y.dx(), 0, y.count());
        l.backward(list(y), new boolean[] {true}, list(x));
        assertClose(f.get("dx"), x.dx(), 1e-4, "dx");
        assertClose(f.get("dw"), l.param(0).dx(), 1e-4, "dw");
        if (bias) {
            assertClose(f.get("db"), l.param(1).dx(), 1e-4, "db");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "\"num_output\":3,\"kernel_size\":3,\"stride\":2,\"pad\":1",
        "\"num_output\":4,\"kernel_size\":2,\"group\":2,\"dilation\":2",
        "\"num_output\":2,\"kernel_size\":4,\"stride\":2,\"pad\":1,\"bias_term\":false"})
    void gradientsMatchCentralDifferences(String fields) {
        Layer l = layer("Deconvolution", "up", fields
                + ",\"weight_filler\":{\"type\":\"gaussian\",\"std\":0.5},\"bias_filler\":{\"type\":\"uniform\",\"min\":-1,\"max\":1}");
        new GradientChecker().checkAll(l, list(random("x", 2, 2, 3, 4)), list(new Blob("y")));
    }

    @Test
    void outputSizeFollowsTheTransposedFormula() {
        Layer l = layer("Deconvolution", "up", "\"num_output\":5,\"kernel_size\":4,\"stride\":2,\"pad\":1");
        Blob y = new Blob("y");
        l.setUp(list(random("x", 1, 3, 7, 9)), list(y));
        l.reshape(list(random("x", 1, 3, 7, 9)), list(y));
        assertArrayEquals(new int[] {1, 5, 14, 18}, y.shape(), "2x upsampling: 2*(in-1) + 4 - 2");
        assertArrayEquals(new int[] {3, 5, 4, 4}, l.param(0).shape(), "Caffe's layout (C, num_output/group, kh, kw)");
    }

    @Test
    void badParametersNameTheLayer() {
        var e = assertThrows(ConfigException.class,
                () -> layer("Deconvolution", "up", "\"num_output\":5,\"kernel_size\":3,\"group\":2"));
        assertTrue(e.getMessage().contains("group"), e.getMessage());
        Layer l = layer("Deconvolution", "up", "\"num_output\":2,\"kernel_size\":1,\"pad\":2");
        Blob x = random("x", 1, 2, 3, 3);
        Blob y = new Blob("y");
        l.setUp(list(x), list(y));
        var s = assertThrows(ShapeException.class, () -> l.reshape(list(x), list(y)));
        assertTrue(s.getMessage().contains("up") && s.getMessage().contains("no output"), s.getMessage());
    }
}
