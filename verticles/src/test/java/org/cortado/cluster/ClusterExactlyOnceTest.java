package org.cortado.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.train.RunFolder;
import org.cortado.pipeline.CoordinatorVerticle;
import org.cortado.pipeline.Pipeline;
import org.cortado.pipeline.PipelineTesting;
import org.cortado.pipeline.RunContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster with real processes on 127.0.0.1: a coordinator (this JVM, no loaders of its own) and
 * two {@code cortado worker} JVMs that load and augment every batch. One worker is killed with SIGKILL
 * mid-epoch: its outstanding requests are made again and answered by the other, every sample is
 * trained on exactly once per epoch, and the weights equal an in-process run's.
 */
class ClusterExactlyOnceTest {
    @TempDir
    Path dir;

    /** A worker process and the lines it printed. */
    record WorkerProcess(Process process, List<String> lines) {
        boolean said(String s) {
            return lines.stream().anyMatch(l -> l.contains(s));
        }

        /** Its name on the cluster, {@code pid@host} (the same host as this JVM's). */
        String node() {
            return process.pid() + org.cortado.pipeline.Addresses.NODE.substring(org.cortado.pipeline.Addresses.NODE.indexOf('@'));
        }
    }

    static WorkerProcess worker(String name, int port, int ownPort, String... more) throws Exception {
        List<String> cmd = new ArrayList<>(JavaProcess.command(List.of("-Xmx512m"), "org.cortado.cli.Main", "worker",
                "--join", "127.0.0.1:" + port, "--cluster-name", name, "--port", String.valueOf(ownPort)));
        cmd.addAll(List.of(more));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread t = new Thread(() -> {
            try (BufferedReader r = p.inputReader()) {
                for (String l; (l = r.readLine()) != null; ) {
                    lines.add(l);
                }
            } catch (java.io.IOException ignored) {
                // the process ended
            }
        });
        t.setDaemon(true);
        t.start();
        return new WorkerProcess(p, lines);
    }

    static void await(double seconds, String what, java.util.function.BooleanSupplier c, List<WorkerProcess> ws)
            throws InterruptedException {
        await(seconds, what, c, ws, () -> "");
    }

