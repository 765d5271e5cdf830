package org.cortado.dashboard;

import static org.cortado.dashboard.DashboardTesting.get;
import static org.cortado.dashboard.DashboardTesting.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.cortado.engine.config.DashboardConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dashboard's REST, websocket and security rules, on run folders written by hand (no training). */
class DashboardApiTest {
    @TempDir
    static Path dir;
    static Vertx vertx;
    static String base;
    static String tokenBase;
    static DashboardVerticle guarded;

    @BeforeAll
    static void setUp() throws Exception {
        Path run = Files.createDirectories(dir.resolve("runs").resolve("tiny-20260101-000000"));
        Files.writeString(run.resolve("config.json"), "{\"version\": 1, \"name\": \"tiny\"}");
        Files.writeString(run.resolve("status.json"), "{\"status\": \"finished\", \"iter\": 3000}");
        StringBuilder lines = new StringBuilder();
        for (int s = 1; s <= 3000; s++) {
            JsonObject l = new JsonObject().put("step", s).put("loss", 1.0 / s).put("lr", 0.01);
            if (s % 1000 == 0) {
                l.put("test_accuracy", s / 4000.0).put("test_samples", 100);
            }
            lines.append(l.encode()).append('\n');
        }
        lines.append("{\"step\": 3001, \"loss\"");  // a line cut short by a crash
        Files.writeString(run.resolve("metrics.jsonl"), lines);
        Files.createDirectories(dir.resolve("runs").resolve("not-a-run")); // no config.json: not listed

        vertx = Vertx.vertx();
        Runs runs = new Runs(dir.resolve("runs"));
        DashboardVerticle open = new DashboardVerticle(new DashboardConfig(true, "127.0.0.1", 0, null, false, 0), runs);
        vertx.deployVerticle(open).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        base = "http://127.0.0.1:" + open.port();
        guarded = new DashboardVerticle(new DashboardConfig(true, "0.0.0.0", 0, "s3cret-token", false, 0), runs);
        vertx.deployVerticle(guarded).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        tokenBase = "http://127.0.0.1:" + guarded.port();
    }

    @AfterAll
    static void tearDown() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @Test
    void listsRunsAndServesTheirConfigAndMetrics() throws Exception {
        var runs = get(base + "/api/runs").json().getJsonArray("runs");
        JsonObject r = null;
        for (int i = 0; i < runs.size(); i++) {
            if (runs.getJsonObject(i).getString("id").equals("tiny-20260101-000000")) {
                r = runs.getJsonObject(i);
            }
        }
        assertTrue(r != null, "listed: " + runs.encode());
        assertTrue(runs.stream().noneMatch(o -> ((JsonObject) o).getString("id").equals("not-a-run")), "a folder without config.json is not a run");
        assertEquals("tiny-20260101-000000", r.getString("id"));
        assertEquals("finished", r.getString("status"));
        assertEquals(3000L, r.getLong("iter"));
        assertEquals(0.75, r.getDouble("test_accuracy"), 1e-12);

        JsonObject one = get(base + "/api/runs/tiny-20260101-000000").json();
        assertEquals("tiny", one.getJsonObject("config").getString("name"));

        JsonObject m = get(base + "/api/runs/tiny-20260101-000000/metrics?max=100").json();
        List<JsonObject> events = DashboardTesting.events(m);
        assertTrue(events.size() >= 100 && events.size() <= 110, "downsampled to about 100: " + events.size());
        assertEquals(3000L, events.getLast().getLong("step"), "the newest line is always there");
        assertEquals(3, events.stream().filter(e -> e.containsKey("test_accuracy")).count(), "every test pass is kept");
        assertEquals(2999L, m.getLong("last_seq"), "the cut line is skipped");

        JsonObject after = get(base + "/api/runs/tiny-20260101-000000/metrics?after=2994").json();
        assertEquals(List.of(2996L, 2997L, 2998L, 2999L, 3000L),
                DashboardTesting.events(after).stream().map(e -> e.getLong("step")).toList());
    }

