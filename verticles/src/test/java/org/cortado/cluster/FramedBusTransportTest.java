package org.cortado.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.io.OutputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.cortado.engine.config.ClusterConfig;
import org.cortado.pipeline.TensorCodec;
import org.cortado.pipeline.TensorMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The event bus over {@link FramedBusTransport}: messages of every size, alone and in bursts that
 * share the socket's reads, cross intact and in order; the connections to the event-bus server are
 * the ones framed, an HTTP server on the same Vert.x is not touched, and bytes that are not an event
 * bus frame cost the sender its connection, not the node its event bus.
 */
class FramedBusTransportTest {
    private static final String ECHO = "cortado.test.framed";
    private final int port = 20000 + new Random().nextInt(20000);
    private final List<Cluster> members = new ArrayList<>();
    private Cluster a;
    private Cluster b;

    @BeforeEach
    void join() throws Exception {
        String name = "framed-" + port;
        a = Cluster.join(new ClusterConfig(name, "127.0.0.1", port, List.of("127.0.0.1:" + port), 1, 4), s -> { });
        members.add(a);
        b = Cluster.join(new ClusterConfig(name, "127.0.0.1", port + 1, List.of("127.0.0.1:" + port), 1, 4), s -> { });
        members.add(b);
        for (Cluster c : members) {
            TensorCodec.register(c.vertx().eventBus());
        }
        // b answers each batch with its size and CRC, so a can check every byte that crossed
        b.vertx().eventBus().<TensorMessage>consumer(ECHO, m -> {
            byte[] data = (byte[]) m.body().arrays().get("pixels").data();
            m.reply(new JsonObject().put("n", data.length).put("crc", crc(data)).put("seq", m.body().header().getInteger("seq")));
        }).completion().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        long end = System.nanoTime() + 30_000_000_000L;
        while (true) { // a remote consumer is reachable a moment after the join
            try {
                send(new byte[1], -1).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
                break;
            } catch (Exception e) {
                if (System.nanoTime() > end) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }

    @AfterEach
    void leave() throws Exception {
        for (Cluster c : members) {
            c.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    private Future<JsonObject> send(byte[] data, int seq) {
        TensorMessage m = new TensorMessage("raw", new JsonObject().put("seq", seq)).putBytes("pixels", data, data.length);
        return a.vertx().eventBus().<JsonObject>request(ECHO, m, new DeliveryOptions().setSendTimeout(30_000)).map(r -> r.body());
    }

    private static long crc(byte[] data) {
        CRC32 crc = new CRC32();
        crc.update(data);
        return crc.getValue();
    }

    @Test
    void messagesOfEverySizeCrossIntactAloneAndInBursts() throws Exception {
        Random random = new Random(7);
        int[] sizes = {0, 1, 3, 4095, 65_536 - 200, 65_536, 65_537, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 7};
        List<byte[]> sent = new ArrayList<>();
        for (int round = 0; round < 2; round++) {
            for (int size : sizes) {
                byte[] data = new byte[size];
                random.nextBytes(data);
                sent.add(data);
            }
        }
        for (int i = 0; i < 300; i++) { // many small ones: several frames to a read
            byte[] data = new byte[random.nextInt(300)];
            random.nextBytes(data);
            sent.add(data);
        }
        // one at a time, then all at once
        for (int i = 0; i < sizes.length; i++) {
            JsonObject r = send(sent.get(i), i).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertEquals(sent.get(i).length, r.getInteger("n"), "size of message " + i);
            assertEquals(crc(sent.get(i)), r.getLong("crc"), "bytes of message " + i + " (" + sent.get(i).length + " bytes)");
        }
        long framesBefore = b.transport().frames();
        List<Future<JsonObject>> replies = new ArrayList<>();
        for (int i = 0; i < sent.size(); i++) {
            replies.add(send(sent.get(i), i));
        }
        for (int i = 0; i < sent.size(); i++) {
            JsonObject r = replies.get(i).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
            assertEquals(i, r.getInteger("seq"));
            assertEquals(sent.get(i).length, r.getInteger("n"), "size of message " + i);
            assertEquals(crc(sent.get(i)), r.getLong("crc"), "bytes of message " + i + " (" + sent.get(i).length + " bytes)");
        }
        assertTrue(b.transport().framedConnections() >= 1, "a's connection to b's event bus was framed");
        assertTrue(b.transport().frames() - framesBefore >= sent.size(),
                "each message reached b's event bus through the frame decoder: " + (b.transport().frames() - framesBefore));
        assertTrue(a.transport().framedConnections() >= 1, "b's connection to a's event bus (the replies) was framed");
    }

    @Test
    void anHttpServerOnTheSameVertxIsNotFramed() throws Exception {
        int framed = a.transport().framedConnections();
        var server = a.vertx().createHttpServer().requestHandler(req -> req.response().end("served"))
                .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        var client = b.vertx().createHttpClient();
        String body = client.request(HttpMethod.GET, server.actualPort(), "127.0.0.1", "/")
                .compose(req -> req.send().compose(resp -> resp.body()))
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).toString();
        assertEquals("served", body);
        assertEquals(framed, a.transport().framedConnections(), "the HTTP connection was left as Vert.x made it");
        assertFalse(a.vertx().isNativeTransportEnabled(), "Vert.x still sees its NIO transport");
        client.close();
        server.close();
    }

    @Test
    void bytesThatAreNotAFrameCloseTheirConnectionAndTheEventBusGoesOn() throws Exception {
        String bus = a.eventBusAddress();
        int busPort = Integer.parseInt(bus.substring(bus.lastIndexOf(':') + 1));
        try (Socket s = new Socket("127.0.0.1", busPort)) {
            s.setSoTimeout(10_000);
            OutputStream o = s.getOutputStream();
            o.write(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xF0, 1, 2, 3}); // a negative length
            o.flush();
            int got;
            try {
                got = s.getInputStream().read();
            } catch (java.net.SocketException reset) { // closed with bytes unread: a reset rather than an end
                got = -1;
            }
            assertEquals(-1, got, "the node closed the connection that sent a negative frame length");
        }
        byte[] data = new byte[100_000];
        new Random(3).nextBytes(data);
        JsonObject r = send(data, 1).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertEquals(crc(data), r.getLong("crc"), "the event bus still carries messages");
    }
}
