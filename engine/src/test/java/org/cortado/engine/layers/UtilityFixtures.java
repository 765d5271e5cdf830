package org.cortado.engine.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.cortado.engine.io.Npz;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Tensor;

/**
 * Reads the PyTorch reference values of the utility layers, written by
 * {@code src/test/resources/fixtures/layers/utility/make_utility_fixtures.py}, and runs layers on them.
 */
final class UtilityFixtures {
    static final Path DIR = Path.of("src/test/resources/fixtures/layers/utility");

    private UtilityFixtures() {}

    static Map<String, Tensor> load(String name) {
        return Npz.read(DIR.resolve(name + ".npz"));
    }

    /** A blob holding a copy of {@code t}. */
    static Blob blob(String name, Tensor t) {
        Blob b = new Blob(name, t.shape());
        b.data().copyFrom(t);
        return b;
    }

    static void run(Layer l, List<Blob> bottom, List<Blob> top) {
        l.setUp(bottom, top);
        l.reshape(bottom, top);
        l.forward(bottom, top);
    }

    /** Puts {@code dy} into the top's diff. */
    static void setDiff(Blob top, Tensor dy) {
        assertArrayEquals(dy.shape(), top.shape(), "shape of " + top.name());
        System.arraycopy(dy.data(), 0, top.dx(), 0, dy.count());
    }

    /** Same shape and values within {@code tol}. */
    static void assertClose(Tensor expected, int[] shape, float[] actual, double tol, String what) {
        assertArrayEquals(expected.shape(), shape, "shape of " + what);
        for (int i = 0; i < expected.count(); i++) {
            assertEquals(expected.get(i), actual[i], tol, what + "[" + i + "] of " + Arrays.toString(shape));
        }
    }

    static void assertData(Tensor expected, Blob b, double tol) {
        assertClose(expected, b.shape(), b.x(), tol, b.name() + " data");
    }

    static void assertDiff(Tensor expected, Blob b, double tol) {
        assertClose(expected, b.shape(), b.dx(), tol, b.name() + " diff");
    }
}
