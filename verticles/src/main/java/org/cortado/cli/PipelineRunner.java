package org.cortado.cli;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.cortado.cluster.Cluster;
import org.cortado.cluster.ClusterRun;
import org.cortado.cluster.Members;
import org.cortado.dashboard.DashboardVerticle;
import org.cortado.dashboard.Runs;
import org.cortado.engine.config.ClusterConfig;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.config.DashboardConfig;
import org.cortado.engine.train.RunFolder;
import org.cortado.pipeline.CoordinatorVerticle;
import org.cortado.pipeline.Pipeline;
import org.cortado.pipeline.RunContext;

/**
 * Runs a pipeline for {@code train} and {@code resume}: deploys it on a fresh Vert.x, draws the
 * progress from the metrics it publishes, and turns Ctrl-C (SIGINT/SIGTERM) into a stop message, so
 * the run snapshots before the JVM exits.
 */
final class PipelineRunner {
    private PipelineRunner() {}

    /** Returns the exit code: 0 finished or stopped, 1 failed. */
    static int run(CortadoConfig config, Path configDir, RunFolder folder, Pipeline.Start start, PrintWriter out,
                   PrintWriter err) throws Exception {
        return run(config, configDir, folder, start, false, out, err);
    }

    /** As {@link #run(CortadoConfig, Path, RunFolder, Pipeline.Start, PrintWriter, PrintWriter)}; {@code cluster}: as a member of the config's cluster, whose workers load for it. */
    static int run(CortadoConfig config, Path configDir, RunFolder folder, Pipeline.Start start, boolean cluster, PrintWriter out,
                   PrintWriter err) throws Exception {
        Cluster member = cluster ? Cluster.join(config.cluster(), start.log()) : null;
        Vertx vertx = member != null ? member.vertx() : Vertx.vertx();
        PreparedRun run;
        try {
            if (member != null) {
                ClusterRun.refuseSecondRun(vertx, config.cluster());
            }
            // The dashboard first: a port in use stops the run before any data is opened.
            DashboardVerticle dashboard = startDashboard(vertx, config.dashboard(), folder.dir().getParent(), configDir, out);
            run = PreparedRun.prepare(dashboard == null ? null : dashboard.runs(), config, configDir, folder, start);
            if (member != null) {
                String notice = member.notice(false);
                if (notice != null) {
                    start.log().accept(notice);
                }
                // Asked again: preparing the data may have taken minutes, in which another coordinator may have begun.
                ClusterRun.refuseSecondRun(vertx, config.cluster());
                vertx.deployVerticle(new Members(member, run.ctx.addresses(), config.pipeline(), start.log()))
                        .compose(x -> ClusterRun.announce(vertx, run.ctx.addresses().run(), config.root().node().toString(), configDir,
                                run.ctx.data()))
                        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
                out.println("cluster: \"" + config.cluster().name() + "\" joined at " + member.address()
                        + "; workers join with: cortado worker --join " + member.address()
                        + (config.cluster().name().equals(ClusterConfig.DEFAULT.name()) ? "" : " --cluster-name " + config.cluster().name()));
                out.flush();
            }
        } catch (RuntimeException e) {
            vertx.close();
            throw e;
        }
        CountDownLatch finished = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            if (finished.getCount() > 0) {
                err.println();
                err.println("stopping: writing a snapshot (Ctrl-C again to abort) ...");
                err.flush();
                run.stop(vertx);
                try {
                    finished.await(120, TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }
        }, "cortado-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        Progress progress = new Progress(config, run.ctx, err);
        CoordinatorVerticle.Result result;
        try {
            result = run.run(vertx, progress::step);
        } finally {
            progress.done();
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it waits for `finished`, counted down above
            }
        }
        out.println("run " + result.status() + " at iteration " + result.iter() + ": " + folder.dir());
        if (progress.lastTest != null) {
            out.println("last test: " + progress.lastTest);
        }
        if (result.lastSnapshot() != null) {
            out.println("last snapshot: " + result.lastSnapshot());
        }
        if (result.status().equals("finished")) {
            out.println("weights: " + folder.finalWeights());
        }
        out.flush();
        if (!result.ok()) {
            err.println("error: " + result.message());
            err.flush();
            return 1;
        }
        return 0;
    }

