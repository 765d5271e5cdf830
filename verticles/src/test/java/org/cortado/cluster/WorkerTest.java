package org.cortado.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.net.Net;
import org.cortado.engine.net.Phase;
import org.cortado.engine.ops.Parallel;
import org.cortado.engine.train.TrainingData;
import org.cortado.pipeline.Addresses;
import org.cortado.pipeline.PipelineTesting;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker's refusals, on one event bus (the protocol is the same clustered): data that differs from
 * the coordinator's, and data that is missing, are each reported to the run's coordinator (which logs
 * it once) and the worker serves nothing for that run.
 */
class WorkerTest {
    static final String SOLVER = """
            {"type": "SGD", "base_lr": 0.05, "lr_policy": "fixed", "max_iter": 10, "test_interval": 0, "snapshot": 0}""";

    @TempDir
    Path dir;
    Vertx vertx;
    final List<String> said = new CopyOnWriteArrayList<>();
    final LinkedBlockingQueue<String> notices = new LinkedBlockingQueue<>();

    @BeforeEach
    void setUp() {
        vertx = Vertx.vertx();
        vertx.eventBus().<JsonObject>consumer(new Addresses("r1").coordinatorNotices(), m -> notices.add(m.body().getString("message")));
    }

    @AfterEach
    void tearDown() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    /** The coordinator's data: 200 training samples. */
    private TrainingData coordinatorData() throws Exception {
        PipelineTesting.writeData(dir.resolve("a"));
        CortadoConfig c = PipelineTesting.config(dir.resolve("a"), SOLVER, "{}", false);
        return TrainingData.open(c, Net.build(c.net(), Phase.TRAIN, new Parallel(1), c.seed()), dir, s -> { });
    }

    private String announceAndWait(String configJson, TrainingData data) throws Exception {
        ClusterRun.announce(vertx, "r1", configJson, dir, data).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        new Worker(vertx, "in-process", 1, 1, false, null, said::add).start();
        String notice = notices.poll(30, TimeUnit.SECONDS);
        assertTrue(notice != null, "the coordinator heard nothing; the worker said " + said);
        return notice;
    }

    @Test
    void refusesACopyOfTheDataThatDiffers() throws Exception {
        try (TrainingData a = coordinatorData()) {
            PipelineTesting.writeSplit(dir.resolve("b").resolve("train"), 150, 1); // a partial copy
            PipelineTesting.writeSplit(dir.resolve("b").resolve("test"), 70, 2);
            String notice = announceAndWait(PipelineTesting.configJson(dir.resolve("b"), SOLVER, "{}", false), a);
            assertTrue(notice.contains("refused: this worker's data differs from the coordinator's"), notice);
            assertTrue(notice.contains("150 samples") && notice.contains("200 samples"), "says what differs: " + notice);
            Thread.sleep(2500);
            assertTrue(said.stream().noneMatch(l -> l.startsWith("serving")), "serves nothing: " + said);
            assertEquals(1, said.stream().filter(l -> l.contains("cannot load")).count(), "logged once for the run: " + said);
            // told again every second (a coordinator that was not yet listening hears it; it logs it once), never opened again
            assertTrue(!notices.isEmpty() && notices.stream().allMatch(notice::equals), "the same notice again: " + notices);
        }
    }

    @Test
    void saysWhichDataIsMissing() throws Exception {
        try (TrainingData a = coordinatorData()) {
            String notice = announceAndWait(PipelineTesting.configJson(dir.resolve("nowhere"), SOLVER, "{}", false), a);
            assertTrue(notice.contains("cannot load for run r1") && notice.contains("nowhere"), notice);
        }
    }

    @Test
    void servesTheSameData() throws Exception {
        try (TrainingData a = coordinatorData()) {
            ClusterRun.announce(vertx, "r1", PipelineTesting.configJson(dir.resolve("a"), SOLVER, "{}", false), dir, a)
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            new Worker(vertx, "in-process", 2, 1, false, null, said::add).start();
            long end = System.nanoTime() + 30_000_000_000L;
            while (said.stream().noneMatch(l -> l.startsWith("serving run r1: 2 loaders, 1 augmenters")) && System.nanoTime() < end) {
                Thread.sleep(50);
            }
            assertTrue(said.stream().anyMatch(l -> l.startsWith("serving run r1")), "said: " + said);
            assertEquals(0, notices.size(), notices.toString());
        }
    }

    @Test
    void saysSoWhenNoCoordinatorAnswers() throws Exception {
        new Worker(vertx, "in-process", 1, 1, false, null, said::add).start();
        long end = System.nanoTime() + 20_000_000_000L;
        while (said.isEmpty() && System.nanoTime() < end) {
            Thread.sleep(100);
        }
        assertEquals(1, said.size(), "said: " + said);
        assertTrue(said.getFirst().contains("no coordinator has answered for 10 s") && said.getFirst().contains("another name"),
                said.getFirst());
    }
}
