package org.cortado.engine.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import org.cortado.engine.io.Npz;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Tensor;

/** Helpers for the loss layers' tests: PyTorch fixtures (written by make_loss_fixtures.py) and running a loss layer. */
final class LossFixtures {
    static final Path DIR = Path.of("src/test/resources/fixtures/layers/loss");

    private LossFixtures() {}

    static LinkedHashMap<String, Tensor> read(String file) {
        return Npz.read(DIR.resolve(file));
    }

    static Blob blob(String name, Tensor t) {
        Blob b = new Blob(name, t.shape());
        System.arraycopy(t.data(), 0, b.x(), 0, t.count());
        return b;
    }

    static Blob values(String name, float... v) {
        Blob b = new Blob(name, v.length);
        System.arraycopy(v, 0, b.x(), 0, v.length);
        return b;
    }

    /** Sets up, reshapes and runs forward; returns the loss. */
    static float forward(Layer l, List<Blob> bottom, Blob loss) {
        List<Blob> top = LayerTesting.list(loss);
        l.setUp(bottom, top);
        l.reshape(bottom, top);
        l.forward(bottom, top);
        assertEquals(0, loss.rank(), "the loss is a scalar");
        return loss.x()[0];
    }

    /** Runs backward with loss weight {@code w} into the bottoms flagged in {@code down}. */
    static void backward(Layer l, List<Blob> bottom, Blob loss, float w, boolean... down) {
        loss.dx()[0] = w;
        l.backward(LayerTesting.list(loss), down, bottom);
    }

    static void assertClose(Tensor expected, float[] actual, double tol, String what) {
        float[] e = expected.data();
        for (int i = 0; i < expected.count(); i++) {
            assertEquals(e[i], actual[i], tol * Math.max(1, Math.abs(e[i])), what + "[" + i + "]");
        }
    }

    static void assertScalar(Tensor expected, float actual, double tol) {
        assertArrayEquals(new int[0], expected.shape());
        assertEquals(expected.data()[0], actual, tol * Math.max(1, Math.abs(expected.data()[0])));
    }
}
