package org.cortado.engine.tensor;

import java.util.Arrays;
import org.cortado.engine.ShapeException;

/**
 * A float32 tensor: a shape (NCHW for images) over contiguous row-major storage.
 *
 * <p>Storage is a heap {@code float[]} on the CPU. Its length is the tensor's <em>capacity</em>: a
 * reshape to a smaller or equal count keeps the array (as Caffe's Blob does), so always loop to
 * {@link #count()}, never to {@code data().length}. Heap arrays go to OpenBLAS without copying
 * (FFM critical calls, see {@code ops.Blas}).
 */
public final class Tensor {
    private int[] shape;
    private int count;
    private float[] data;

    public Tensor(int... shape) {
        this.shape = shape.clone();
        this.count = Shapes.count(this.shape);
        this.data = new float[count];
    }

    /** Wraps an existing array (no copy); its length must be at least the shape's count. */
    public Tensor(float[] data, int... shape) {
        int n = Shapes.count(shape);
        if (data.length < n) {
            throw new ShapeException("array of " + data.length + " floats is too small for shape " + Shapes.str(shape));
        }
        this.shape = shape.clone();
        this.count = n;
        this.data = data;
    }

    public static Tensor scalar(float v) {
        Tensor t = new Tensor(new int[0]);
        t.data[0] = v;
        return t;
    }

    /** Changes the shape; keeps the storage (and its values) when it is large enough. */
    public void reshape(int... newShape) {
        int n = Shapes.count(newShape);
        this.shape = newShape.clone();
        this.count = n;
        if (data.length < n) {
            data = new float[n];
        }
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Dimension {@code i}; negative indexes count from the end, as in Caffe and numpy. */
    public int dim(int i) {
        return shape[Shapes.axis(i, shape.length)];
    }

    public int count() {
        return count;
    }

    /** Product of dimensions {@code [from, to)}. */
    public int count(int from, int to) {
        return Shapes.count(shape, from, to);
    }

    /** Product of dimensions from {@code from} to the end. */
    public int count(int from) {
        return Shapes.count(shape, from, shape.length);
    }

    /** The storage; valid elements are {@code [0, count())}. */
    public float[] data() {
        return data;
    }

    public float get(int i) {
        return data[i];
    }

    public void set(int i, float v) {
        data[i] = v;
    }

    public void fill(float v) {
        Arrays.fill(data, 0, count, v);
    }

    public void copyFrom(Tensor other) {
        if (other.count != count) {
            throw new ShapeException("cannot copy " + Shapes.str(other.shape) + " into " + Shapes.str(shape));
        }
        System.arraycopy(other.data, 0, data, 0, count);
    }

    public Tensor copy() {
        return new Tensor(Arrays.copyOf(data, count), shape);
    }

    /** The valid elements as a fresh array. */
    public float[] toArray() {
        return Arrays.copyOf(data, count);
    }

    public boolean sameShape(Tensor other) {
        return Arrays.equals(shape, other.shape);
    }

    @Override
    public String toString() {
        return "Tensor" + Shapes.str(shape);
    }
}
