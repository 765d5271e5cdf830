package org.cortado.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.cortado.dashboard.DashboardVerticle;
import org.cortado.dashboard.Runs;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.config.DashboardConfig;

/**
 * {@code cortado bench CONFIG --dashboard [--clients N]}: what watching a run costs it. In one JVM,
 * alternating in rounds, the pipeline trains once unwatched (no dashboard, no per-layer stats) and
 * once watched: the dashboard serving it, the per-layer stats the config asks for, and N websocket
 * clients subscribed to it as browsers are (history, then every batch of lines). The clients share
 * one event-loop thread of a Vert.x of their own, count what they receive and parse nothing: browsers
 * decode and draw in their own processes, usually on another machine. Compared: the mean step time
 * after the warm-up steps, per round; the median ratio over the rounds is the cost.
 */
final class DashboardBench {
    private DashboardBench() {}

    static int run(Path configFile, int threads, int iters, int warmup, int rounds, int clients, boolean json, PrintWriter out)
            throws Exception {
        Path dir = configFile.toAbsolutePath().getParent();
        int steps = warmup + iters;
        CortadoConfig plain = PipelineBench.config(configFile, steps, threads, "dashboard.layer_stats_every=0");
        CortadoConfig watched = PipelineBench.config(configFile, steps, threads);
        CortadoConfig plainWarm = PipelineBench.config(configFile, Math.min(steps, 150), threads, "dashboard.layer_stats_every=0");
        CortadoConfig watchedWarm = PipelineBench.config(configFile, Math.min(steps, 150), threads);
        Vertx vertx = Vertx.vertx();
        Runs runs = new Runs(Path.of("bench-runs-not-written"));
        DashboardVerticle dashboard = new DashboardVerticle(new DashboardConfig(true, "127.0.0.1", 0, null, false, 0), runs);
        Vertx browsers = Vertx.vertx(new io.vertx.core.VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
        io.vertx.core.http.WebSocketClient wsClient = browsers.createWebSocketClient();
        List<double[]> ratios = new ArrayList<>();
        AtomicLong messages = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        try {
            vertx.deployVerticle(dashboard).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            // An untimed round warms both up (the JIT compiles the dashboard's and the clients' code too).
            for (int r = 0; r <= rounds; r++) {
                double unwatched = 0;
                double watchedMs = 0;
                // alternate which goes first, so a drift of the machine's speed within a round cancels out
                for (int k = 0; k < 2; k++) {
                    boolean watch = (k == 0) == (r % 2 == 0);
                    if (!watch) {
                        unwatched = PipelineBench.mean(ms(PipelineBench.pipeline(vertx, r == 0 ? plainWarm : plain, dir, warmup,
                                "dash-plain" + r, c -> null)));
                        continue;
                    }
                    List<io.vertx.core.http.WebSocket> sockets = new ArrayList<>();
                    String id = "bench-watched-" + r;
                    List<double[]> s = PipelineBench.pipeline(vertx, r == 0 ? watchedWarm : watched, dir, warmup, "dash-watched" + r, ctx -> {
                        Runs.LiveRun live = runs.addLive(Path.of(id), ctx.addresses());
                        vertx.eventBus().<JsonObject>consumer(ctx.addresses().layers(), m -> live.layers().append(m.body()));
                        for (int c = 0; c < clients; c++) {
                            try {
                                var socket = wsClient.connect(dashboard.port(), "127.0.0.1", "/ws").toCompletionStage()
                                        .toCompletableFuture().get(30, TimeUnit.SECONDS);
                                socket.textMessageHandler(t -> {
                                    messages.incrementAndGet();
                                    bytes.addAndGet(t.length());
                                });
                                socket.writeTextMessage(new JsonObject().put("type", "subscribe").put("run", id).encode());
                                sockets.add(socket);
                            } catch (Exception e) {
                                throw new IllegalStateException("a client could not connect: " + e, e);
                            }
                        }
                        return live.history()::append;
                    });
                    watchedMs = PipelineBench.mean(ms(s));
                    for (var socket : sockets) {
                        socket.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
                    }
                }
                if (r == 0) {
                    continue;
                }
                ratios.add(new double[] {unwatched, watchedMs});
                out.printf("round %d: ms/step unwatched %.3f, watched by %d clients %.3f: %+.2f%%%n", r, unwatched, clients,
                        watchedMs, 100 * (watchedMs / unwatched - 1));
                out.flush();
            }
        } finally {
            browsers.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
        double cost = PipelineBench.median(ratios.stream().map(x -> x[1] / x[0]).toList()) - 1;
        out.printf("dashboard cost with %d clients, median over %d rounds: %+.2f%% of the step time (clients received %d"
                + " messages, %.1f MB)%n", clients, rounds, 100 * cost, messages.get(), bytes.get() / 1e6);
        if (json) {
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("rounds", rounds).put("iters", iters).put("warmup", warmup).put("clients", clients).put("cost", cost)
                    .put("messages", messages.get()).put("bytes", bytes.get());
            var arr = o.putArray("per_round");
            for (double[] x : ratios) {
                arr.addObject().put("unwatched_ms", x[0]).put("watched_ms", x[1]);
            }
            out.println(o);
        }
        out.flush();
        return 0;
    }

    private static List<Double> ms(List<double[]> steps) {
        return steps.stream().map(s -> s[0]).toList();
    }
}
