package org.cortado.dashboard;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import java.io.IOException;
import java.net.BindException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.cortado.engine.ConfigException;
import org.cortado.engine.config.DashboardConfig;

/**
 * The dashboard's HTTP server (Vert.x Web, on an event loop): the browser app of module
 * {@code web-dashboard}, REST for runs, configs and control, one websocket that streams metrics, and
 * {@code /metrics} in Prometheus' text format.
 *
 * <pre>
 *   GET  /api/runs                    the runs, newest first: id, name, status, iter, live; "cluster": a clustered run's members
 *   GET  /api/runs/ID                 one run: status and its config
 *   GET  /api/runs/ID/net             its TRAIN net as a graph: layers, blob shapes, params, FLOPs (the run folder's net.json)
 *   GET  /api/runs/ID/metrics         its metric lines (?after=SEQ&amp;max=N; downsampled to about N, default 2000)
 *   GET  /api/runs/ID/layers          its per-layer stats (layers.jsonl), the same way
 *   POST /api/runs                    {"config": {...}}: validate and start a run; 201 {"id"}, or 400 {"error", "problems": [JSON path: what]}
 *   GET  /api/configs                 the configs the launch form offers (the config folder's *.json)
 *   GET  /api/configs/NAME            one of them
 *   POST /api/runs/ID/control         {"action": "pause" | "resume" | "stop" | "snapshot"} or {"action": "lr", "lr": 0.001}
 *   GET  /metrics                     the live runs' latest values, Prometheus text format
 *   WS   /ws                          send {"type": "subscribe", "run": ID, "after": SEQ, "after_layers": SEQ}; receive
 *                                     "history" (at most 2000 points per series, and the per-layer stats), then "metrics"
 *                                     and "layers" batches and "status" changes as they come; a reconnect sends the last
 *                                     seqs it has and gets only what it missed
 * </pre>
 *
 * <p>Security: on a loopback address everything is open to the local user. Bound elsewhere, control
 * (and reading, unless {@code open_read}) needs the token printed at start, sent as header
 * {@code X-Cortado-Token}, as {@code Authorization: Bearer}, or as cookie {@code cortado_token}
 * (which the page sets from its {@code ?token=} link). A request or websocket from a page of another
 * origin is refused. Bodies are limited to {@value #MAX_BODY} bytes and websocket messages to
 * {@value #MAX_WS_MESSAGE}; a run id is only ever matched against the listed runs.
 *
 * <p>Clustered runs: nothing here assumes one process. Control goes over the event bus and runs are
 * found by folder, so a clustered event bus carries both as is. Cluster members and per-node loader
 * throughput are to arrive the way every other series does: as fields of the coordinator's metrics
 * line (a {@code members} list: node, loaders, batches per second), which the page charts as one
 * more entry of its chart list.
 *
 * <p>Pushes are batched: every {@value #PUSH_MS} ms each subscribed socket gets the lines it has not
 * seen, in one message (encoded once for all sockets at the same point), so ten browsers cost the
 * training ten small writes per second, not one wake-up per step each. (On a small machine every
 * thread wake-up takes a core from the compute: {@code cortado bench --dashboard} measured 4 pushes a
 * second costing clearly more than 1.)
 */
public final class DashboardVerticle extends VerticleBase {
    static final int MAX_BODY = 1 << 20;
    static final int MAX_WS_MESSAGE = 64 << 10;
    static final long PUSH_MS = 1000;
    /** At most about this many lines per push (downsampled as the history is; the newest and every test pass kept). */
    static final int PUSH_LINES = 200;
    /** At most this many lines per series when a browser connects. */
    static final int HISTORY_POINTS = 2000;
    /** At most this many per-layer samples when a browser connects. */
    static final int LAYER_POINTS = 300;