    static void await(double seconds, String what, java.util.function.BooleanSupplier c, List<WorkerProcess> ws,
            java.util.function.Supplier<String> more) throws InterruptedException {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for " + what + "; workers said: "
                        + ws.stream().map(w -> String.join("\n", w.lines())).toList() + "\n" + more.get());
            }
            Thread.sleep(50);
        }
    }

    /** The pipeline tests' config with this solver and pipeline, no dashboard, and a cluster of its own on {@code port}. */
    private CortadoConfig clusterConfig(String name, int port, String solver, String pipeline) throws Exception {
        PipelineTesting.writeData(dir.resolve("data"));
        String json = PipelineTesting.configJson(dir.resolve("data"), solver, pipeline, false)
                .replace("\"dashboard\": {\"port\": 0}", "\"dashboard\": {\"enabled\": false}, \"cluster\": {\"name\": \"" + name
                        + "\", \"port\": " + port + ", \"members\": [\"127.0.0.1:" + port + "\"], \"failure_timeout_seconds\": 4}");
        return org.cortado.engine.train.ConfigCheck.validate(org.cortado.engine.config.Json.parse(json, "cluster test"),
                "cluster test", "tiny", dir);
    }

    /** The batches a members table counts for {@code node}, 0 where it has no row. */
    static long batchesIn(JsonObject table, String node) {
        return table.getJsonArray("members").stream().map(o -> (JsonObject) o).filter(r -> node.equals(r.getString("node")))
                .mapToLong(r -> r.getLong("batches", 0L)).max().orElse(0);
    }

    @Test
    void aWorkerKilledMidEpochLosesNoSample() throws Exception {
        int port = 20000 + new java.util.Random().nextInt(20000);
        CortadoConfig config = clusterConfig("test-" + ProcessHandle.current().pid() + "-" + port, port, """
                {"type": "SGD", "base_lr": 0.05, "momentum": 0.9, "lr_policy": "fixed", "max_iter": 39,
                 "test_interval": 0, "snapshot": 0}""", "{\"threads\": 1, \"loaders\": 0, \"request_timeout_ms\": 1500}");
        String name = config.cluster().name();
        List<String> log = new java.util.concurrent.CopyOnWriteArrayList<>();
        Cluster member = Cluster.join(config.cluster(), log::add);
        Vertx vertx = member.vertx();
        List<WorkerProcess> workers = new ArrayList<>();
        try {
            // Workers with 1 and 2 loaders: the event bus must still ask both (see LoaderGate).
            workers.add(worker(name, port, port + 1, "--loaders", "1"));
            workers.add(worker(name, port, port + 2, "--loaders", "2"));
            await(60, "two workers to join", () -> workers.stream().allMatch(w -> w.said("waiting for a run")), workers);

            Map<Long, List<Long>> seen = new ConcurrentHashMap<>();
            List<JsonObject> tables = new java.util.concurrent.CopyOnWriteArrayList<>();
            AtomicInteger batches = new AtomicInteger();
            AtomicInteger killedAt = new AtomicInteger(); // the batch after which the first worker was killed
            java.util.concurrent.atomic.AtomicBoolean firstServed = new java.util.concurrent.atomic.AtomicBoolean();
            RunContext.Hooks hooks = new RunContext.Hooks() {
                @Override
                public void consumed(long epoch, int index, long[] ids) {
                    List<Long> list = seen.computeIfAbsent(epoch, e -> Collections.synchronizedList(new ArrayList<>()));
                    for (long id : ids) {
                        list.add(id);
                    }
                    int n = batches.incrementAndGet();
                    // From mid-epoch 1 on, the first worker dies without a word as soon as it has served a batch
                    // (a worker that has not yet answered, slow to start on a busy machine, would show nothing).
                    if (n >= 18 && killedAt.get() == 0 && firstServed.get()) {
                        workers.get(0).process().destroyForcibly();
                        killedAt.set(n);
                    }
                    try {
                        Thread.sleep(killedAt.get() == 0 && n >= 18 ? 150 : 40); // slow enough that the kill falls mid-run
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
            RunFolder folder = RunFolder.create(dir.resolve("runs"), "cluster");
            RunContext ctx = Pipeline.prepare(config, dir, folder, "cluster_" + port, new Pipeline.Start(null, null, hooks, s -> { }));
            CoordinatorVerticle.Result result;
            try {
                String first = workers.get(0).node();
                vertx.eventBus().<JsonObject>consumer(ctx.addresses().cluster(), m -> {
                    tables.add(m.body());
                    if (batchesIn(m.body(), first) > 0) {
                        firstServed.set(true); // the members table shows it
                    }
                });
                String members = vertx.deployVerticle(new Members(member, ctx.addresses(), config.pipeline(), log::add))
                        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
                var announced = ClusterRun.announce(vertx, ctx.addresses().run(), config.root().node().toString(), dir, ctx.data())
                        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
                await(30, "both workers to serve the run", () -> workers.stream().allMatch(w -> w.said("serving run")), workers);
                result = Pipeline.run(vertx, ctx).toCompletionStage().toCompletableFuture().get(180, TimeUnit.SECONDS);
                assertTrue(killedAt.get() > 0, "the first worker served no batch in the whole run: " + tables);
                // The table is published once a second: wait for one that shows the killed worker gone.
                await(10, "a members table to show the killed worker as left", () -> tables.stream().anyMatch(t -> t.getJsonArray("members")
                        .stream().map(o -> (JsonObject) o).anyMatch(r -> first.equals(r.getString("node")) && r.getString("state").equals("left"))),
                        workers, () -> "killed after batch " + killedAt.get() + "; tables: " + tables);
                announced.unregister();
                vertx.undeploy(members).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            } finally {
                Pipeline.close(ctx);
                folder.close();
            }
            assertEquals("finished", result.status(), result.message());
            assertTrue(killedAt.get() > 0 && killedAt.get() < 39 && !workers.get(0).process().isAlive(),
                    "the first worker was killed mid-run, after batch " + killedAt.get() + " of 39 (it had served: " + firstServed.get() + ")");
            assertEquals(3, seen.size(), "epochs: " + seen.keySet());
            List<Long> all = java.util.stream.LongStream.range(0, 200).boxed().toList();
            for (var e : new TreeMap<>(seen).entrySet()) {
                List<Long> ids = new ArrayList<>(e.getValue());
                Collections.sort(ids);
                assertEquals(all, ids, "epoch " + e.getKey() + ": every sample exactly once");
            }
            double d = PipelineTesting.maxRelativeDifference(PipelineTesting.finalWeights(folder), PipelineTesting.reference(config, 39));
            assertTrue(d <= 1e-6, "the weights differ from an in-process run by " + d);

            // The coordinator said who served and who left, and its members table counted each worker's batches.
            String killed = workers.get(0).node();
            for (int n = 1; n <= 2; n++) {
                String loaders = String.valueOf(n);
                assertEquals(1, log.stream().filter(l -> l.matches("cluster: worker \\d+@\\S+ at 127\\.0\\.0\\.1:\\d+ serves this run"
                        + " with " + loaders + " loaders and 1 augmenters")).count(), "log: " + log);
            }
            assertTrue(log.stream().anyMatch(l -> l.startsWith("cluster: worker " + killed + " at ") && l.contains(" left (2 members);")
                    && l.contains("requested again after pipeline.request_timeout_ms (1500 ms)")), "log: " + log);
            JsonObject last = tables.getLast();
            Map<String, JsonObject> rows = new java.util.HashMap<>();
            last.getJsonArray("members").forEach(o -> rows.put(((JsonObject) o).getString("node", "?"), (JsonObject) o));
            assertEquals("coordinator", rows.get(org.cortado.pipeline.Addresses.NODE).getString("role"));
            assertEquals(0L, rows.get(org.cortado.pipeline.Addresses.NODE).getLong("batches"), "the coordinator has no loaders");
            long served = 0;
            for (WorkerProcess w : workers) {
                assertEquals("worker", rows.get(w.node()).getString("role"), last.encodePrettily());
                long most = tables.stream().mapToLong(t -> batchesIn(t, w.node())).max().orElse(0);
                assertTrue(most > 0, "each worker served: " + tables);
                served += most;
            }
            // Each training batch and each batch of the test pass after the last step, counted once.
            int testBatches = ctx.data().test().orElseThrow().batchesPerEpoch();
            assertTrue(served <= 39 + testBatches, "no batch counted twice: " + served + " in " + tables + "\nlog: " + log);
            assertTrue(tables.stream().anyMatch(t -> t.getJsonArray("members").stream()
                    .anyMatch(o -> ((JsonObject) o).getDouble("batches_per_sec") > 0)), "a rate was shown");
        } finally {
            for (WorkerProcess w : workers) {
                w.process().destroyForcibly();
            }
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aWorkerJoiningMidEpochServesWithinSeconds() throws Exception {
        int port = 20000 + new java.util.Random().nextInt(20000);
        CortadoConfig config = clusterConfig("join-" + ProcessHandle.current().pid() + "-" + port, port, """
                {"type": "SGD", "base_lr": 0.05, "momentum": 0.9, "lr_policy": "fixed", "max_iter": 130,
                 "test_interval": 0, "snapshot": 0}""", "{\"threads\": 1, \"request_timeout_ms\": 1500}");
        String name = config.cluster().name();
        Vertx vertx = Cluster.join(config.cluster(), s -> { }).vertx();
        List<WorkerProcess> workers = new ArrayList<>();
        try {
            Map<Long, List<Long>> seen = new ConcurrentHashMap<>();
            AtomicInteger batches = new AtomicInteger();
            long[] joinedAt = {0};
            RunContext.Hooks hooks = new RunContext.Hooks() {
                @Override
                public void consumed(long epoch, int index, long[] ids) {
                    seen.computeIfAbsent(epoch, e -> Collections.synchronizedList(new ArrayList<>())).addAll(
                            java.util.Arrays.stream(ids).boxed().toList());
                    if (batches.incrementAndGet() == 5) {
                        try {
                            workers.add(worker(name, port, port + 1)); // joins mid-epoch 0
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }
                    try {
                        Thread.sleep(60); // the run lasts long enough for the worker to start
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
            RunFolder folder = RunFolder.create(dir.resolve("runs"), "join");
            RunContext ctx = Pipeline.prepare(config, dir, folder, "join_" + port, new Pipeline.Start(null, null, hooks, s -> { }));
            CoordinatorVerticle.Result result;
            try {
                var announced = ClusterRun.announce(vertx, ctx.addresses().run(), config.root().node().toString(), dir, ctx.data())
                        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
                var run = Pipeline.run(vertx, ctx).toCompletionStage().toCompletableFuture();
                await(60, "the worker to join", () -> !workers.isEmpty() && workers.get(0).said("waiting for a run"), workers);
                joinedAt[0] = System.nanoTime();
                await(10, "the worker to serve within seconds of joining", () -> workers.get(0).said("serving run"), workers);
                double seconds = (System.nanoTime() - joinedAt[0]) / 1e9;
                assertTrue(seconds < 5, "served " + seconds + " s after joining");
                assertTrue(!run.isDone(), "still mid-run when the worker began serving");
                result = run.get(180, TimeUnit.SECONDS);
                announced.unregister();
            } finally {
                Pipeline.close(ctx);
                folder.close();
            }
            assertEquals("finished", result.status(), result.message());
            List<Long> all = java.util.stream.LongStream.range(0, 200).boxed().toList();
            for (var e : new TreeMap<>(seen).entrySet()) {
                List<Long> ids = new ArrayList<>(e.getValue());
                Collections.sort(ids);
                assertEquals(all, ids, "epoch " + e.getKey() + ": every sample exactly once");
            }
        } finally {
            for (WorkerProcess w : workers) {
                w.process().destroyForcibly();
            }
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }
}
