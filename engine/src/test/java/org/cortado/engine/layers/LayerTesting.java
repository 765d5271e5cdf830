package org.cortado.engine.layers;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.cortado.engine.net.Phase;
import org.cortado.engine.ops.Parallel;
import org.cortado.engine.tensor.Blob;

/** Small helpers for layer tests: contexts, blobs of random values, layers built from JSON fields. */
public final class LayerTesting {
    /** Two threads, so the parallel paths are exercised even in tests. */
    public static final Parallel PAR = new Parallel(2);

    private LayerTesting() {}

    public static LayerContext ctx(Phase phase) {
        return new LayerContext(phase, PAR, 42);
    }

    public static LayerContext ctx() {
        return ctx(Phase.TRAIN);
    }

    /** Builds a layer the way the net does (unknown fields rejected). */
    public static Layer layer(String type, String name, String jsonFields) {
        return LayerRegistry.create(LayerConfig.of(type, name, jsonFields), ctx());
    }

    public static Layer layer(String type, String name, String jsonFields, Phase phase) {
        return LayerRegistry.create(LayerConfig.of(type, name, jsonFields), ctx(phase));
    }

    /** A blob of U(lo, hi) values from {@code seed} (named apart from {@link #random(String, int...)}, whose
     *  int varargs would otherwise swallow a call with int literals). */
    public static Blob uniform(String name, long seed, double lo, double hi, int... shape) {
        Blob b = new Blob(name, shape);
        Random r = new Random(seed);
        for (int i = 0; i < b.count(); i++) {
            b.x()[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return b;
    }

    public static Blob random(String name, int... shape) {
        return uniform(name, name.hashCode(), -1, 1, shape);
    }

    /** Sets {@code l} up on bottom {@code x} and top {@code y} (plus {@code extraTops}), runs forward, returns {@code y}. */
    public static Blob forward(Layer l, Blob x, Blob... extraTops) {
        Blob y = new Blob("y");
        List<Blob> top = list(y);
        top.addAll(List.of(extraTops));
        l.setUp(list(x), top);
        l.reshape(list(x), top);
        l.forward(list(x), top);
        return y;
    }

    public static List<Blob> list(Blob... blobs) {
        return new ArrayList<>(List.of(blobs));
    }
}