    /** Starts a run from a config sent by the browser (called on a worker thread). */
    public interface Launcher {
        /**
         * Validates and starts {@code config}; returns {@code {"id": RUN_ID}}. A {@link org.cortado.engine.ConfigException}
         * lists the config's problems (400), another {@link org.cortado.engine.CortadoException} says what is wrong with
         * its data (400), {@link Refused} carries its own status.
         */
        JsonObject launch(JsonObject config);
    }

    /** A request the dashboard refuses with {@code status} (409: a run is already training, ...). */
    public static final class Refused extends RuntimeException {
        private final int status;

        public Refused(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private final DashboardConfig config;
    private final Runs runs;
    private final Launcher launcher;
    private final java.nio.file.Path configsDir;
    private final String token;
    private HttpServer server;
    private long pushTimer = -1;
    private final Map<ServerWebSocket, Subscription> sockets = new HashMap<>();

    /** What one websocket follows. */
    private static final class Subscription {
        Runs.Run run;
        long lastSeq = -1;
        long lastLayerSeq = -1;
        long statusVersion = -1;
    }

    /** A dashboard that shows runs only (no launching). */
    public DashboardVerticle(DashboardConfig config, Runs runs) {
        this(config, runs, null, null);
    }

    /** {@code launcher}: starts runs from the browser (null: none); {@code configsDir}: the configs the launch form offers (null: none). */
    public DashboardVerticle(DashboardConfig config, Runs runs, Launcher launcher, java.nio.file.Path configsDir) {
        this.config = config;
        this.runs = runs;
        this.launcher = launcher;
        this.configsDir = configsDir;
        this.token = config.loopback() ? null
                : config.token() != null ? config.token() : HexFormat.of().formatHex(randomBytes());
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[16];
        new SecureRandom().nextBytes(b);
        return b;
    }

    /** The runs it shows. */
    public Runs runs() {
        return runs;
    }

    /** The token control needs (null on loopback). */
    public String token() {
        return token;
    }

    /** The port listened on (the actual one when the config says 0). */
    public int port() {
        return server.actualPort();
    }

    /** The address to open: {@code http://HOST:PORT/}, with {@code ?token=} when one is needed. */
    public String url() {
        String host = config.host().contains(":") && !config.host().startsWith("[") ? "[" + config.host() + "]" : config.host();
        return "http://" + host + ":" + port() + "/" + (token == null ? "" : "?token=" + token);
    }

    @Override
    public Future<?> start() {
        Router router = Router.router(vertx);
        router.route().handler(this::checkOrigin);
        router.route("/api/*").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY));
        router.route("/api/*").handler(rc -> {
            if (authorized(rc, rc.request().method() != HttpMethod.GET)) {
                rc.next();
            } else {
                error(rc, 401, "this dashboard is not on a loopback address: "
                        + (rc.request().method() == HttpMethod.GET ? "reading" : "control") + " needs the token printed at start"
                        + " (header X-Cortado-Token, or open the printed link)");
            }
        });
        router.get("/api/runs").handler(this::listRuns);
        router.get("/api/runs/:id").handler(this::getRun);
        router.get("/api/runs/:id/metrics").handler(rc -> getLines(rc, false));
        router.get("/api/runs/:id/layers").handler(rc -> getLines(rc, true));
        router.get("/api/runs/:id/net").handler(this::getNet);
        router.post("/api/runs/:id/control").handler(this::control);
        router.post("/api/runs").handler(this::launch);
        router.get("/api/configs").handler(this::listConfigs);
        router.get("/api/configs/:name").handler(this::getConfig);
        router.get("/metrics").handler(rc -> {
            if (!authorized(rc, false)) {
                error(rc, 401, "reading needs the token printed at start");
                return;
            }
            rc.response().putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
                    .end(Prometheus.format(runs.live()));
        });
        router.get("/ws").handler(this::upgrade);
        router.route("/api/*").handler(rc -> error(rc, 404, "no such API: " + rc.request().method() + " " + rc.request().path()));
        router.get("/webjars/*").handler(StaticHandler.create("META-INF/resources/webjars"));
        router.get("/*").handler(StaticHandler.create("cortado-dashboard").setIndexPage("index.html"));
        router.route().failureHandler(rc -> {
            int code = rc.statusCode() > 0 ? rc.statusCode() : 500;
            error(rc, code, code == 413 ? "request body over " + MAX_BODY + " bytes"
                    : rc.failure() != null ? String.valueOf(rc.failure().getMessage()) : "HTTP " + code);
        });