    @Test
    void followsARunAnotherProcessWritesLineByLine() throws Exception {
        Path run = Files.createDirectories(dir.resolve("runs").resolve("growing-20260101-000000"));
        Files.writeString(run.resolve("config.json"), "{\"version\": 1}");
        Files.writeString(run.resolve("status.json"), "{\"status\": \"running\", \"iter\": 0}");
        Path metrics = run.resolve("metrics.jsonl");
        Files.writeString(metrics, "{\"step\": 1, \"loss\": 2.0}\n{\"step\": 2, \"loss\": 1.5}\n{\"step\": 3, \"lo");
        String url = base + "/api/runs/growing-20260101-000000/metrics";
        var first = DashboardTesting.events(get(url).json());
        assertEquals(List.of(1L, 2L), first.stream().map(e -> e.getLong("step")).toList(), "a line being written waits");
        Files.writeString(metrics, "ss\": 1.2}\n{\"step\": 4, \"loss\": 1.1}\n", java.nio.file.StandardOpenOption.APPEND);
        var next = DashboardTesting.events(get(url + "?after=1").json());
        assertEquals(List.of(3L, 4L), next.stream().map(e -> e.getLong("step")).toList());
        assertEquals(List.of(2L, 3L), next.stream().map(e -> e.getLong("seq")).toList(), "numbered on");
        JsonObject r = get(base + "/api/runs/growing-20260101-000000").json();
        assertEquals("running elsewhere or interrupted", r.getString("status"));
        assertEquals(4L, r.getLong("iter"));
        Files.writeString(metrics, "{\"step\": 1, \"loss\": 9.0}\n"); // rewritten: read again from the start
        assertEquals(9.0, DashboardTesting.events(get(url).json()).getFirst().getDouble("loss"));
    }

