package org.cortado.cluster;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.cortado.engine.config.ClusterConfig;
import org.cortado.pipeline.TensorCodec;
import org.cortado.pipeline.TensorMessage;

/**
 * {@code cortado bench --cluster-transport}: what the clustered event bus carries between two JVMs on
 * this machine, against a raw TCP socket copying the same bytes, in the same run. A peer JVM joins the
 * cluster; each round sends {@code count} batches of {@code mib} MiB (a uint8 tensor in a
 * {@link TensorMessage}, the loaders' own message and codec) with at most 4 unanswered at a time (as
 * the coordinator's prefetch does), then the same bytes through a plain socket the peer reads. The
 * ratio is event-bus bytes/s over socket bytes/s; the median over rounds is reported. Untimed rounds
 * come first: on a 2-core machine the JIT compilers of both JVMs compete with the benchmark for a
 * while, and the event bus's rate climbs over the first ten to twenty thousand batches.
 */
public final class TransportBench {
    static final String ADDRESS = "cortado.bench.transport";
    /** Batches sent and not yet answered, as the coordinator's default prefetch. */
    static final int WINDOW = 4;

    private TransportBench() {}

    public record Result(double busMBps, double tcpMBps, List<Double> ratios, double medianRatio) {}

    public static Result run(int mib, int count, int warmupRounds, int rounds, PrintWriter out) throws Exception {
        int port = 20000 + new java.util.Random().nextInt(20000);
        ClusterConfig c = new ClusterConfig("bench-" + ProcessHandle.current().pid(), "127.0.0.1", port,
                List.of("127.0.0.1:" + port), 1, 8);
        Vertx vertx = Cluster.join(c, s -> { }).vertx();
        TensorCodec.register(vertx.eventBus());
        Process peer = startPeer(c.name(), port);
        try {
            var said = peer.inputReader();
            String ready = said.readLine();
            while (ready != null && !ready.startsWith("ready ")) { // (JVM options may make the JVM say things first)
                ready = said.readLine();
            }
            if (ready == null) {
                throw new IllegalStateException("the peer JVM did not start (said: " + ready + ")");
            }
            int tcpPort = Integer.parseInt(ready.substring(6).trim());
            byte[] payload = new byte[mib << 20];
            new java.util.Random(1).nextBytes(payload);
            // wait until the peer's consumer is reachable
            long end = System.nanoTime() + 30_000_000_000L;
            while (true) {
                try {
                    vertx.eventBus().request(ADDRESS, new TensorMessage("ping", new JsonObject()), new DeliveryOptions().setSendTimeout(2000))
                            .toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
                    break;
                } catch (Exception e) {
                    if (System.nanoTime() > end) {
                        throw new IllegalStateException("the peer's consumer never answered", e);
                    }
                    Thread.sleep(200);
                }
            }
            List<Double> ratios = new ArrayList<>();
            double busBest = 0;
            double tcpBest = 0;
            for (int r = 1 - warmupRounds; r <= rounds; r++) {
                double bus = bus(vertx, payload, count);
                double tcp = tcp(tcpPort, payload, count);
                if (r <= 0) {
                    out.printf("warm-up: event bus %.0f MB/s, raw TCP %.0f MB/s%n", bus / 1e6, tcp / 1e6);
                    out.flush();
                    continue;
                }
                busBest = Math.max(busBest, bus);
                tcpBest = Math.max(tcpBest, tcp);
                ratios.add(bus / tcp);
                out.printf("round %d: event bus %.0f MB/s, raw TCP %.0f MB/s: %.2f%n", r, bus / 1e6, tcp / 1e6, bus / tcp);
                out.flush();
            }
            List<Double> sorted = new ArrayList<>(ratios);
            Collections.sort(sorted);
            return new Result(busBest / 1e6, tcpBest / 1e6, ratios, sorted.get(sorted.size() / 2));
        } finally {
            peer.destroy();
            peer.waitFor(10, TimeUnit.SECONDS);
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    /** Bytes per second sending {@code count} batches through the clustered event bus, 4 in flight. */
    private static double bus(Vertx vertx, byte[] payload, int count) throws Exception {
        Promise<Void> done = Promise.promise();
        long t0 = System.nanoTime();
        int[] sent = {0};
        int[] acked = {0};
        Runnable[] next = new Runnable[1];
        next[0] = () -> {
            while (sent[0] < count && sent[0] - acked[0] < WINDOW) {
                sent[0]++;
                TensorMessage m = new TensorMessage("raw", new JsonObject()).putBytes("pixels", payload, payload.length);
                vertx.eventBus().request(ADDRESS, m, new DeliveryOptions().setSendTimeout(30_000)).onComplete(r -> {
                    if (r.failed()) {
                        done.tryFail(r.cause());
                        return;
                    }
                    if (++acked[0] == count) {
                        done.tryComplete();
                    } else {
                        next[0].run();
                    }
                });
            }
        };
        vertx.runOnContext(v -> next[0].run());
        done.future().toCompletionStage().toCompletableFuture().get(300, TimeUnit.SECONDS);
        return (double) payload.length * count / ((System.nanoTime() - t0) / 1e9);
    }

    /** Bytes per second writing the same bytes through one TCP socket the peer reads (and acknowledges at the end). */
    private static double tcp(int port, byte[] payload, int count) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setTcpNoDelay(true);
            OutputStream o = s.getOutputStream();
            long t0 = System.nanoTime();
            new java.io.DataOutputStream(o).writeLong((long) payload.length * count);
            for (int i = 0; i < count; i++) {
                o.write(payload);
            }
            o.flush();
            int ack = s.getInputStream().read();
            if (ack != 1) {
                throw new IllegalStateException("the peer did not acknowledge the socket copy");
            }
            return (double) payload.length * count / ((System.nanoTime() - t0) / 1e9);
        }
    }

    private static Process startPeer(String name, int port) throws java.io.IOException {
        return new ProcessBuilder(JavaProcess.command(List.of(), TransportBench.class.getName(), name, String.valueOf(port)))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    /** The peer: joins, answers each batch on {@link #ADDRESS}, reads socket copies; prints {@code ready TCP_PORT}. */
    public static void main(String[] args) throws Exception {
        String name = args[0];
        int port = Integer.parseInt(args[1]);
        Vertx vertx = Cluster.join(new ClusterConfig(name, "127.0.0.1", port + 1, List.of("127.0.0.1:" + port), 1, 8), s -> { }).vertx();
        TensorCodec.register(vertx.eventBus());
        vertx.eventBus().<TensorMessage>consumer(ADDRESS, m -> m.reply(new JsonObject().put("ok", true)))
                .completion().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            byte[] buf = new byte[1 << 20];
            while (true) {
                try (Socket s = server.accept(); DataInputStream in = new DataInputStream(s.getInputStream())) {
                    long left = in.readLong();
                    while (left > 0) {
                        int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                        if (n < 0) {
                            break;
                        }
                        left -= n;
                    }
                    s.getOutputStream().write(1);
                    s.getOutputStream().flush();
                } catch (java.io.IOException e) {
                    return;
                }
            }
        }, "peer-tcp");
        t.setDaemon(true);
        t.start();
        System.out.println("ready " + server.getLocalPort());
        System.out.flush();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in))) {
            while (in.readLine() != null) {
                // until the benchmark ends
            }
        }
        vertx.close();
    }
}
