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
 * clients subscribed to it as browsers are (history, then every batch of lines). The clients run in a
 * process of their own ({@link WatchClients}), as browsers do, on the same machine (so their work
 * competes for its cores; they count what they receive and parse nothing). Compared: the mean step
 * time after the warm-up steps, per round; the median ratio over the rounds is the cost.
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
        List<double[]> ratios = new ArrayList<>();
        Process browsers = null;
        AtomicLong messages = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        try {
            vertx.deployVerticle(dashboard).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            // One process of clients for the whole benchmark: its start-up and JIT warm-up happen in the untimed round.
            browsers = clients > 0 ? startClients(dashboard.port(), clients) : null;
            // An untimed round warms both up (the JIT compiles the dashboard's and the clients' code too).
            for (int r = 0; r <= rounds; r++) {
                double unwatched = 0;
                double watchedMs = 0;
                double unwatchedMedian = 0;
                double watchedMedian = 0;
                // alternate which goes first, so a drift of the machine's speed within a round cancels out
                for (int k = 0; k < 2; k++) {
                    boolean watch = (k == 0) == (r % 2 == 0);
                    if (!watch) {
                        List<Double> u = ms(PipelineBench.pipeline(vertx, r == 0 ? plainWarm : plain, dir, warmup,
                                "dash-plain" + r, c -> null));
                        unwatched = PipelineBench.mean(u);
                        unwatchedMedian = PipelineBench.median(u);
                        continue;
                    }
                    String id = "bench-watched-" + r;
                    Process clientsProcess = browsers;
                    List<double[]> s = PipelineBench.pipeline(vertx, r == 0 ? watchedWarm : watched, dir, warmup, "dash-watched" + r, ctx -> {
                        Runs.LiveRun live = runs.addLive(Path.of(id), ctx.addresses());
                        vertx.eventBus().<JsonObject>consumer(ctx.addresses().layers(), m -> live.layers().append(m.body()));
                        if (clientsProcess != null) {
                            subscribe(clientsProcess, id);
                        }
                        return live.history()::append;
                    });
                    watchedMs = PipelineBench.mean(ms(s));
                    watchedMedian = PipelineBench.median(ms(s));
                }
                if (r == 0) {
                    continue;
                }
                ratios.add(new double[] {unwatched, watchedMs, unwatchedMedian, watchedMedian});
                out.printf("round %d: ms/step unwatched %.3f (median %.3f), watched by %d clients %.3f (median %.3f): %+.2f%%"
                                + " (medians %+.2f%%)%n", r, unwatched, unwatchedMedian, clients, watchedMs, watchedMedian,
                        100 * (watchedMs / unwatched - 1), 100 * (watchedMedian / unwatchedMedian - 1));
                out.flush();
            }
            if (browsers != null) {
                long[] got = stopClients(browsers);
                messages.set(got[0]);
                bytes.set(got[1]);
                browsers = null;
            }
        } finally {
            if (browsers != null) {
                browsers.destroyForcibly();
            }
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
        double cost = PipelineBench.median(ratios.stream().map(x -> x[1] / x[0]).toList()) - 1;
        double costOfMedians = PipelineBench.median(ratios.stream().map(x -> x[3] / x[2]).toList()) - 1;
        out.printf("dashboard cost with %d clients, median over %d rounds: %+.2f%% (mean step times), %+.2f%% (median step"
                + " times); the clients received %d messages, %.1f MB%n", clients, rounds, 100 * cost, 100 * costOfMedians,
                messages.get(), bytes.get() / 1e6);
        if (json) {
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("rounds", rounds).put("iters", iters).put("warmup", warmup).put("clients", clients).put("cost", cost).put("cost_of_medians", costOfMedians)
                    .put("messages", messages.get()).put("bytes", bytes.get());
            var arr = o.putArray("per_round");
            for (double[] x : ratios) {
                arr.addObject().put("unwatched_ms", x[0]).put("watched_ms", x[1]).put("unwatched_median_ms", x[2])
                        .put("watched_median_ms", x[3]);
            }
            out.println(o);
        }
        out.flush();
        return 0;
    }

    /** Starts {@link WatchClients} in a JVM of its own and waits until its clients are connected. */
    private static Process startClients(int port, int n) {
        try {
            Process p = new ProcessBuilder(org.cortado.cluster.JavaProcess.command(List.of(), WatchClients.class.getName(),
                    String.valueOf(port), String.valueOf(n))).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String line = p.inputReader().readLine();
            if (!"open".equals(line)) {
                p.destroyForcibly();
                throw new IllegalStateException("the clients did not connect (said: " + line + ")");
            }
            return p;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot start the clients' process", e);
        }
    }

    /** Subscribes every client to {@code run} and waits until they have. */
    private static void subscribe(Process p, String run) {
        try {
            p.outputWriter().write(run + "\n");
            p.outputWriter().flush();
            String line = p.inputReader().readLine();
            if (!"subscribed".equals(line)) {
                throw new IllegalStateException("the clients did not subscribe (said: " + line + ")");
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot talk to the clients' process", e);
        }
    }

    /** Ends the clients' process; returns the messages and bytes its clients received. */
    private static long[] stopClients(Process p) throws Exception {
        p.outputWriter().close();
        String counts = p.inputReader().readLine();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        String[] parts = counts == null ? new String[0] : counts.trim().split(" ");
        return parts.length == 2 ? new long[] {Long.parseLong(parts[0]), Long.parseLong(parts[1])} : new long[2];
    }

    private static List<Double> ms(List<double[]> steps) {
        return steps.stream().map(s -> s[0]).toList();
    }
}
