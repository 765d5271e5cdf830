package org.cortado.engine.tensor;

import org.cortado.engine.ShapeException;

/**
 * Caffe's blob: a named tensor of values ({@link #data()}) paired with a tensor of gradients
 * ({@link #diff()}) of the same shape. Layers read bottom data and write top data in forward; in
 * backward they read top diff and write bottom diff (and accumulate parameter diffs).
 */
public final class Blob {
    private final String name;
    private final Tensor data;
    private final Tensor diff;

    public Blob(String name, int... shape) {
        this.name = name;
        this.data = new Tensor(shape);
        this.diff = new Tensor(shape);
    }

    /** A blob over existing tensors (no copy), e.g. a pipeline stage's params handed to the optimizer. */
    public Blob(String name, Tensor data, Tensor diff) {
        if (!data.sameShape(diff)) {
            throw new ShapeException("blob '" + name + "': data " + data + " and diff " + diff + " differ in shape");
        }
        this.name = name;
        this.data = data;
        this.diff = diff;
    }

    public String name() {
        return name;
    }

    public Tensor data() {
        return data;
    }

    public Tensor diff() {
        return diff;
    }

    public void reshape(int... shape) {
        data.reshape(shape);
        diff.reshape(shape);
    }

    public void reshapeLike(Blob other) {
        reshape(other.shape());
    }

    public int[] shape() {
        return data.shape();
    }

    public int dim(int i) {
        return data.dim(i);
    }

    public int rank() {
        return data.rank();
    }

    public int count() {
        return data.count();
    }

    public int count(int from) {
        return data.count(from);
    }

    public int count(int from, int to) {
        return data.count(from, to);
    }

    /** Shortcut for {@code data().data()}. */
    public float[] x() {
        return data.data();
    }

    /** Shortcut for {@code diff().data()}. */
    public float[] dx() {
        return diff.data();
    }

    public void zeroDiff() {
        diff.fill(0f);
    }

    /** Checks this blob has exactly {@code shape}, naming {@code who} (a layer) in the error. */
    public void requireShape(String who, int... shape) {
        if (!java.util.Arrays.equals(shape(), shape)) {
            throw new ShapeException(who + ": blob '" + name + "' has shape " + Shapes.str(shape())
                    + ", expected " + Shapes.str(shape));
        }
    }

    @Override
    public String toString() {
        return name + Shapes.str(shape());
    }
}