    @Test
    void badRequestsGetClearErrors() throws Exception {
        var unknown = get(base + "/api/runs/nope");
        assertEquals(404, unknown.status());
        assertEquals("unknown run \"nope\"", unknown.json().getString("error"));
        assertEquals(404, get(base + "/api/runs/..%2F..%2Fetc/metrics").status(), "an id is never a path");
        assertEquals(404, get(base + "/api/runs/not-a-run").status());
        assertEquals(400, get(base + "/api/runs/tiny-20260101-000000/metrics?after=x").status());

        var notLive = post(base + "/api/runs/tiny-20260101-000000/control", "{\"action\": \"pause\"}");
        assertEquals(409, notLive.status());
        assertTrue(notLive.json().getString("error").contains("not training in this process"), notLive.body());
        var malformed = post(base + "/api/runs/tiny-20260101-000000/control", "{pause");
        assertEquals(400, malformed.status(), malformed.body());
        var noAction = post(base + "/api/runs/tiny-20260101-000000/control", "{\"lr\": 1}");
        assertEquals(400, noAction.status(), noAction.body());
        var huge = post(base + "/api/runs/tiny-20260101-000000/control", "{\"action\": \"" + "x".repeat(2 << 20) + "\"}");
        assertEquals(413, huge.status(), "an oversized body is refused");
        // (The JDK's HTTP client will not send an Origin header: a browser's request, by hand.)
        String foreign = DashboardTesting.raw(base, "POST /api/runs/tiny-20260101-000000/control HTTP/1.1\r\n"
                + "Host: " + base.substring(7) + "\r\nOrigin: http://evil.example\r\nContent-Type: application/json\r\n"
                + "Content-Length: 17\r\nConnection: close\r\n\r\n{\"action\":\"stop\"}");
        assertTrue(foreign.startsWith("HTTP/1.1 403"), "a page of another origin cannot control a run: " + foreign);
        assertTrue(foreign.contains("another origin (http://evil.example)"), foreign);
        String sameOrigin = DashboardTesting.raw(base, "POST /api/runs/tiny-20260101-000000/control HTTP/1.1\r\n"
                + "Host: " + base.substring(7) + "\r\nOrigin: " + base + "\r\nContent-Type: application/json\r\n"
                + "Content-Length: 17\r\nConnection: close\r\n\r\n{\"action\":\"stop\"}");
        assertTrue(sameOrigin.startsWith("HTTP/1.1 409"), "the dashboard's own page gets through: " + sameOrigin);
        String foreignSocket = DashboardTesting.raw(base, "GET /ws HTTP/1.1\r\nHost: " + base.substring(7)
                + "\r\nOrigin: http://evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        assertTrue(foreignSocket.startsWith("HTTP/1.1 403"), "a websocket from another origin is refused: " + foreignSocket);
        assertEquals(404, get(base + "/api/nothing").status());
        assertEquals(200, get(base + "/").status());
        assertTrue(get(base + "/").body().contains("uPlot.iife.min.js"));
        assertEquals(200, get(base + "/webjars/uplot/1.6.30/dist/uPlot.iife.min.js").status());
    }

    @Test
    void websocketSendsHistoryAndAnswersBadMessagesWithErrors() throws Exception {
        var s = DashboardTesting.Socket.open(base.replace("http", "ws") + "/ws");
        s.send("not json");
        assertTrue(s.next().getString("message").startsWith("malformed message"));
        s.send("[1, 2]");
        assertEquals("error", s.next().getString("type"));
        s.send("{\"type\": \"dance\"}");
        assertTrue(s.next().getString("message").startsWith("unknown message type \"dance\""));
        s.send("{\"type\": \"subscribe\", \"run\": \"nope\"}");
        assertEquals("unknown run \"nope\"", s.next().getString("message"));
        s.send("{\"type\": \"subscribe\", \"run\": \"tiny-20260101-000000\", \"after\": \"x\"}");
        assertEquals("error", s.next().getString("type"));

        s.send("{\"type\": \"subscribe\", \"run\": \"tiny-20260101-000000\"}");
        JsonObject h = s.next("history");
        assertTrue(DashboardTesting.events(h).size() <= DashboardVerticle.HISTORY_POINTS + 10);
        assertEquals(2999L, h.getLong("last_seq"));
        assertEquals("finished", h.getJsonObject("status").getString("status"));
        // A reconnect asks for what it missed only.
        s.send("{\"type\": \"subscribe\", \"run\": \"tiny-20260101-000000\", \"after\": 2997}");
        assertEquals(List.of(2999L, 3000L), DashboardTesting.events(s.next("history")).stream().map(e -> e.getLong("step")).toList());
        s.close();
    }

    @Test
    void offLoopbackEverythingNeedsTheToken() throws Exception {
        assertTrue(guarded.url().endsWith("/?token=s3cret-token"), guarded.url());
        assertEquals(401, get(tokenBase + "/api/runs").status());
        assertEquals(401, get(tokenBase + "/metrics").status());
        assertEquals(401, get(tokenBase + "/api/runs", "X-Cortado-Token", "wrong-token").status());
        assertEquals(200, get(tokenBase + "/api/runs", "X-Cortado-Token", "s3cret-token").status());
        assertEquals(200, get(tokenBase + "/api/runs", "Authorization", "Bearer s3cret-token").status());
        assertEquals(200, get(tokenBase + "/api/runs", "Cookie", "cortado_token=s3cret-token").status());
        var control = post(tokenBase + "/api/runs/tiny-20260101-000000/control", "{\"action\": \"stop\"}");
        assertEquals(401, control.status());
        assertTrue(control.json().getString("error").contains("token"), control.body());
        assertEquals(409, post(tokenBase + "/api/runs/tiny-20260101-000000/control", "{\"action\": \"stop\"}",
                "X-Cortado-Token", "s3cret-token").status(), "with the token it gets through (to: not live)");
        assertEquals(200, get(tokenBase + "/").status(), "the page itself is static and open");
        var ws = DashboardTesting.HTTP.newWebSocketBuilder().buildAsync(java.net.URI.create(tokenBase.replace("http", "ws") + "/ws"),
                new java.net.http.WebSocket.Listener() { });
        try {
            ws.get(20, TimeUnit.SECONDS);
            org.junit.jupiter.api.Assertions.fail("a websocket without the token must be refused");
        } catch (java.util.concurrent.ExecutionException expected) {
            var refused = assertInstanceOf(java.net.http.WebSocketHandshakeException.class, expected.getCause());
            assertEquals(401, refused.getResponse().statusCode());
        }
        var withToken = DashboardTesting.HTTP.newWebSocketBuilder().header("X-Cortado-Token", "s3cret-token")
                .buildAsync(java.net.URI.create(tokenBase.replace("http", "ws") + "/ws"), new java.net.http.WebSocket.Listener() { })
                .get(20, TimeUnit.SECONDS);
        withToken.sendClose(java.net.http.WebSocket.NORMAL_CLOSURE, "").join();
    }

    @Test
    void openReadLetsAnyoneReadButNotControl() throws Exception {
        DashboardVerticle d = new DashboardVerticle(new DashboardConfig(true, "0.0.0.0", 0, "s3cret-token", true, 0),
                new Runs(dir.resolve("runs")));
        vertx.deployVerticle(d).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        String b = "http://127.0.0.1:" + d.port();
        assertEquals(200, get(b + "/api/runs").status());
        assertEquals(401, post(b + "/api/runs/tiny-20260101-000000/control", "{\"action\": \"stop\"}").status());
    }
}
