package org.cortado.engine.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import org.cortado.engine.io.Npz;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Tensor;

/** The PyTorch fixtures of the normalization layers (written by make_normalization_fixtures.py). */
final class NormalizationFixtures {
    private static final Path DIR = Path.of("src/test/resources/fixtures/layers/normalization");

    private NormalizationFixtures() {}

    static LinkedHashMap<String, Tensor> read(String name) {
        return Npz.read(DIR.resolve(name + ".npz"));
    }

    /** A blob holding a copy of {@code t}. */
    static Blob blob(String name, Tensor t) {
        Blob b = new Blob(name, t.shape());
        b.data().copyFrom(t);
        return b;
    }

    static void assertClose(String what, Tensor expected, float[] actual, float tol) {
        float[] e = expected.toArray();
        float[] a = java.util.Arrays.copyOf(actual, e.length);
        assertArrayEquals(e, a, tol, what);
    }
}
