package org.cortado.cluster;

import static org.cortado.cluster.ClusterExactlyOnceTest.await;
import static org.cortado.cluster.ClusterExactlyOnceTest.worker;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.cortado.cluster.ClusterExactlyOnceTest.WorkerProcess;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.train.RunFolder;
import org.cortado.pipeline.CoordinatorVerticle;
import org.cortado.pipeline.Pipeline;
import org.cortado.pipeline.PipelineTesting;
import org.cortado.pipeline.RunContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Synchronous data-parallel training with real processes on 127.0.0.1: a coordinator (this JVM) and
 * two {@code cortado worker --replica} JVMs, each computing a third of every step's micro-batches and
 * sending its gradients to the coordinator's optimizer. One replica is killed with SIGKILL mid-run:
 * its share of the step runs on the coordinator, the run goes on with the other, and the final weights
 * equal an in-process single-node run's within 1e-5.
 */
class DataParallelTest {
    @TempDir
    Path dir;

    @Test
    void replicasShareEachStepAndOneKilledMidRunChangesNothing() throws Exception {
        int port = 20000 + new java.util.Random().nextInt(20000);
        String name = "dp-" + ProcessHandle.current().pid() + "-" + port;
        PipelineTesting.writeData(dir.resolve("data"));
        String json = PipelineTesting.configJson(dir.resolve("data"), """
                {"type": "SGD", "base_lr": 0.05, "momentum": 0.9, "weight_decay": 0.001, "lr_policy": "fixed", "max_iter": 40,
                 "test_interval": 0, "snapshot": 0}""", "{\"threads\": 1, \"request_timeout_ms\": 1500}", false)
                .replace("\"dashboard\": {\"port\": 0}", "\"dashboard\": {\"enabled\": false}, \"cluster\": {\"name\": \"" + name
                        + "\", \"port\": " + port + ", \"members\": [\"127.0.0.1:" + port + "\"], \"failure_timeout_seconds\": 4}");
        CortadoConfig config = org.cortado.engine.train.ConfigCheck.validate(org.cortado.engine.config.Json.parse(json, "dp test"),
                "dp test", "tiny", dir);
        List<String> log = new CopyOnWriteArrayList<>();
        Cluster member = Cluster.join(config.cluster(), log::add);
        Vertx vertx = member.vertx();
        List<WorkerProcess> workers = new ArrayList<>();
        try {
            workers.add(worker(name, port, port + 1, "--replica"));
            workers.add(worker(name, port, port + 2, "--replica"));
            await(60, "two workers to join", () -> workers.stream().allMatch(w -> w.said("waiting for a run")), workers);

            List<JsonObject> lines = new CopyOnWriteArrayList<>();
            AtomicInteger killedAfter = new AtomicInteger(); // the step after which the first replica was killed
            RunContext.Hooks hooks = new RunContext.Hooks() {
                @Override
                public void dispatched(long step, int running) {
                    // Slow enough that both replicas join before half the run, and the kill falls mid-run.
                    try {
                        Thread.sleep(killedAfter.get() == 0 ? 150 : 30);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
            RunFolder folder = RunFolder.create(dir.resolve("runs"), "dp");
            RunContext ctx = Pipeline.prepare(config, dir, folder, "dp_" + port, new Pipeline.Start(null, null, hooks, s -> { }));
            RunContext logged = new RunContext(ctx.addresses(), ctx.config(), ctx.data(), ctx.parallel(), ctx.configOrder(), ctx.cuts(),
                    ctx.paramNames(), ctx.batchSize(), ctx.folder(), ctx.startIter(), ctx.initial(), ctx.history(), ctx.hooks(),
                    ctx.configDir(), ctx.rateScale(), log::add, ctx.gpu());
            CoordinatorVerticle.Result result;
            try {
                vertx.eventBus().<JsonObject>consumer(ctx.addresses().metrics(), m -> {
                    lines.add(m.body());
                    // SIGKILL the first replica once steps run on all three nodes
                    if (m.body().getInteger("replicas", 0) == 2 && killedAfter.get() == 0) {
                        killedAfter.set(m.body().getInteger("step"));
                        workers.get(0).process().destroyForcibly();
                    }
                });
                var announced = ClusterRun.announce(vertx, ctx.addresses().run(), config.root().node().toString(), dir, ctx.data())
                        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
                await(30, "both workers to serve the run", () -> workers.stream().allMatch(w -> w.said("and a replica of the net")), workers);
                result = Pipeline.run(vertx, logged).toCompletionStage().toCompletableFuture().get(180, TimeUnit.SECONDS);
                announced.unregister();
            } finally {
                Pipeline.close(ctx);
                folder.close();
            }
            assertEquals("finished", result.status(), result.message() + "\nlog: " + log);
            int killed = killedAfter.get();
            List<String> replicasByStep = lines.stream().map(l -> l.getInteger("step") + ":" + l.getInteger("replicas", 0)).toList();
            assertTrue(killed > 0 && killed < 35, "the first replica was killed mid-run, after step " + killed + "; replicas by step: "
                    + replicasByStep + "\nlog: " + log);
            String first = workers.get(0).node();
            String second = workers.get(1).node();
            for (String r : List.of(first, second)) {
                assertTrue(log.stream().anyMatch(l -> l.startsWith("cluster: replica " + r + " computes a share of each step from step ")),
                        "log: " + log);
            }
            assertTrue(log.stream().anyMatch(l -> l.startsWith("cluster: replica " + first + " sent no gradients of step ")
                    && l.contains("its share of the step runs here")), "log: " + log);
            // After the kill the steps ran on two nodes: the coordinator's and the second replica.
            assertTrue(lines.stream().anyMatch(l -> l.getInteger("step") > killed + 2 && l.getInteger("replicas", 0) == 1),
                    "replicas by step: " + replicasByStep);
            double d = PipelineTesting.maxRelativeDifference(PipelineTesting.finalWeights(folder), PipelineTesting.reference(config, 40));
            assertTrue(d <= 1e-5, "the weights differ from a single-node run by " + d);
        } finally {
            for (WorkerProcess w : workers) {
                w.process().destroyForcibly();
            }
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }
}
