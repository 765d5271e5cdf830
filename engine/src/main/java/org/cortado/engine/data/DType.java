package org.cortado.engine.data;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The element types a data file may hold (numpy's names: {@code u1 i1 i2 i4 i8 f2 f4 f8 b1}).
 *
 * <p>Conversions read from a {@link ByteBuffer} whose {@link ByteBuffer#order() order} is the
 * file's byte order, at absolute element indexes, so one code path serves little- and big-endian
 * files, memory-mapped or in memory.
 */
public enum DType {
    BOOL('b', 1),
    U1('u', 1),
    I1('i', 1),
    I2('i', 2),
    I4('i', 4),
    I8('i', 8),
    F2('f', 2),
    F4('f', 4),
    F8('f', 8);

    /** numpy's kind character: {@code b} bool, {@code u} unsigned, {@code i} signed, {@code f} float. */
    public final char kind;
    /** Bytes per element. */
    public final int size;

    DType(char kind, int size) {
        this.kind = kind;
        this.size = size;
    }

    /** The dtype of numpy's kind and size ({@code 'u', 1} is uint8), or null if not one of ours. */
    public static DType of(char kind, int size) {
        for (DType d : values()) {
            if (d.kind == kind && d.size == size) {
                return d;
            }
        }
        return null;
    }

    public boolean isFloat() {
        return kind == 'f';
    }

    /** numpy's type string, e.g. {@code |u1}, {@code <f4}, {@code >i2}; single bytes have no order. */
    public String numpyDescr(ByteOrder order) {
        char o = size == 1 ? '|' : order == ByteOrder.LITTLE_ENDIAN ? '<' : '>';
        return "" + o + kind + size;
    }

    /** numpy's dtype name: {@code uint8}, {@code float32}, {@code bool}. */
    public String numpyName() {
        return switch (this) {
            case BOOL -> "bool";
            case U1 -> "uint8";
            case I1 -> "int8";
            case I2 -> "int16";
            case I4 -> "int32";
            case I8 -> "int64";
            case F2 -> "float16";
            case F4 -> "float32";
            case F8 -> "float64";
        };
    }

    /** Element {@code index} of {@code src} as a double (exact for every integer up to 2^53). */
    public double get(ByteBuffer src, int index) {
        int at = index * size;
        return switch (this) {
            case BOOL -> src.get(at) != 0 ? 1 : 0;
            case U1 -> src.get(at) & 0xff;
            case I1 -> src.get(at);
            case I2 -> src.getShort(at);
            case I4 -> src.getInt(at);
            case I8 -> src.getLong(at);
            case F2 -> Float.float16ToFloat(src.getShort(at));
            case F4 -> src.getFloat(at);
            case F8 -> src.getDouble(at);
        };
    }

    /**
     * Converts {@code n} elements of {@code src}, from element {@code srcIndex}, to doubles (exact
     * for every integer up to 2^53): for labels, which must be checked to be whole numbers.
     */
    public void toDouble(ByteBuffer src, int srcIndex, double[] dst, int dstOffset, int n) {
        ByteBuffer b = src.slice(srcIndex * size, n * size).order(src.order());
        switch (this) {
            case I8 -> {
                long[] v = new long[n];
                b.asLongBuffer().get(v);
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = v[i];
                }
            }
            case I4 -> {
                int[] v = new int[n];
                b.asIntBuffer().get(v);
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = v[i];
                }
            }
            case F8 -> b.asDoubleBuffer().get(dst, dstOffset, n);
            default -> {
                float[] v = new float[n]; // exact: every other type fits float32 without rounding
                toFloat(b, 0, v, 0, n);
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = v[i];
                }
            }
        }
    }

    /**
     * Converts {@code n} elements of {@code src}, starting at element {@code srcIndex}, to float32
     * into {@code dst[dstOffset..]}. Does not move the buffer's position.
     */
    public void toFloat(ByteBuffer src, int srcIndex, float[] dst, int dstOffset, int n) {
        int at = srcIndex * size;
        switch (this) {
            case F4 -> src.slice(at, n * 4).order(src.order()).asFloatBuffer().get(dst, dstOffset, n);
            case U1 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = src.get(at + i) & 0xff;
                }
            }
            case BOOL -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = src.get(at + i) != 0 ? 1f : 0f;
                }
            }
            case I1 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = src.get(at + i);
                }
            }
            case I2 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = src.getShort(at + 2 * i);
                }
            }
            case I4 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = src.getInt(at + 4 * i);
                }
            }
            case I8 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = src.getLong(at + 8 * i);
                }
            }
            case F2 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = Float.float16ToFloat(src.getShort(at + 2 * i));
                }
            }
            case F8 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = (float) src.getDouble(at + 8 * i);
                }
            }
        }
    }
}
