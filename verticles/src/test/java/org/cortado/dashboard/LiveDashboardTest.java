package org.cortado.dashboard;

import static org.cortado.dashboard.DashboardTesting.await;
import static org.cortado.dashboard.DashboardTesting.get;
import static org.cortado.dashboard.DashboardTesting.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.cortado.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dashboard of a real `cortado train`: live metrics, pause, resume, a live learning-rate change, stop. */
class LiveDashboardTest {
    @TempDir
    Path dir;

    private long iter(String base, String id) throws Exception {
        return get(base + "/api/runs/" + id).json().getLong("iter", 0L);
    }

    @Test
    void controlsARunningTrainingAndStreamsItsMetrics() throws Exception {
        Path config = DashboardTesting.config(dir, 1_000_000, "{\"port\": 0}");
        var t = new DashboardTesting.Training("train", config.toString(), "--runs", dir.resolve("runs").toString());
        String base = t.url();
        String id = Path.of(t.runFolder()).getFileName().toString();
        await(60, "steps", () -> {
            try {
                return iter(base, id) > 5;
            } catch (Exception e) {
                return false;
            }
        });
        JsonObject run = get(base + "/api/runs/" + id).json();
        assertEquals("running", run.getString("status"));
        assertTrue(run.getBoolean("live"));
        assertEquals(1_000_000L, run.getJsonObject("config").getJsonObject("solver").getLong("max_iter"));

        // Live: after the history, batches of new lines keep coming, in order, each line once, the newest
        // always there (a batch is downsampled to about 200 step lines when the steps outrun the pushes).
        var ws = DashboardTesting.Socket.open(base.replace("http", "ws") + "/ws");
        ws.send(new JsonObject().put("type", "subscribe").put("run", id).encode());
        JsonObject h = ws.next("history");
        long seq = h.getLong("last_seq");
        for (int i = 0; i < 3; i++) {
            JsonObject m = ws.next("metrics");
            List<JsonObject> batch = DashboardTesting.events(m);
            long plain = batch.stream().filter(l -> !l.containsKey("samples") && !l.containsKey("test_samples")).count();
            assertTrue(plain <= DashboardVerticle.PUSH_LINES + 1, "bounded (test passes and epoch ends aside): " + plain);
            long prev = seq;
            for (JsonObject l : batch) {
                assertTrue(l.getLong("seq") > prev, "in order, none repeated");
                prev = l.getLong("seq");
            }
            assertEquals(m.getLong("last_seq"), prev, "the newest line is in the batch");
            seq = prev;
        }
        JsonObject line = DashboardTesting.events(h).getLast();
        for (String key : List.of("loss", "lr", "images_per_sec", "step_ms", "data_wait_ms", "forward_ms", "backward_ms",
                "update_ms", "loader_queue", "heap_used_mb", "epochs", "time")) {
            assertTrue(line.containsKey(key), key + " in " + line);
        }

        // Bad input while it trains: answered, and the training goes on.
        ws.send("{oops");
        assertEquals("error", ws.next("error").getString("type"));
        assertEquals(400, post(base + "/api/runs/" + id + "/control", "{\"action\": \"lr\", \"lr\": -1}").status());
        var unknown = post(base + "/api/runs/" + id + "/control", "{\"action\": \"dance\"}");
        assertEquals(400, unknown.status());
        assertTrue(unknown.json().getString("error").contains("unknown action \"dance\""), unknown.body());

        // Pause: the steps stop.
        assertEquals(200, post(base + "/api/runs/" + id + "/control", "{\"action\": \"pause\"}").status());
        assertEquals("paused", get(base + "/api/runs/" + id).json().getString("status"));
        Thread.sleep(700); // the steps already handed to the stages finish
        long paused = iter(base, id);
        Thread.sleep(1000);
        assertEquals(paused, iter(base, id), "no step while paused");
        assertTrue(ws.next("status").getJsonObject("status").getString("status").equals("paused"));

        // A new learning rate, from the next update on.
        var lr = post(base + "/api/runs/" + id + "/control", "{\"action\": \"lr\", \"lr\": 0.0123}");
        assertEquals(200, lr.status(), lr.body());
        assertEquals(0.0123, lr.json().getDouble("lr"), 1e-12);
        long from = lr.json().getLong("from_step");
        assertEquals(paused, from, "the next update is the first with the new rate");
        assertEquals(200, post(base + "/api/runs/" + id + "/control", "{\"action\": \"resume\"}").status());
        await(60, "steps after resume", () -> {
            try {
                return iter(base, id) > from + 3;
            } catch (Exception e) {
                return false;
            }
        });
        var lines = DashboardTesting.events(get(base + "/api/runs/" + id + "/metrics?after=" + seq + "&max=100000").json());
        for (JsonObject l : lines) {
            if (l.containsKey("lr")) {
                // line "step" k reports update k - 1
                assertEquals(l.getLong("step") > from ? 0.0123 : 0.05, l.getDouble("lr"), 1e-9, l.encode());
            }
        }
        String prom = get(base + "/metrics").body();
        assertTrue(prom.contains("cortado_run_info{run=\"" + id + "\",status=\"running\"} 1"), prom);
        assertTrue(prom.contains("cortado_learning_rate{run=\"" + id + "\"} 0.0123"), prom);

        // Snapshot now: written at the next step boundary, the run goes on.
        var snap = post(base + "/api/runs/" + id + "/control", "{\"action\": \"snapshot\"}");
        assertEquals(200, snap.status(), snap.body());
        Path snapshots = Path.of(t.runFolder()).resolve("snapshots");
        await(30, "the snapshot", () -> {
            try (var s = Files.list(snapshots)) {
                return s.anyMatch(p -> p.toString().endsWith(".solverstate.h5"));
            } catch (java.io.IOException e) {
                return false;
            }
        });
        assertEquals("running", get(base + "/api/runs/" + id).json().getString("status"));

        // A reconnect gets only what it missed.
        ws.close();
        var again = DashboardTesting.Socket.open(base.replace("http", "ws") + "/ws");
        again.send(new JsonObject().put("type", "subscribe").put("run", id).put("after", seq).encode());
        List<JsonObject> missed = DashboardTesting.events(again.next("history"));
        assertFalse(missed.isEmpty());
        assertEquals(seq + 1, missed.getFirst().getLong("seq"));

        // Stop: a snapshot, then the run ends.
        assertEquals(200, post(base + "/api/runs/" + id + "/control", "{\"action\": \"stop\"}").status());
        assertEquals(0, t.join(), t.output());
        assertTrue(t.output().contains("run stopped at iteration"), t.output());
        JsonObject status = new JsonObject(Files.readString(Path.of(t.runFolder()).resolve("status.json")));
        assertEquals("stopped", status.getString("status"));
        try (var snaps = Files.list(Path.of(t.runFolder()).resolve("snapshots"))) {
            assertTrue(snaps.anyMatch(p -> p.toString().endsWith(".solverstate.h5")), "stop wrote a snapshot");
        }
    }