        HttpServerOptions opts = new HttpServerOptions().setHost(config.host()).setPort(config.port())
                .setMaxWebSocketMessageSize(MAX_WS_MESSAGE).setMaxWebSocketFrameSize(MAX_WS_MESSAGE);
        return vertx.createHttpServer(opts).requestHandler(router).listen()
                .recover(e -> Future.failedFuture(bindError(e)))
                .onSuccess(s -> {
                    server = s;
                    pushTimer = vertx.setPeriodic(PUSH_MS, t -> push());
                });
    }

    private Throwable bindError(Throwable e) {
        String what = config.host() + ":" + config.port();
        if (e instanceof BindException || String.valueOf(e.getMessage()).contains("in use")) {
            return new ConfigException("dashboard.port: " + what + " is already in use (another cortado train or dashboard?);"
                    + " choose another with --set dashboard.port=N (0: any free port) or turn it off with --set dashboard.enabled=false");
        }
        return new ConfigException("dashboard.host: cannot listen on " + what + ": " + e.getMessage());
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(pushTimer);
        return server == null ? Future.succeededFuture() : server.close();
    }

    // ---- security ----

    /** Refuses a request that a page of another origin sent (a browser always sends Origin then). */
    private void checkOrigin(RoutingContext rc) {
        String origin = rc.request().getHeader("Origin");
        String host = rc.request().getHeader("Host");
        if (origin != null && !origin.equals("null") && host != null
                && !(origin.equals("http://" + host) || origin.equals("https://" + host))) {
            error(rc, 403, "requests from pages of another origin (" + origin + ") are refused");
            return;
        }
        if (origin != null && origin.equals("null")) {
            error(rc, 403, "requests from pages without an origin are refused");
            return;
        }
        rc.next();
    }

