package org.cortado.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.cortado.dashboard.DashboardVerticle;
import org.cortado.dashboard.Runs;
import org.cortado.engine.config.DashboardConfig;
import org.cortado.pipeline.PipelineTesting;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Starting runs from the dashboard: the configs it offers, validation errors with JSON paths, one run at a time. */
class DashboardLaunchTest {
    @TempDir
    static Path dir;
    static Vertx vertx;
    static String base;
    static final StringWriter log = new StringWriter();
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void setUp() throws Exception {
        PipelineTesting.writeData(dir.resolve("data"));
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Files.writeString(conf.resolve("tiny.json"), PipelineTesting.configJson(dir.resolve("data"), """
                {"type": "SGD", "base_lr": 0.05, "momentum": 0.9, "lr_policy": "fixed", "max_iter": 30,
                 "test_interval": 0, "snapshot": 0}""", "{\"threads\": 1}", false));
        Files.writeString(conf.resolve("notes.txt"), "not a config");
        vertx = Vertx.vertx();
        Runs runs = new Runs(dir.resolve("runs"));
        DashboardVerticle d = new DashboardVerticle(new DashboardConfig(true, "127.0.0.1", 0, null, false, 10), runs,
                Launches.launcher(vertx, runs, conf, new PrintWriter(log, true)), conf);
        vertx.deployVerticle(d).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        base = "http://127.0.0.1:" + d.port();
    }

    @AfterAll
    static void tearDown() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonObject config() throws Exception {
        return new JsonObject(get("/api/configs/tiny.json").body());
    }

    @Test
    void offersTheConfigFolderAndRefusesBadConfigsWithEveryProblem() throws Exception {
        JsonObject list = new JsonObject(get("/api/configs").body());
        assertEquals(java.util.List.of("tiny.json"), list.getJsonArray("configs").getList());
        assertTrue(list.getBoolean("launch"));
        assertEquals(404, get("/api/configs/notes.txt").statusCode());
        assertEquals(404, get("/api/configs/..%2Fdata").statusCode());

        JsonObject bad = config();
        bad.getJsonObject("solver").put("base_lr", -1);
        bad.put("bogus", 1);
        bad.getJsonObject("net").getJsonArray("layers").getJsonObject(1).remove("num_output");
        var r = post("/api/runs", new JsonObject().put("config", bad).encode());
        assertEquals(400, r.statusCode(), r.body());
        String problems = new JsonObject(r.body()).getJsonArray("problems").encode();
        assertTrue(problems.contains("solver.base_lr"), problems);
        assertTrue(problems.contains("bogus"), problems);
        assertTrue(problems.contains("net.layers[1].num_output"), problems);

        JsonObject noData = config();
        noData.getJsonObject("data").getJsonObject("train").put("source", dir.resolve("nowhere").toString());
        var missing = post("/api/runs", new JsonObject().put("config", noData).encode());
        assertEquals(400, missing.statusCode(), missing.body());
        assertTrue(missing.body().contains("nowhere"), "names the missing data: " + missing.body());

        assertEquals(400, post("/api/runs", "{\"config\": [1]}").statusCode());
        assertEquals(400, post("/api/runs", "not json").statusCode());
        assertEquals(413, post("/api/runs", "{\"config\": {\"x\": \"" + "y".repeat(1 << 21) + "\"}}").statusCode());
        assertTrue(!Files.exists(dir.resolve("runs")) || Files.list(dir.resolve("runs")).findAny().isEmpty(),
                "a refused config leaves no run folder");
    }

    @Test
    void launchesARunAndTrainsItToTheEnd() throws Exception {
        JsonObject cfg = config().put("name", "../escape attempt");
        cfg.getJsonObject("solver").put("max_iter", 400);
        var r = post("/api/runs", new JsonObject().put("config", cfg).encode());
        assertEquals(201, r.statusCode(), r.body() + log);
        String id = new JsonObject(r.body()).getString("id");
        assertTrue(id.startsWith("__escape_attempt-"), "the name never makes a path: " + id);
        assertTrue(Files.isDirectory(dir.resolve("runs").resolve(id)));
        var second = post("/api/runs", new JsonObject().put("config", config()).encode());
        assertEquals(409, second.statusCode(), "one run at a time: " + second.body());
        long end = System.nanoTime() + 120_000_000_000L;
        JsonObject run;
        do {
            Thread.sleep(100);
            run = new JsonObject(get("/api/runs/" + id).body());
        } while (!(run.getString("status").equals("finished") && !run.getBoolean("live")) && System.nanoTime() < end);
        assertEquals("finished", run.getString("status"), run.encode() + log);
        assertEquals(400L, run.getLong("iter"));
        assertTrue(!run.getBoolean("live"), "a run that ended is read from its folder: " + run.encode());
        Path folder = dir.resolve("runs").resolve(id);
        assertEquals("finished", new JsonObject(Files.readString(folder.resolve("status.json"))).getString("status"));
        assertEquals(400, Files.readAllLines(folder.resolve("metrics.jsonl")).size());
        // per-layer stats every dashboard.layer_stats_every steps of the run's config (default 50), from step 1 on
        var layers = new JsonObject(get("/api/runs/" + id + "/layers").body()).getJsonArray("events");
        assertEquals(8, layers.size(), "steps 1, 51, ..., 351");
        JsonObject first = layers.getJsonObject(0);
        assertEquals(1L, first.getLong("step"));
        assertTrue(first.getJsonArray("params").size() == 6 && !first.getJsonArray("activations").isEmpty(), first.encode());
        assertTrue(Files.isRegularFile(folder.resolve("weights.caffemodel.h5")));
        assertTrue(log.toString().contains("run finished at iteration 400"), log.toString());
    }
}
