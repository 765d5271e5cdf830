package org.cortado.cluster;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.cortado.engine.config.ClusterConfig;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.pipeline.Pipeline;
import org.cortado.pipeline.RunContext;

/**
 * {@code cortado bench CONFIG --cluster-workers}: what a second worker adds to the input rate of a
 * coordinator that loads nothing itself ({@code pipeline.loaders} 0), in one run. A coordinator
 * (this JVM) trains the config while one worker process serves it; each round measures the steps per
 * second over a window with that one worker, then starts a second worker process, lets it warm up,
 * measures a window with both, and stops it again. The ratio is two workers' rate over one's, per
 * round; the median over rounds is reported, with the share of step time the coordinator waited for
 * data in each window (near 1: input-bound, which is the case this measures).
 */
public final class ScaleBench {
    private ScaleBench() {}

    /**
     * Per round: steps per second with one and with two workers, the share of time waited for data,
     * and the cores busy ({@code {coordinator, worker}} with one, {@code {coordinator, worker 1, worker 2}} with two).
     */
    public record Result(List<Double> one, List<Double> two, List<Double> waitOne, List<Double> waitTwo,
                         List<double[]> busyOne, List<double[]> busyTwo, double medianRatio) {}

    private record Sample(long nanos, long step, double stepMs, double waitMs) {}