    private boolean authorized(RoutingContext rc, boolean control) {
        if (token == null || !control && config.openRead()) {
            return true;
        }
        String given = rc.request().getHeader("X-Cortado-Token");
        String auth = rc.request().getHeader("Authorization");
        if (given == null && auth != null && auth.startsWith("Bearer ")) {
            given = auth.substring(7).trim();
        }
        if (given == null && rc.request().getCookie("cortado_token") != null) {
            given = rc.request().getCookie("cortado_token").getValue();
        }
        return given != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8));
    }

    private static void error(RoutingContext rc, int status, String message) {
        if (rc.response().ended()) {
            return;
        }
        rc.response().setStatusCode(status).putHeader("content-type", "application/json")
                .end(new JsonObject().put("error", message).encode());
    }

    private static void json(RoutingContext rc, Object body) {
        rc.response().putHeader("content-type", "application/json").putHeader("cache-control", "no-store")
                .end(body instanceof JsonObject o ? o.encode() : ((JsonArray) body).encode());
    }

    // ---- REST ----

    private void listRuns(RoutingContext rc) {
        JsonArray out = new JsonArray();
        for (Runs.Run r : runs.all()) {
            out.add(summary(r));
        }
        json(rc, new JsonObject().put("runs", out));
    }

    private static JsonObject summary(Runs.Run r) {
        JsonObject s = r.status();
        JsonObject o = new JsonObject().put("id", r.id()).put("live", r instanceof Runs.LiveRun)
                .put("status", s.getString("status", "unknown")).put("iter", s.getLong("iter", 0L));
        if (s.containsKey("message")) {
            o.put("message", s.getString("message"));
        }
        if (s.getValue("cluster") instanceof JsonObject members) {
            o.put("cluster", members);
        }
        JsonObject test = r.history().latestWith("test_accuracy");
        if (test != null) {
            o.put("test_accuracy", test.getValue("test_accuracy"));
        }
        return o;
    }

    private Runs.Run run(RoutingContext rc) {
        String id = rc.pathParam("id");
        Runs.Run r = runs.find(id).orElse(null);
        if (r == null) {
            error(rc, 404, "unknown run \"" + id + "\"");
        }
        return r;
    }

    private void getRun(RoutingContext rc) {
        Runs.Run r = run(rc);
        if (r == null) {
            return;
        }
        JsonObject out = summary(r);
        try {
            out.put("config", new JsonObject(Files.readString(r.folder().resolve("config.json"))));
        } catch (IOException | DecodeException e) {
            out.put("config_error", "cannot read config.json: " + e.getMessage());
        }
        json(rc, out);
    }

    private void getNet(RoutingContext rc) {
        Runs.Run r = run(rc);
        if (r == null) {
            return;
        }
        java.nio.file.Path net = r.folder().resolve("net.json");
        if (!Files.isRegularFile(net)) {
            error(rc, 404, "run \"" + r.id() + "\" has no net.json (cortado train writes it when the run starts)");
            return;
        }
        vertx.fileSystem().readFile(net.toString())
                .onSuccess(b -> rc.response().putHeader("content-type", "application/json").end(b))
                .onFailure(e -> error(rc, 500, "cannot read " + net.getFileName() + ": " + e.getMessage()));
    }

    private void getLines(RoutingContext rc, boolean layers) {
        Runs.Run r = run(rc);
        if (r == null) {
            return;
        }
        long after;
        int max;
        try {
            after = Long.parseLong(rc.queryParams().get("after") == null ? "-1" : rc.queryParams().get("after"));
            max = Integer.parseInt(rc.queryParams().get("max") == null ? String.valueOf(HISTORY_POINTS) : rc.queryParams().get("max"));
        } catch (NumberFormatException e) {
            error(rc, 400, "after and max must be integers: " + e.getMessage());
            return;
        }
        if (max < 1) {
            error(rc, 400, "max must be >= 1, got " + max);
            return;
        }
        MetricsHistory h = layers ? r.layers() : r.history();
        List<JsonObject> events = h.after(after, max);
        json(rc, new JsonObject().put("run", r.id()).put("events", new JsonArray(List.copyOf(events)))
                .put("last_seq", h.lastSeq()));
    }

    private void control(RoutingContext rc) {
        Runs.Run r = run(rc);
        if (r == null) {
            return;
        }
        JsonObject body;
        try {
            body = rc.body().asJsonObject();
        } catch (DecodeException | ClassCastException e) {
            error(rc, 400, "expected a JSON object like {\"action\": \"pause\"}: " + e.getMessage());
            return;
        }
        if (body == null || !(body.getValue("action") instanceof String action)) {
            error(rc, 400, "expected a JSON object with \"action\": pause, resume, stop, snapshot or lr");
            return;
        }
        if (!(r instanceof Runs.LiveRun live) || !live.active()) {
            error(rc, 409, "run \"" + r.id() + "\" is not training in this process (status: "
                    + r.status().getString("status", "unknown") + ")");
            return;
        }
        JsonObject cmd = new JsonObject().put("action", action);
        if (action.equals("lr")) {
            if (!(body.getValue("lr") instanceof Number n) || !(n.doubleValue() > 0) || !Double.isFinite(n.doubleValue())) {
                error(rc, 400, "action lr needs \"lr\": a positive number, got " + body.getValue("lr"));
                return;
            }
            cmd.put("lr", n.doubleValue());
        }
        vertx.eventBus().<JsonObject>request(live.addresses().control(), cmd, new DeliveryOptions().setSendTimeout(10_000))
                .onSuccess(reply -> {
                    switch (action) {
                        case "pause" -> live.setStatus("paused", null);
                        case "resume" -> live.setStatus("running", null);
                        case "stop" -> live.setStatus("stopping", null);
                        default -> { }
                    }
                    json(rc, reply.body());
                })
                .onFailure(e -> error(rc, e instanceof ReplyException re && re.failureCode() == 400 ? 400 : 503, e.getMessage()));
    }

    // ---- launching ----

    private void launch(RoutingContext rc) {
        if (launcher == null) {
            error(rc, 404, "this dashboard does not launch runs");
            return;
        }
        JsonObject body;
        try {
            body = rc.body().asJsonObject();
        } catch (DecodeException | ClassCastException e) {
            error(rc, 400, "expected {\"config\": {...}}: the body is not a JSON object: " + e.getMessage());
            return;
        }
        if (body == null || !(body.getValue("config") instanceof JsonObject cfg)) {
            error(rc, 400, "expected {\"config\": {...}}: a config object");
            return;
        }
        vertx.executeBlocking(() -> launcher.launch(cfg), false).onComplete(r -> {
            if (r.succeeded()) {
                rc.response().setStatusCode(201).putHeader("content-type", "application/json").end(r.result().encode());
                return;
            }
            Throwable e = r.cause();
            if (e instanceof org.cortado.engine.ConfigException c) {
                JsonArray problems = new JsonArray();
                c.problems().forEach(problems::add);
                rc.response().setStatusCode(400).putHeader("content-type", "application/json").end(new JsonObject()
                        .put("error", c.problems().size() == 1 ? c.problems().getFirst() : "the config has " + c.problems().size() + " problems")
                        .put("problems", problems).encode());
            } else if (e instanceof Refused f) {
                error(rc, f.status(), f.getMessage());
            } else if (e instanceof org.cortado.engine.CortadoException) {
                error(rc, 400, e.getMessage());
            } else {
                error(rc, 500, "launch failed: " + e);
            }
        });
    }

    /** The configs offered for launching: the *.json files directly in the configs folder. */
    private List<java.nio.file.Path> configs() {
        if (configsDir == null || !Files.isDirectory(configsDir)) {
            return List.of();
        }
        try (var s = Files.list(configsDir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".json") && Files.isRegularFile(p)).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private void listConfigs(RoutingContext rc) {
        JsonArray names = new JsonArray();
        configs().forEach(p -> names.add(p.getFileName().toString()));
        json(rc, new JsonObject().put("configs", names).put("launch", launcher != null));
    }

    private void getConfig(RoutingContext rc) {
        String name = rc.pathParam("name");
        var file = configs().stream().filter(p -> p.getFileName().toString().equals(name)).findFirst();
        if (file.isEmpty()) {
            error(rc, 404, "unknown config \"" + name + "\"");
            return;
        }
        vertx.fileSystem().readFile(file.get().toString())
                .onSuccess(b -> rc.response().putHeader("content-type", "application/json").end(b))
                .onFailure(e -> error(rc, 500, "cannot read " + name + ": " + e.getMessage()));
    }

    // ---- websocket ----

    private void upgrade(RoutingContext rc) {
        if (!authorized(rc, false)) {
            error(rc, 401, "reading needs the token printed at start");
            return;
        }
        rc.request().toWebSocket().onSuccess(ws -> {
            sockets.put(ws, new Subscription());
            ws.textMessageHandler(text -> onMessage(ws, text));
            ws.binaryMessageHandler(b -> send(ws, errorMessage("binary messages are not understood; send JSON text")));
            ws.closeHandler(v -> sockets.remove(ws));
            ws.exceptionHandler(e -> sockets.remove(ws));
        }).onFailure(e -> {
            // not a websocket handshake: Vert.x has answered it already
        });
    }

    private void onMessage(ServerWebSocket ws, String text) {
        JsonObject m;
        try {
            m = new JsonObject(text);
        } catch (DecodeException | ClassCastException e) {
            send(ws, errorMessage("malformed message (not a JSON object): expected {\"type\": \"subscribe\", \"run\": ID, \"after\": SEQ}"));
            return;
        }
        Object type = m.getValue("type");
        if (!"subscribe".equals(type)) {
            send(ws, errorMessage("unknown message type " + (type == null ? "(none)" : "\"" + type + "\"") + "; known: subscribe"));
            return;
        }
        if (!(m.getValue("run") instanceof String id)) {
            send(ws, errorMessage("subscribe needs \"run\": a run id (GET /api/runs lists them)"));
            return;
        }
        Object after = m.getValue("after", -1);
        Object afterLayers = m.getValue("after_layers", -1);
        if (!(after instanceof Number a) || !(afterLayers instanceof Number al)) {
            send(ws, errorMessage("\"after\" and \"after_layers\" must be numbers (the last seqs received), got "
                    + after + " and " + afterLayers));
            return;
        }
        Runs.Run r = runs.find(id).orElse(null);
        if (r == null) {
            send(ws, errorMessage("unknown run \"" + id + "\""));
            return;
        }
        Subscription s = sockets.get(ws);
        if (s == null) {
            return;
        }
        s.run = r;
        MetricsHistory h = r.history();
        List<JsonObject> events = h.after(a.longValue(), HISTORY_POINTS);
        s.lastSeq = Math.max(a.longValue(), h.lastSeq());
        s.statusVersion = r.statusVersion();
        MetricsHistory lh = r.layers();
        List<JsonObject> layers = lh.after(al.longValue(), LAYER_POINTS);
        s.lastLayerSeq = Math.max(al.longValue(), lh.lastSeq());
        send(ws, new JsonObject().put("type", "history").put("run", r.id()).put("events", new JsonArray(List.copyOf(events)))
                .put("last_seq", s.lastSeq).put("layers", new JsonArray(List.copyOf(layers))).put("layers_last_seq", s.lastLayerSeq)
                .put("status", summary(r)).encode());
    }

    /** Sends every subscribed socket what it has not seen yet. */
    private void push() {
        record Batch(String text, long last) { }
        Map<String, Batch> encoded = new HashMap<>();
        for (var e : sockets.entrySet()) {
            ServerWebSocket ws = e.getKey();
            Subscription s = e.getValue();
            if (s.run == null || ws.writeQueueFull()) {
                continue;
            }
            MetricsHistory h = s.run.history();
            if (h.lastSeq() > s.lastSeq) {
                long from = s.lastSeq;
                Batch b = encoded.computeIfAbsent(s.run.id() + "@" + from, k -> {
                    List<JsonObject> events = h.after(from, PUSH_LINES);
                    long last = events.isEmpty() ? from : events.getLast().getLong("seq");
                    return new Batch(new JsonObject().put("type", "metrics").put("run", s.run.id())
                            .put("events", new JsonArray(List.copyOf(events))).put("last_seq", last).encode(), last);
                });
                if (b.last() > from) {
                    s.lastSeq = b.last();
                    send(ws, b.text());
                }
            }
            MetricsHistory lh = s.run.layers();
            if (lh.lastSeq() > s.lastLayerSeq) {
                List<JsonObject> events = lh.after(s.lastLayerSeq, LAYER_POINTS);
                if (!events.isEmpty()) {
                    s.lastLayerSeq = events.getLast().getLong("seq");
                    send(ws, new JsonObject().put("type", "layers").put("run", s.run.id())
                            .put("events", new JsonArray(List.copyOf(events))).put("last_seq", s.lastLayerSeq).encode());
                }
            }
            long v = s.run.statusVersion();
            if (v != s.statusVersion) {
                s.statusVersion = v;
                send(ws, new JsonObject().put("type", "status").put("run", s.run.id()).put("status", summary(s.run)).encode());
            }
        }
    }

    private static String errorMessage(String message) {
        return new JsonObject().put("type", "error").put("message", message).encode();
    }

    private void send(ServerWebSocket ws, String text) {
        ws.writeTextMessage(text).onFailure(e -> sockets.remove(ws));
    }
}
