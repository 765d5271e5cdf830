package org.cortado.pipeline;

import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.SequencedMap;

/**
 * The event-bus codec of {@link TensorMessage}, the one codec every tensor travels through.
 *
 * <p><b>Locally</b> ({@link #transform}) the message object itself is handed to the receiver: zero
 * copy, and the sender gives up the arrays.
 *
 * <p><b>On the wire</b> a message is one frame, all integers little-endian:
 * <pre>
 *   int32  length of the rest of the frame (bytes)
 *   int32  magic 0x4F445443 ("CTDO" in file order)
 *   uint16 version (1)
 *   uint16 + UTF-8   kind
 *   int32  + UTF-8   header (JSON)
 *   int32  number of arrays, then per array:
 *     uint16 + UTF-8 name
 *     uint8  dtype (0 float32, 1 uint8, 2 int32, 3 int64)
 *     uint8  rank, then rank x int32 dims
 *     count x element, little-endian
 * </pre>
 * A frame of another magic or a newer version is rejected with a message saying so. A message with
 * {@linkplain TensorMessage#attach attachments} (GPU arrays) is refused: those never leave the process.
 *
 * <p>The frame is written straight into the event bus's buffer and read straight out of the one it
 * receives (through Vert.x's {@code BufferInternal}, whose heap array Netty exposes): each tensor is
 * copied once on each side, as a socket write and read copy it, not three times.
 */
public final class TensorCodec implements MessageCodec<TensorMessage, TensorMessage> {
    public static final String NAME = "cortado-tensor";
    public static final int MAGIC = 0x4F445443;
    public static final int VERSION = 1;

    /** Registers the codec as the default for {@link TensorMessage} (idempotent per event bus is the caller's job). */
    public static void register(EventBus bus) {
        bus.registerDefaultCodec(TensorMessage.class, new TensorCodec());
    }

    @Override
    public void encodeToWire(Buffer buffer, TensorMessage m) {
        if (!m.attachmentNames().isEmpty()) {
            throw new IllegalStateException("a " + m.kind() + " message holding " + m.attachmentNames()
                    + " cannot leave this process (GPU arrays stay with their GPU)");
        }
        Frame f = new Frame(m);
        buffer.appendIntLE(f.size);
        int at = buffer.length();
        if (buffer instanceof BufferInternal internal && internal.unwrap().hasArray()) {
            // Straight into the buffer's heap array: one copy of the tensors, as a socket write makes.
            ByteBuf bb = internal.unwrap();
            if (bb.writableBytes() < f.size) {
                bb.capacity(bb.writerIndex() + f.size); // exactly (ensureWritable would round 1 MiB up to 2)
            }
            f.write(ByteBuffer.wrap(bb.array(), bb.arrayOffset() + bb.writerIndex(), f.size).slice());
            bb.writerIndex(bb.writerIndex() + f.size);
        } else {
            ByteBuffer b = ByteBuffer.allocate(f.size);
            f.write(b);
            buffer.setBytes(at, b.flip());
        }
    }

    @Override
    public TensorMessage decodeFromWire(int pos, Buffer buffer) {
        int length = buffer.getIntLE(pos);
        if (buffer instanceof BufferInternal internal && internal.unwrap().hasArray()) {
            ByteBuf bb = internal.unwrap();
            return decode(ByteBuffer.wrap(bb.array(), bb.arrayOffset() + pos + 4, length).slice()); // Netty get* indices are absolute
        }
        return decode(ByteBuffer.wrap(buffer.getBytes(pos + 4, pos + 4 + length)));
    }

