package org.cortado.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.LongStream;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.train.RunFolder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every sample is used exactly once per epoch, also when a loader is slow (its late replies arrive
 * after the batch was requested again: duplicates, dropped) and when a reply is lost (re-issued).
 */
class ExactlyOnceTest {
    static Vertx vertx;
    @TempDir
    static Path dir;

    @BeforeAll
    static void setUp() throws Exception {
        vertx = Vertx.vertx();
        PipelineTesting.writeData(dir.resolve("data"));
    }

    @AfterAll
    static void tearDown() {
        vertx.close();
    }

    @Test
    void slowAndLostRepliesStillGiveEverySampleOncePerEpoch() throws Exception {
        // 200 samples, batch 16: 13 batches per epoch (the last of 8); 39 steps = 3 epochs.
        String solver = """
            {"type": "SGD", "base_lr": 0.05, "momentum": 0.9, "lr_policy": "fixed", "max_iter": 39}""";
        CortadoConfig config = PipelineTesting.config(dir.resolve("data"), solver,
                "{\"threads\": 2, \"loaders\": 3, \"prefetch\": 6, \"request_timeout_ms\": 250}", false);
        Map<Long, List<Long>> seen = new ConcurrentHashMap<>();
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        RunContext.Hooks hooks = new RunContext.Hooks() {
            @Override
            public long delayMs(int loader, String phase, long epoch, int index, int attempt) {
                // the first answer to every 4th batch is late: after its re-issue has been answered
                return attempt == 0 && index % 4 == 1 ? 700 : 0;
            }

            @Override
            public boolean drop(int loader, String phase, long epoch, int index, int attempt) {
                return attempt == 0 && index % 5 == 2; // lost: only a re-issue brings it
            }

            @Override
            public void consumed(long epoch, int index, long[] ids) {
                order.add(epoch + ":" + index);
                List<Long> list = seen.computeIfAbsent(epoch, e -> Collections.synchronizedList(new ArrayList<>()));
                for (long id : ids) {
                    list.add(id);
                }
            }
        };
        RunFolder folder = RunFolder.create(dir.resolve("runs"), "once");
        var result = PipelineTesting.run(vertx, config, folder,
                new Pipeline.Start(null, null, hooks, s -> { }));
        assertTrue(result.ok(), () -> "run failed: " + result);

        assertEquals(3, seen.size(), "epochs seen: " + seen.keySet());
        List<Long> all = LongStream.range(0, 200).boxed().toList();
        for (var e : new TreeMap<>(seen).entrySet()) {
            List<Long> ids = new ArrayList<>(e.getValue());
            Collections.sort(ids);
            assertEquals(all, ids, "epoch " + e.getKey() + ": every sample exactly once");
        }
        List<String> expected = new ArrayList<>();
        for (int p = 0; p < 39; p++) {
            expected.add(p / 13 + ":" + p % 13);
        }
        assertEquals(expected, order, "batches are used in the sampler's order");

        // metrics.jsonl: per epoch, the samples, the re-issues and the duplicates dropped
        List<JsonObject> epochs = Files.readAllLines(folder.metricsFile()).stream().map(JsonObject::new)
                .filter(j -> j.containsKey("samples")).toList();
        assertEquals(3, epochs.size());
        long reissued = 0;
        long duplicates = 0;
        for (JsonObject e : epochs) {
            assertEquals(200, e.getLong("samples"));
            reissued += e.getLong("reissued");
            duplicates += e.getLong("duplicates_dropped");
        }
        // per epoch, 3 late (indexes 1, 5, 9) and 3 lost (2, 7, 12) first answers are re-issued
        assertTrue(reissued >= 3 * 6, "reissued " + reissued);
        assertTrue(duplicates >= 1, "late replies are dropped as duplicates, got " + duplicates);

        // and the weights are still exactly the in-process trainer's
        double d = PipelineTesting.maxRelativeDifference(PipelineTesting.finalWeights(folder),
                PipelineTesting.reference(config, 39));
        assertTrue(d <= 1e-6, "max relative difference " + d);
    }
}
