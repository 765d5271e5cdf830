package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.cortado.engine.layers.LayerTesting.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConvolutionTest {
    private static final String FILLERS =
            "\"weight_filler\":{\"type\":\"gaussian\",\"std\":0.5},\"bias_filler\":{\"type\":\"uniform\",\"min\":-1,\"max\":1}";

    /** Direct definition of grouped, dilated cross-correlation, independent of im2col and GEMM. */
    private static float[] direct(Blob x, Blob w, Blob b, int group, int s, int p, int d, int oh, int ow) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
        int o = w.dim(0), cg = w.dim(1), kh = w.dim(2), kw = w.dim(3);
        float[] y = new float[n * o * oh * ow];
        for (int in = 0; in < n; in++) {
            for (int oc = 0; oc < o; oc++) {
                int g = oc / (o / group);
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double acc = b == null ? 0 : b.x()[oc];
                        for (int ic = 0; ic < cg; ic++) {
                            for (int i = 0; i < kh; i++) {
                                for (int j = 0; j < kw; j++) {
                                    int iy = oy * s - p + i * d, ix = ox * s - p + j * d;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                                        acc += x.x()[((in * c + g * cg + ic) * h + iy) * wd + ix]
                                                * w.x()[((oc * cg + ic) * kh + i) * kw + j];
                                    }
                                }
                            }
                        }
                        y[((in * o + oc) * oh + oy) * ow + ox] = (float) acc;
                    }
                }
            }
        }
        return y;
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "\"num_output\":4,\"kernel_size\":3",
        "\"num_output\":4,\"kernel_size\":3,\"stride\":2,\"pad\":1",
        "\"num_output\":6,\"kernel_size\":3,\"group\":2,\"dilation\":2,\"pad\":2",
        "\"num_output\":3,\"kernel_size\":1",
        "\"num_output\":4,\"kernel_size\":2,\"bias_term\":false,\"group\":4",
        // depthwise (one filter per channel), as in MobileNet, strided and dilated
        "\"num_output\":4,\"kernel_size\":3,\"stride\":2,\"pad\":1,\"group\":4",
        "\"num_output\":4,\"kernel_size\":3,\"pad\":2,\"dilation\":2,\"group\":4"})
    void forwardMatchesTheDefinition(String fields) {
        Layer conv = layer("Convolution", "conv", fields + "," + FILLERS);
        Blob x = random("x", 5, 4, 7, 6);
        Blob y = new Blob("y");
        conv.setUp(list(x), list(y));
        conv.reshape(list(x), list(y));
        conv.forward(list(x), list(y));
        var j = conv.config().json();
        int s = j.ints("stride").length > 0 ? j.ints("stride")[0] : 1;
        int p = j.ints("pad").length > 0 ? j.ints("pad")[0] : 0;
        int d = j.ints("dilation").length > 0 ? j.ints("dilation")[0] : 1;
        int group = j.getInt("group", 1);
        Blob bias = conv.params().size() > 1 ? conv.params().get(1) : null;
        float[] expected = direct(x, conv.params().get(0), bias, group, s, p, d, y.dim(2), y.dim(3));
        assertEquals(expected.length, y.count());
        assertArrayEquals(expected, y.data().toArray(), 1e-4f);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "\"num_output\":3,\"kernel_size\":3",
        "\"num_output\":2,\"kernel_h\":3,\"kernel_w\":2,\"stride\":2,\"pad\":1",
        "\"num_output\":4,\"kernel_size\":2,\"group\":2,\"dilation\":2",
        "\"num_output\":2,\"kernel_size\":1",
        // depthwise: strided with padding, and a non-square dilated kernel with unequal strides
        "\"num_output\":2,\"kernel_size\":3,\"stride\":2,\"pad\":1,\"group\":2",
        "\"num_output\":2,\"kernel_h\":3,\"kernel_w\":2,\"stride_h\":1,\"stride_w\":2,\"pad\":1,\"dilation\":2,\"group\":2,\"bias_term\":false"})
    void gradientsMatchCentralDifferences(String fields) {
        Layer conv = layer("Convolution", "conv", fields + "," + FILLERS);
        Blob x = random("x", 2, 2, 5, 5);
        new GradientChecker().checkAll(conv, list(x), list(new Blob("y")));
    }

    /** A first layer (1 or 3 input channels), where oneDNN reads x in plain NCHW for the weights pass. */
    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void firstLayerGradientsMatchCentralDifferences(int channels) {
        Layer conv = layer("Convolution", "conv", "\"num_output\":8,\"kernel_size\":3,\"pad\":1," + FILLERS);
        Blob x = random("x", 2, channels, 6, 6);
        new GradientChecker().checkAll(conv, list(x), list(new Blob("y")));
    }

    /**
     * Channel counts that are multiples of 8 and 16, where oneDNN keeps activations in nChw8c/nChw16c
     * and they are copied to and from the heap in one pass ({@code BlockedLayout}): dense, depthwise
     * (MobileNet's blocks) and grouped, forward against the definition and gradients against central
     * differences.
     */
    @ParameterizedTest
    @ValueSource(strings = {
        "\"num_output\":16,\"kernel_size\":3,\"pad\":1",
        "\"num_output\":16,\"kernel_size\":3,\"stride\":2,\"pad\":1,\"group\":16",
        "\"num_output\":32,\"kernel_size\":1",
        "\"num_output\":32,\"kernel_size\":3,\"group\":2,\"bias_term\":false"})
    void channelBlockedActivationsMatchTheDefinitionAndCentralDifferences(String fields) {
        Convolution conv = (Convolution) layer("Convolution", "conv", fields + "," + FILLERS);
        Blob x = random("x", 2, 16, 6, 5);
        Blob y = new Blob("y");
        conv.setUp(list(x), list(y));
        conv.reshape(list(x), list(y));
        conv.forward(list(x), list(y));
        if (org.cortado.engine.ops.Conv.dnnlEnabled()) {
            org.junit.jupiter.api.Assertions.assertTrue(conv.implementation().contains("in one pass"), conv.implementation());
        }
        var j = conv.config().json();
        int s = j.ints("stride").length > 0 ? j.ints("stride")[0] : 1;
        int p = j.ints("pad").length > 0 ? j.ints("pad")[0] : 0;
        Blob bias = conv.params().size() > 1 ? conv.params().get(1) : null;
        float[] expected = direct(x, conv.params().get(0), bias, j.getInt("group", 1), s, p, 1, y.dim(2), y.dim(3));
        assertArrayEquals(expected, y.data().toArray(), 1e-4f);
        new GradientChecker().checkAll(layer("Convolution", "conv", fields + "," + FILLERS), list(x), list(new Blob("y")));
    }

    /** Images too large to batch side by side: one image per GEMM, written straight into NCHW. */
    @Test
    void largeImagesTakeTheOneImagePerGemmPath() {
        Layer conv = layer("Convolution", "conv", "\"num_output\":3,\"kernel_size\":3,\"pad\":1," + FILLERS);
        Blob x = random("x", 3, 16, 90, 90); // 144 x 8100 column matrix: over the per-thread budget
        Blob y = new Blob("y");
        conv.setUp(list(x), list(y));
        conv.reshape(list(x), list(y));
        conv.forward(list(x), list(y));
        float[] expected = direct(x, conv.params().get(0), conv.params().get(1), 1, 1, 1, 1, 90, 90);
        assertArrayEquals(expected, y.data().toArray(), 1e-3f);
        // Backward on the same path. Without bias, y is linear in x and in W, so for any dy:
        // <dy, y> = <dx, x> = <dW, W>. One backward checks both gradients.
        Layer c2 = layer("Convolution", "conv", "\"num_output\":3,\"kernel_size\":3,\"pad\":1,\"bias_term\":false," + FILLERS);
        Blob y2 = new Blob("y");
        c2.setUp(list(x), list(y2));
        c2.reshape(list(x), list(y2));
        c2.forward(list(x), list(y2));
        Blob dyRef = random("dy", 3, 3, 90, 90);
        System.arraycopy(dyRef.x(), 0, y2.dx(), 0, y2.count());
        c2.params().get(0).zeroDiff();
        c2.backward(list(y2), new boolean[] {true}, list(x));
        double yDy = org.cortado.engine.ops.Elementwise.dot(y2.count(), y2.x(), 0, y2.dx(), 0);
        double xDx = org.cortado.engine.ops.Elementwise.dot(x.count(), x.x(), 0, x.dx(), 0);
        Blob w = c2.params().get(0);
        double wDw = org.cortado.engine.ops.Elementwise.dot(w.count(), w.x(), 0, w.dx(), 0);
        assertEquals(yDy, xDx, 1e-4 * Math.abs(yDy));
        assertEquals(yDy, wDw, 1e-4 * Math.abs(yDy));
    }

    /** dW and db are accumulated into (Caffe's contract: several bottoms, iter_size); dx is overwritten. */
    @Test
    void backwardAccumulatesParamGradientsAndOverwritesDx() {
        Layer conv = layer("Convolution", "conv", "\"num_output\":4,\"kernel_size\":3,\"pad\":1," + FILLERS);
        Blob x = random("x", 3, 2, 6, 6);
        Blob y = new Blob("y");
        conv.setUp(list(x), list(y));
        conv.reshape(list(x), list(y));
        conv.forward(list(x), list(y));
        System.arraycopy(random("dy", 3, 4, 6, 6).x(), 0, y.dx(), 0, y.count());
        conv.backward(list(y), new boolean[] {true}, list(x));
        float[] dw1 = conv.params().get(0).dx().clone();
        float[] db1 = conv.params().get(1).dx().clone();
        float[] dx1 = x.dx().clone();
        conv.backward(list(y), new boolean[] {true}, list(x));
        for (int i = 0; i < dw1.length; i++) {
            assertEquals(2 * dw1[i], conv.params().get(0).dx()[i], 1e-5 * (1 + Math.abs(dw1[i])), "dW " + i);
        }
        for (int i = 0; i < db1.length; i++) {
            assertEquals(2 * db1[i], conv.params().get(1).dx()[i], 1e-5 * (1 + Math.abs(db1[i])), "db " + i);
        }
        assertArrayEquals(dx1, x.dx(), 0f);
    }

    /**
     * On linux-x86_64 (the natives this project ships) convolutions run on oneDNN, forward and backward;
     * with oneDNN switched off ({@link ConvolutionIm2colTest}) on im2col + GEMM.
     */
    @Test
    void runsOnTheExpectedPath() {
        boolean dnnl = org.cortado.engine.ops.Conv.dnnlEnabled();
        if (dnnl) {
            assertEquals(null, org.cortado.engine.ops.Conv.dnnlUnavailableReason());
        }
        Convolution conv = (Convolution) layer("Convolution", "conv", "\"num_output\":8,\"kernel_size\":3," + FILLERS);
        Blob x = random("x", 2, 8, 10, 10);
        Blob y = new Blob("y");
        conv.setUp(list(x), list(y));
        conv.reshape(list(x), list(y));
        conv.forward(list(x), list(y));
        conv.backward(list(y), new boolean[] {true}, list(x));
        String impl = conv.implementation();
        if (dnnl) {
            org.junit.jupiter.api.Assertions.assertTrue(
                    impl.startsWith("oneDNN forward ") && impl.contains("backward data"), impl);
        } else {
            assertEquals("im2col + GEMM", impl);
        }
    }

    @Test
    void outputShapeFollowsCaffe() {
        Layer conv = layer("Convolution", "conv1", "\"num_output\":20,\"kernel_size\":5");
        Blob x = new Blob("data", 64, 1, 28, 28);
        Blob y = new Blob("conv1");
        conv.setUp(list(x), list(y));
        conv.reshape(list(x), list(y));
        assertArrayEquals(new int[] {64, 20, 24, 24}, y.shape());
        assertArrayEquals(new int[] {20, 1, 5, 5}, conv.params().get(0).shape());
        assertArrayEquals(new int[] {20}, conv.params().get(1).shape());
    }

    @Test
    void kernelLargerThanInputNamesTheLayer() {
        Layer conv = layer("Convolution", "conv2", "\"num_output\":2,\"kernel_size\":7");
        Blob x = new Blob("data", 1, 1, 5, 5);
        List<Blob> top = list(new Blob("y"));
        conv.setUp(list(x), top);
        var e = assertThrows(ShapeException.class, () -> conv.reshape(list(x), top));
        assertEquals("layer 'conv2' (Convolution) at conv2: kernel 7x7 (dilation 1x1) does not fit the padded input 5x5",
                e.getMessage());
    }

    @Test
    void badFieldsNameTheirJsonPath() {
        var e = assertThrows(ConfigException.class, () -> layer("Convolution", "c", "\"num_output\":0,\"kernel_size\":3"));
        assertEquals("c.num_output: must be > 0, got 0", e.getMessage());
        e = assertThrows(ConfigException.class, () -> layer("Convolution", "c", "\"num_output\":4,\"kernel_size\":3,\"pad\":-1"));
        assertEquals("c.pad: must be >= 0, got -1", e.getMessage());
        e = assertThrows(ConfigException.class, () -> layer("Convolution", "c", "\"num_output\":3,\"kernel_size\":3,\"group\":2"));
        assertEquals("c.group: num_output (3) must be divisible by group (2)", e.getMessage());
        e = assertThrows(ConfigException.class, () -> layer("Convolution", "c", "\"num_output\":3,\"kernel_sise\":3"));
        assertEquals("c.kernel_size: required", e.getMessage());
        e = assertThrows(ConfigException.class, () -> layer("Convolution", "c", "\"num_output\":3,\"kernel_size\":3,\"strde\":2"));
        assertEquals("c.strde: unknown field", e.getMessage());
    }
}