    @Override
    public TensorMessage transform(TensorMessage m) {
        return m;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public byte systemCodecID() {
        return -1;
    }

    /** The frame of {@code m}, without the leading length. */
    public static byte[] encode(TensorMessage m) {
        Frame f = new Frame(m);
        ByteBuffer b = ByteBuffer.allocate(f.size);
        f.write(b);
        return b.array();
    }

    /** A message's frame: its size worked out first, so it can be written in one pass where it goes. */
    private static final class Frame {
        final TensorMessage m;
        final byte[] kind;
        final byte[] header;
        final int size;

        Frame(TensorMessage m) {
            this.m = m;
            kind = m.kind().getBytes(StandardCharsets.UTF_8);
            header = m.header().encode().getBytes(StandardCharsets.UTF_8);
            long size = 4 + 2 + 2 + kind.length + 4 + header.length + 4;
            for (var e : m.arrays().entrySet()) {
                var a = e.getValue();
                size += 2 + e.getKey().getBytes(StandardCharsets.UTF_8).length + 2 + 4L * a.shape().length
                        + (long) a.count() * a.dtype().size;
            }
            if (size > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("message " + m.kind() + " of " + size + " bytes is too large for one frame");
            }
            this.size = (int) size;
        }

        /** Writes the frame at {@code b}'s position ({@code b} has room for {@link #size} bytes). */
        void write(ByteBuffer b) {
            b.order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(MAGIC).putShort((short) VERSION);
            b.putShort((short) kind.length).put(kind);
            b.putInt(header.length).put(header);
            b.putInt(m.arrays().size());
            for (var e : m.arrays().entrySet()) {
                byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
                var a = e.getValue();
                b.putShort((short) name.length).put(name);
                b.put((byte) a.dtype().code).put((byte) a.shape().length);
                for (int d : a.shape()) {
                    b.putInt(d);
                }
                int n = a.count();
                switch (a.dtype()) {
                    case F32 -> {
                        b.asFloatBuffer().put((float[]) a.data(), 0, n);
                        b.position(b.position() + 4 * n);
                    }
                    case U8 -> b.put((byte[]) a.data(), 0, n);
                    case I32 -> {
                        b.asIntBuffer().put((int[]) a.data(), 0, n);
                        b.position(b.position() + 4 * n);
                    }
                    case I64 -> {
                        b.asLongBuffer().put((long[]) a.data(), 0, n);
                        b.position(b.position() + 8 * n);
                    }
                }
            }
        }
    }

    /** Reads a frame written by {@link #encode}. */
    public static TensorMessage decode(byte[] frame) {
        return decode(ByteBuffer.wrap(frame));
    }

    /** Reads the frame in {@code b} (from its position to its limit). */
    private static TensorMessage decode(ByteBuffer b) {
        b.order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < 6 || b.getInt() != MAGIC) {
            throw new IllegalArgumentException("not a Cortado tensor frame (bad magic)");
        }
        int version = Short.toUnsignedInt(b.getShort());
        if (version != VERSION) {
            throw new IllegalArgumentException("tensor frame version " + version + "; this Cortado reads version " + VERSION
                    + " (all nodes of a cluster must run the same Cortado)");
        }
        String kind = string(b, Short.toUnsignedInt(b.getShort()));
        JsonObject header = new JsonObject(string(b, b.getInt()));
        int count = b.getInt();
        SequencedMap<String, TensorMessage.Array> arrays = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            String name = string(b, Short.toUnsignedInt(b.getShort()));
            TensorMessage.DType dtype = TensorMessage.DType.of(b.get());
            int[] shape = new int[Byte.toUnsignedInt(b.get())];
            for (int d = 0; d < shape.length; d++) {
                shape[d] = b.getInt();
            }
            int n = TensorMessage.Array.count(shape);
            Object data = switch (dtype) {
                case F32 -> {
                    float[] f = new float[n];
                    b.asFloatBuffer().get(f);
                    b.position(b.position() + 4 * n);
                    yield f;
                }
                case U8 -> {
                    byte[] u = new byte[n];
                    b.get(u);
                    yield u;
                }
                case I32 -> {
                    int[] v = new int[n];
                    b.asIntBuffer().get(v);
                    b.position(b.position() + 4 * n);
                    yield v;
                }
                case I64 -> {
                    long[] v = new long[n];
                    b.asLongBuffer().get(v);
                    b.position(b.position() + 8 * n);
                    yield v;
                }
            };
            arrays.put(name, new TensorMessage.Array(dtype, shape, data));
        }
        return new TensorMessage(kind, header, arrays);
    }

    private static String string(ByteBuffer b, int len) {
        byte[] s = new byte[len];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }
}
