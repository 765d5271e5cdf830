package org.cortado.engine.data;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.cortado.engine.tensor.Shapes;

/**
 * An n-d array held in memory: raw element bytes, C order, in {@code data.order()}. What importers
 * build and writers write; as an {@link ArrayReader} it also stands in for a file in tests.
 *
 * @param source names the array in error messages
 * @param dtype  element type
 * @param shape  dimensions; {@code shape[0]} counts rows
 * @param data   {@code count(shape) * dtype.size} bytes from position 0, in its own byte order
 */
public record NdArray(String source, DType dtype, int[] shape, ByteBuffer data) implements ArrayReader {

    public NdArray {
        shape = shape.clone();
        long need = (long) Shapes.count(shape) * dtype.size;
        if (data.capacity() != need) {
            throw new IllegalArgumentException(source + ": " + data.capacity() + " bytes for shape "
                    + Arrays.toString(shape) + " of " + dtype.numpyName() + " (" + need + " expected)");
        }
    }

    /** A uint8 array over {@code bytes} (no copy). */
    public static NdArray ofBytes(String source, byte[] bytes, int... shape) {
        return new NdArray(source, DType.U1, shape, ByteBuffer.wrap(bytes));
    }

    /** A little-endian float32 array copied from {@code values}. */
    public static NdArray ofFloats(String source, float[] values, int... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return new NdArray(source, DType.F4, shape, b);
    }

    /** A little-endian int64 array copied from {@code values} (numpy's default integer, for labels). */
    public static NdArray ofLongs(String source, long[] values, int... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        return new NdArray(source, DType.I8, shape, b);
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public ByteBuffer rows(int start, int count) {
        int rowBytes = rowElements() * dtype.size;
        java.util.Objects.checkFromIndexSize(start, count, rows());
        return data.slice(start * rowBytes, count * rowBytes).order(data.order());
    }

    /** The elements as float32, C order. */
    public float[] toFloats() {
        float[] out = new float[Shapes.count(shape)];
        dtype.toFloat(data, 0, out, 0, out.length);
        return out;
    }

    @Override
    public void close() {}
}
