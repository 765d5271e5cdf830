package org.cortado.engine.layers;

import static org.cortado.engine.layers.LayerTesting.layer;
import static org.cortado.engine.layers.LayerTesting.list;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.cortado.engine.io.Npz;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Tensor;

/**
 * Shared checks of the activation layer tests: the PyTorch fixtures written by
 * {@code fixtures/layers/activation/make_activation_fixtures.py} ({@code x}, {@code y}, {@code dy},
 * {@code dx}, and for PReLU the slopes {@code w} and their gradient {@code dw}), and in place versus
 * out of place.
 */
final class ActivationFixtures {
    static final Path DIR = Path.of("src/test/resources/fixtures/layers/activation");

    private ActivationFixtures() {}

    static Blob blob(String name, Tensor t) {
        Blob b = new Blob(name, t.shape());
        System.arraycopy(t.data(), 0, b.x(), 0, t.count());
        return b;
    }

    /**
     * Builds {@code type} with {@code fields}, loads the fixture's slopes into param 0 if it has any,
     * runs forward on {@code x} and backward from {@code dy}, and compares {@code y}, {@code dx} and
     * {@code dw} with PyTorch's within {@code 2e-5} relative (at least {@code 2e-6} absolute).
     */
    static void matches(String file, String type, String fields) {
        Map<String, Tensor> f = Npz.read(DIR.resolve(file + ".npz"));
        Layer l = layer(type, file, fields);
        Blob x = blob("x", f.get("x"));
        Blob y = new Blob("y");
        l.setUp(list(x), list(y));
        if (f.containsKey("w")) {
            Blob w = l.params().get(0);
            assertEquals(f.get("w").count(), w.count(), file + ": slope count");
            System.arraycopy(f.get("w").data(), 0, w.x(), 0, w.count());
        }
        l.reshape(list(x), list(y));
        l.forward(list(x), list(y));
        assertArrayEquals(f.get("x").shape(), y.shape(), file + ": top shape");
        close(file + " y", f.get("y").data(), y.x());
        System.arraycopy(f.get("dy").data(), 0, y.dx(), 0, y.count());
        for (Blob p : l.params()) {
            p.zeroDiff();
        }
        l.backward(list(y), new boolean[] {true}, list(x));
        close(file + " dx", f.get("dx").data(), x.dx());
        if (f.containsKey("dw")) {
            close(file + " dw", f.get("dw").data(), l.params().get(0).dx());
        }
    }

    static void close(String what, float[] expected, float[] actual) {
        for (int i = 0; i < expected.length; i++) {
            double tol = Math.max(2e-6, 2e-5 * Math.abs(expected[i]));
            if (!(Math.abs(expected[i] - actual[i]) <= tol)) {
                fail(what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i]);
            }
        }
    }

    /** In place gives the same output, input gradient and param gradients as out of place. */
    static void inPlaceMatches(String type, String fields, Blob x0) {
        Blob dy = LayerTesting.uniform("dy", 7L, -1, 1, x0.shape());
        Layer a = layer(type, "act", fields); // the same name: the same filler stream
        assertTrue(a.allowsInPlace(), type + " allows in place");
        Blob x = new Blob("x", x0.shape());
        x.data().copyFrom(x0.data());
        Blob y = new Blob("y");
        List<Blob> bottom = list(x);
        a.setUp(bottom, list(y));
        a.reshape(bottom, list(y));
        a.forward(bottom, list(y));
        System.arraycopy(dy.x(), 0, y.dx(), 0, y.count());
        a.backward(list(y), new boolean[] {true}, bottom);

        Layer b = layer(type, "act", fields);
        Blob z = new Blob("z", x0.shape());
        z.data().copyFrom(x0.data());
        b.setUp(list(z), list(z));
        b.reshape(list(z), list(z));
        b.forward(list(z), list(z));
        assertArrayEquals(y.data().toArray(), z.data().toArray(), type + " in place: y");
        System.arraycopy(dy.x(), 0, z.dx(), 0, z.count());
        b.backward(list(z), new boolean[] {true}, list(z));
        assertArrayEquals(x.diff().toArray(), z.diff().toArray(), type + " in place: dx");
        for (int i = 0; i < a.params().size(); i++) {
            assertArrayEquals(a.params().get(i).diff().toArray(), b.params().get(i).diff().toArray(),
                    type + " in place: param " + i);
        }
    }
}