    /**
     * Deploys the dashboard for {@code runsDir} when the config enables it and prints its address;
     * null when disabled. Its launch form lists the configs in {@code configsDir} and starts runs in
     * this process. A port in use or a bad host is a {@code ConfigException} naming the config field.
     */
    static DashboardVerticle startDashboard(Vertx vertx, DashboardConfig config, Path runsDir, Path configsDir, PrintWriter out) {
        if (!config.enabled()) {
            return null;
        }
        Runs runs = new Runs(runsDir);
        DashboardVerticle d = new DashboardVerticle(config, runs, Launches.launcher(vertx, runs, configsDir, out), configsDir);
        try {
            vertx.deployVerticle(d).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("dashboard: " + e.getCause(), e.getCause());
        } catch (InterruptedException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("dashboard: did not start: " + e, e);
        }
        out.println("dashboard: " + d.url() + (d.token() == null ? "" : "  (control needs this token: the link carries it)"));
        out.flush();
        return d;
    }

    /** The progress display: a line redrawn in place on a terminal, one line per {@code display} steps otherwise. */
    private static final class Progress {
        private final PrintWriter err;
        private final boolean terminal = System.console() != null && System.console().isTerminal();
        private final long maxIter;
        private final int display;
        private final int epochs;
        private final long startNanos = System.nanoTime();
        private final long startIter;
        private double rate = -1;
        private long lastDraw;
        private String lastTest;
        private boolean drawn;

        Progress(CortadoConfig config, RunContext ctx, PrintWriter err) {
            this.err = err;
            this.maxIter = config.schedule().maxIter();
            this.display = Math.max(1, config.schedule().display() == 0 ? 100 : config.schedule().display());
            long batches = maxIter * Math.max(1, config.solver().node().path("iter_size").asInt(1));
            this.epochs = (int) Math.ceil(batches / (double) ctx.data().train().batchesPerEpoch());
            this.startIter = ctx.startIter();
        }

        synchronized void step(JsonObject m) {
            long step = m.getLong("step", 0L);
            if (m.containsKey("images_per_sec")) {
                double r = m.getDouble("images_per_sec");
                rate = rate < 0 ? r : 0.95 * rate + 0.05 * r;
            }
            if (m.containsKey("test_accuracy") || m.containsKey("test_loss")) {
                lastTest = String.format("step %d: test loss %.4f, accuracy %.4f", step,
                        m.getDouble("test_loss", Double.NaN), m.getDouble("test_accuracy", Double.NaN));
            }
            long now = System.nanoTime();
            boolean draw = terminal
                    ? now - lastDraw > 100_000_000L || step == maxIter || m.containsKey("test_accuracy")
                    : step % display == 0 || step == maxIter || m.containsKey("test_accuracy");
            if (!draw) {
                return;
            }
            double elapsed = (now - startNanos) / 1e9;
            double perStep = step > startIter ? elapsed / (step - startIter) : Double.NaN;
            String line = String.format("epoch %d/%d  step %d/%d  loss %s  %s%s img/s  ETA %s",
                    m.getLong("epoch", 0L) + 1, epochs, step, maxIter,
                    m.containsKey("loss") ? String.format("%.4f", m.getDouble("loss")) : "-",
                    m.containsKey("test_accuracy") ? String.format("test acc %.4f  ", m.getDouble("test_accuracy")) : "",
                    rate < 0 ? "-" : String.format("%.0f", rate), eta(perStep * (maxIter - step)));
            if (terminal) {
                err.print("\r" + line + "\u001b[K");
                err.flush();
                drawn = true;
                lastDraw = now;
            } else {
                err.println(line);
                err.flush();
            }
        }

        synchronized void done() {
            if (drawn) {
                err.println();
                err.flush();
            }
        }

        private static String eta(double seconds) {
            if (!Double.isFinite(seconds)) {
                return "-";
            }
            long s = Math.round(seconds);
            return s >= 3600 ? String.format("%dh%02dm", s / 3600, s / 60 % 60)
                    : s >= 60 ? String.format("%dm%02ds", s / 60, s % 60) : s + "s";
        }
    }
}
