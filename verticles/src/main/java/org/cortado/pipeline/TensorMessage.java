package org.cortado.pipeline;

import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.SequencedMap;
import org.cortado.engine.tensor.Tensor;

/**
 * What the pipeline's verticles send each other: a kind, a small JSON header (epoch, batch index,
 * step, micro-batch, phase, ...) and named arrays. Arrays are float32 tensors, or uint8, int32 and
 * int64 arrays (raw image batches travel as uint8, sample ids as int64).
 *
 * <p><b>Ownership.</b> Inside one process {@link TensorCodec} hands this very object to the receiver:
 * no copy, so the sender must not touch the arrays after sending. Across the cluster it travels as a
 * versioned binary frame ({@link TensorCodec}).
 *
 * <p><b>Attachments</b> are objects that only make sense in this process, such as GPU arrays between
 * stages on the same GPU: they travel with the message locally, and a message holding any is refused
 * on the wire.
 */
public final class TensorMessage {
    /** Element types of the arrays; the codes are the wire format's. */
    public enum DType {
        F32(0, 4), U8(1, 1), I32(2, 4), I64(3, 8);

        final int code;
        final int size;

        DType(int code, int size) {
            this.code = code;
            this.size = size;
        }

        static DType of(int code) {
            for (DType d : values()) {
                if (d.code == code) {
                    return d;
                }
            }
            throw new IllegalArgumentException("unknown dtype code " + code);
        }
    }

    /** One array: its type, shape and storage ({@code float[]}, {@code byte[]}, {@code int[]} or {@code long[]}). */
    public record Array(DType dtype, int[] shape, Object data) {
        public Array {
            shape = shape.clone();
            int n = count(shape);
            int len = switch (dtype) {
                case F32 -> ((float[]) data).length;
                case U8 -> ((byte[]) data).length;
                case I32 -> ((int[]) data).length;
                case I64 -> ((long[]) data).length;
            };
            if (len < n) {
                throw new IllegalArgumentException(dtype + " array of " + len + " elements is too small for shape "
                        + Arrays.toString(shape));
            }
        }

        public int count() {
            return count(shape);
        }

        static int count(int[] shape) {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return Math.toIntExact(n);
        }
    }

    private final String kind;
    private final JsonObject header;
    private final SequencedMap<String, Array> arrays;
    private final Map<String, Object> attachments = new LinkedHashMap<>();

    public TensorMessage(String kind, JsonObject header) {
        this(kind, header, new LinkedHashMap<>());
    }

    TensorMessage(String kind, JsonObject header, SequencedMap<String, Array> arrays) {
        this.kind = Objects.requireNonNull(kind, "kind");
        this.header = header == null ? new JsonObject() : header;
        this.arrays = arrays;
    }

    public String kind() {
        return kind;
    }

    public JsonObject header() {
        return header;
    }

    public SequencedMap<String, Array> arrays() {
        return arrays;
    }

    public boolean has(String name) {
        return arrays.containsKey(name);
    }

    /** Adds a float32 tensor (its first {@code count()} values; the storage is shared, not copied). */
    public TensorMessage put(String name, Tensor t) {
        arrays.put(name, new Array(DType.F32, t.shape(), t.data()));
        return this;
    }

    public TensorMessage putBytes(String name, byte[] data, int... shape) {
        arrays.put(name, new Array(DType.U8, shape, data));
        return this;
    }

    public TensorMessage putInts(String name, int[] data) {
        arrays.put(name, new Array(DType.I32, new int[] {data.length}, data));
        return this;
    }

    public TensorMessage putLongs(String name, long[] data) {
        arrays.put(name, new Array(DType.I64, new int[] {data.length}, data));
        return this;
    }

    /** Attaches a process-local object (the receiver takes it over, as it takes the arrays). */
    public TensorMessage attach(String name, Object value) {
        attachments.put(name, Objects.requireNonNull(value, name));
        return this;
    }

    /** The attachment {@code name}, or null when there is none. */
    public <T> T attached(String name, Class<T> type) {
        return type.cast(attachments.get(name));
    }

    /** The names of the attachments (empty for every message that can cross the cluster). */
    public java.util.Set<String> attachmentNames() {
        return java.util.Collections.unmodifiableSet(attachments.keySet());
    }

    private Array get(String name, DType want) {
        Array a = arrays.get(name);
        if (a == null) {
            throw new IllegalArgumentException(kind + " message has no array \"" + name + "\"; it has " + arrays.keySet());
        }
        if (a.dtype() != want) {
            throw new IllegalArgumentException(kind + " message: array \"" + name + "\" is " + a.dtype() + ", not " + want);
        }
        return a;
    }

    /** A float32 array as a tensor over the same storage. */
    public Tensor tensor(String name) {
        Array a = get(name, DType.F32);
        return new Tensor((float[]) a.data(), a.shape());
    }

    public byte[] bytes(String name) {
        return (byte[]) get(name, DType.U8).data();
    }

    public int[] shape(String name) {
        Array a = arrays.get(name);
        if (a == null) {
            throw new IllegalArgumentException(kind + " message has no array \"" + name + "\"");
        }
        return a.shape().clone();
    }

    public int[] ints(String name) {
        return (int[]) get(name, DType.I32).data();
    }

    public long[] longs(String name) {
        return (long[]) get(name, DType.I64).data();
    }

    /** The float32 arrays, by name, as tensors over the same storage. */
    public Map<String, Tensor> tensors() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : arrays.entrySet()) {
            if (e.getValue().dtype() == DType.F32) {
                out.put(e.getKey(), tensor(e.getKey()));
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return kind + header.encode() + arrays.keySet() + (attachments.isEmpty() ? "" : " attached " + attachments.keySet());
    }
}
