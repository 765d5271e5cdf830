package org.cortado.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.cortado.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

class TensorCodecTest {

    private static TensorMessage sample() {
        Tensor t = new Tensor(new float[] {1.5f, -2f, Float.NaN, 3e-39f, Float.POSITIVE_INFINITY, -0f, 7, 8, 99}, 2, 1, 2, 2);
        return new TensorMessage("batch", new JsonObject().put("epoch", 3).put("index", 17).put("phase", "TRAIN"))
                .put("data", t) // capacity 9, count 8: only the first 8 values travel
                .putBytes("pixels", new byte[] {0, 1, (byte) 255, (byte) 128}, 1, 2, 2)
                .putInts("labels", new int[] {4, -1})
                .putLongs("ids", new long[] {Long.MAX_VALUE, 59_999});
    }

    @Test
    void localDeliveryHandsTheSameObjectOver() {
        TensorMessage m = sample();
        assertSame(m, new TensorCodec().transform(m));
    }

    @Test
    void attachmentsTravelLocallyButNeverOnTheWire() {
        Object gpuArray = new Object();
        TensorMessage m = sample().attach("conv1", gpuArray);
        assertSame(gpuArray, new TensorCodec().transform(m).attached("conv1", Object.class));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new TensorCodec().encodeToWire(Buffer.buffer(), m));
        assertEquals("a batch message holding [conv1] cannot leave this process (GPU arrays stay with their GPU)",
                e.getMessage());
    }

    @Test
    void wireFrameRoundTripsEveryDtypeBitForBit() {
        TensorMessage m = sample();
        Buffer buf = Buffer.buffer().appendString("junk");
        new TensorCodec().encodeToWire(buf, m);
        TensorMessage back = new TensorCodec().decodeFromWire(4, buf);
        assertEquals("batch", back.kind());
        assertEquals(m.header(), back.header());
        assertEquals(java.util.List.of("data", "pixels", "labels", "ids"), java.util.List.copyOf(back.arrays().keySet()));
        Tensor d = back.tensor("data");
        assertArrayEquals(new int[] {2, 1, 2, 2}, d.shape());
        assertEquals(8, d.data().length);
        for (int i = 0; i < 8; i++) {
            assertEquals(Float.floatToRawIntBits(m.tensor("data").data()[i]), Float.floatToRawIntBits(d.data()[i]), "element " + i);
        }
        assertArrayEquals(new byte[] {0, 1, (byte) 255, (byte) 128}, back.bytes("pixels"));
        assertArrayEquals(new int[] {1, 2, 2}, back.shape("pixels"));
        assertArrayEquals(new int[] {4, -1}, back.ints("labels"));
        assertArrayEquals(new long[] {Long.MAX_VALUE, 59_999}, back.longs("ids"));
    }

    @Test
    void aDirectBufferAndASliceOfOneRoundTripToo() {
        // The codec writes into and reads from a heap buffer's array in place; other buffers take a copy.
        Buffer direct = io.vertx.core.internal.buffer.BufferInternal.buffer(io.netty.buffer.Unpooled.directBuffer(16)).appendString("junk");
        new TensorCodec().encodeToWire(direct, sample());
        assertEquals(sample().header(), new TensorCodec().decodeFromWire(4, direct).header());
        assertArrayEquals(sample().longs("ids"), new TensorCodec().decodeFromWire(4, direct).longs("ids"));
        Buffer heap = Buffer.buffer().appendString("0123junk");
        new TensorCodec().encodeToWire(heap, sample());
        Buffer slice = heap.slice(4, heap.length()); // its array starts 4 bytes before it
        TensorMessage back = new TensorCodec().decodeFromWire(4, slice);
        assertArrayEquals(sample().bytes("pixels"), back.bytes("pixels"));
        assertArrayEquals(java.util.Arrays.copyOf(sample().tensor("data").data(), 8), back.tensor("data").data());
    }

    @Test
    void frameLayoutIsLittleEndianWithMagicAndVersion() {
        byte[] f = TensorCodec.encode(new TensorMessage("x", new JsonObject()).put("t", new Tensor(new float[] {1f}, 1)));
        ByteBuffer b = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(TensorCodec.MAGIC, b.getInt());
        assertEquals("CTDO", new String(f, 0, 4, java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals(1, b.getShort());
        assertEquals(1, b.getShort()); // kind length
        assertEquals('x', b.get());
        int headerLength = b.getInt();
        assertEquals("{}", new String(f, b.position(), headerLength, java.nio.charset.StandardCharsets.UTF_8));
        b.position(b.position() + headerLength);
        assertEquals(1, b.getInt()); // arrays
        assertEquals(1, b.getShort());
        assertEquals('t', b.get());
        assertEquals(0, b.get()); // float32
        assertEquals(1, b.get()); // rank
        assertEquals(1, b.getInt());
        assertEquals(1f, b.getFloat());
        assertEquals(f.length, b.position());
    }

    @Test
    void foreignOrNewerFramesAreRejectedWithAReason() {
        byte[] f = TensorCodec.encode(sample());
        byte[] newer = f.clone();
        newer[4] = 2;
        var e = assertThrows(IllegalArgumentException.class, () -> TensorCodec.decode(newer));
        assertTrue(e.getMessage().contains("version 2"), e.getMessage());
        byte[] foreign = f.clone();
        foreign[0] = 'X';
        e = assertThrows(IllegalArgumentException.class, () -> TensorCodec.decode(foreign));
        assertTrue(e.getMessage().contains("magic"), e.getMessage());
    }
}