    @Test
    void aPortInUseStopsTheRunBeforeItStartsWithAClearError() throws Exception {
        Path config = DashboardTesting.config(dir, 20, "{\"port\": 0}");
        try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            var out = new java.io.StringWriter();
            var err = new java.io.StringWriter();
            int code = Main.run(new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true), "train", config.toString(),
                    "--runs", dir.resolve("runs").toString(), "--set", "dashboard.port=" + taken.getLocalPort());
            assertEquals(2, code, out + "\n" + err);
            assertTrue(err.toString().contains("dashboard.port: 127.0.0.1:" + taken.getLocalPort() + " is already in use"), err.toString());
            assertTrue(err.toString().contains("--set dashboard.port=N"), "says what to do: " + err);
        }
        try (var left = Files.list(dir.resolve("runs"))) {
            assertEquals(0, left.count(), "no run folder is left behind");
        }
        // Turned off, the same run trains.
        var out = new java.io.StringWriter();
        int code = Main.run(new java.io.PrintWriter(out, true), new java.io.PrintWriter(new java.io.StringWriter(), true), "train",
                config.toString(), "--runs", dir.resolve("runs").toString(), "--set", "dashboard.enabled=false");
        assertEquals(0, code, out.toString());
        assertFalse(out.toString().contains("dashboard:"), out.toString());
    }
}