    public static Result run(CortadoConfig config, Path configDir, int rounds, int seconds, PrintWriter out) throws Exception {
        int port = 20000 + new java.util.Random().nextInt(20000);
        ClusterConfig cc = new ClusterConfig("bench-workers-" + ProcessHandle.current().pid(), "127.0.0.1", port,
                List.of("127.0.0.1:" + port), 1, 8);
        Cluster member = Cluster.join(cc, out::println);
        List<Process> started = new ArrayList<>();
        RunContext ctx = null;
        try {
            WorkerProcess first = worker(cc, port + 1, started);
            List<Sample> samples = new CopyOnWriteArrayList<>();
            ctx = Pipeline.prepare(config, configDir, null, "bench_workers_" + port, Pipeline.Start.fresh());
            RunContext run = ctx;
            var vertx = member.vertx();
            var announced = ClusterRun.announce(vertx, run.addresses().run(), config.root().node().toString(), configDir, run.data())
                    .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            String listener = Pipeline.listen(vertx, run, m -> {
                if (m.containsKey("step_ms")) {
                    samples.add(new Sample(System.nanoTime(), m.getLong("step"), m.getDouble("step_ms"), m.getDouble("data_wait_ms")));
                }
            }).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            var result = Pipeline.run(vertx, run);
            awaitSteps(samples, 1, 120, "the first worker to serve");
            Thread.sleep(5000); // the worker's and this JVM's JIT warm up
            List<Double> one = new ArrayList<>();
            List<Double> two = new ArrayList<>();
            List<Double> waitOne = new ArrayList<>();
            List<Double> waitTwo = new ArrayList<>();
            List<double[]> busyOne = new ArrayList<>();
            List<double[]> busyTwo = new ArrayList<>();
            for (int r = 1; r <= rounds; r++) {
                double[] a = window(samples, seconds, first.process().toHandle());
                WorkerProcess second = worker(cc, port + 2, started);
                awaitLine(second, "serving run", 120);
                Thread.sleep(Math.max(4, seconds) * 1000L); // its JIT warms up (as long as a window)
                double[] b = window(samples, seconds, first.process().toHandle(), second.process().toHandle());
                second.process().destroy(); // leaves the cluster; what it had not sent is requested again
                second.process().waitFor(30, TimeUnit.SECONDS);
                started.remove(second.process());
                one.add(a[0]);
                two.add(b[0]);
                waitOne.add(a[1]);
                waitTwo.add(b[1]);
                busyOne.add(java.util.Arrays.copyOfRange(a, 2, a.length));
                busyTwo.add(java.util.Arrays.copyOfRange(b, 2, b.length));
                out.printf("round %d: steps/s with one worker %.1f (waiting for data %.0f%% of the time; cores busy: coordinator %.2f,"
                                + " worker %.2f), with two %.1f (%.0f%%; coordinator %.2f, workers %.2f + %.2f): %.2fx%n",
                        r, a[0], 100 * a[1], a[2], a[3], b[0], 100 * b[1], b[2], b[3], b[4], b[0] / a[0]);
                out.flush();
                Thread.sleep(3000); // past the re-issue of its last requests
            }
            vertx.eventBus().send(run.addresses().control(), new JsonObject().put("action", "stop"));
            result.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
            vertx.undeploy(listener).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            announced.unregister();
            first.process().destroy();
            List<Double> ratios = new ArrayList<>();
            for (int i = 0; i < one.size(); i++) {
                ratios.add(two.get(i) / one.get(i));
            }
            Collections.sort(ratios);
            return new Result(one, two, waitOne, waitTwo, busyOne, busyTwo, ratios.get(ratios.size() / 2));
        } finally {
            for (Process p : started) {
                p.destroyForcibly();
            }
            if (ctx != null) {
                Pipeline.close(ctx);
            }
            member.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    /** A {@code cortado worker} process with one loader and one augmenter, and what it says. */
    private record WorkerProcess(Process process, List<String> lines) {}

    private static WorkerProcess worker(ClusterConfig cc, int ownPort, List<Process> started) throws Exception {
        Process p = new ProcessBuilder(JavaProcess.command(List.of("-Xmx1g"), "org.cortado.cli.Main", "worker",
                "--join", "127.0.0.1:" + cc.port(), "--cluster-name", cc.name(), "--port", String.valueOf(ownPort)))
                .redirectErrorStream(true).start();
        started.add(p);
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread t = new Thread(() -> {
            try (BufferedReader r = p.inputReader()) {
                for (String l; (l = r.readLine()) != null; ) {
                    lines.add(l);
                }
            } catch (java.io.IOException ended) {
                // the process ended
            }
        }, "cortado-bench-worker-output");
        t.setDaemon(true);
        t.start();
        return new WorkerProcess(p, lines);
    }

    private static void awaitLine(WorkerProcess w, String text, int seconds) throws InterruptedException {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (w.lines().stream().noneMatch(l -> l.contains(text))) {
            if (System.nanoTime() > end || !w.process().isAlive()) {
                throw new IllegalStateException("a worker did not say \"" + text + "\" within " + seconds + " s; it said: "
                        + String.join("\n", w.lines()));
            }
            Thread.sleep(50);
        }
    }

    private static void awaitSteps(List<Sample> samples, int n, int seconds, String what) throws InterruptedException {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (samples.size() < n) {
            if (System.nanoTime() > end) {
                throw new IllegalStateException("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    /**
     * Over the next {@code seconds}: steps per second, the share of their time spent waiting for data,
     * and the cores busy (CPU seconds per second) in this JVM and in each of {@code workers}.
     */
    private static double[] window(List<Sample> samples, int seconds, ProcessHandle... workers) throws InterruptedException {
        List<ProcessHandle> all = new ArrayList<>(List.of(ProcessHandle.current()));
        all.addAll(List.of(workers));
        long[] cpu0 = all.stream().mapToLong(ScaleBench::cpuNanos).toArray();
        int from = samples.size();
        long start = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        int to = samples.size();
        long end = System.nanoTime();
        if (to - from < 2) {
            throw new IllegalStateException("fewer than 2 steps in " + seconds + " s: the workers do not serve");
        }
        double stepMs = 0;
        double waitMs = 0;
        for (Sample s : List.copyOf(samples).subList(from, to)) { // (a sublist of the live list fails as steps go on)
            stepMs += s.stepMs();
            waitMs += s.waitMs();
        }
        double[] r = new double[2 + all.size()];
        r[0] = (to - from) / ((end - start) / 1e9);
        r[1] = waitMs / stepMs;
        for (int i = 0; i < all.size(); i++) {
            r[2 + i] = (cpuNanos(all.get(i)) - cpu0[i]) / (double) (end - start);
        }
        return r;
    }

    private static long cpuNanos(ProcessHandle p) {
        return p.info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
    }
}
