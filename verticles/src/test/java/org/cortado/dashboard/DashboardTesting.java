package org.cortado.dashboard;

import static org.junit.jupiter.api.Assertions.fail;

import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.cortado.cli.Main;
import org.cortado.pipeline.PipelineTesting;

/** Helpers for the dashboard tests: HTTP and websocket calls (the JDK's clients), and a real training started through the CLI. */
final class DashboardTesting {
    private DashboardTesting() {}

    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    record Reply(int status, String body) {
        JsonObject json() {
            return new JsonObject(body);
        }
    }

    static Reply get(String url, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).GET();
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body());
    }

    static Reply post(String url, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body());
    }

    /** Sends {@code request} as is over a plain socket to the server of {@code base}; returns the whole response. */
    static String raw(String base, String request) throws Exception {
        URI u = URI.create(base);
        try (var socket = new java.net.Socket(u.getHost(), u.getPort())) {
            socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            // Until the server closes, or (a connection kept alive) 2 s after the last bytes.
            var got = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            socket.setSoTimeout(20_000);
            try {
                for (int n; (n = socket.getInputStream().read(buf)) > 0; ) {
                    got.write(buf, 0, n);
                    socket.setSoTimeout(2_000);
                }
            } catch (java.net.SocketTimeoutException kept) {
                // the response is complete
            }
            return got.toString(java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /** A websocket whose text messages queue up for {@link #next}. */
    static final class Socket implements WebSocket.Listener {
        final LinkedBlockingQueue<JsonObject> messages = new LinkedBlockingQueue<>();
        private final StringBuilder partial = new StringBuilder();
        WebSocket ws;

        static Socket open(String url) throws Exception {
            Socket s = new Socket();
            s.ws = HTTP.newWebSocketBuilder().buildAsync(URI.create(url), s).get(20, TimeUnit.SECONDS);
            return s;
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                messages.add(new JsonObject(partial.toString()));
                partial.setLength(0);
            }
            webSocket.request(1);
            return CompletableFuture.completedFuture(null);
        }

        void send(String text) {
            ws.sendText(text, true).join();
        }

        /** The next message, waiting up to 20 s. */
        JsonObject next() throws InterruptedException {
            JsonObject m = messages.poll(20, TimeUnit.SECONDS);
            if (m == null) {
                fail("no websocket message within 20 s");
            }
            return m;
        }

        /** The next message of {@code type}, skipping others. */
        JsonObject next(String type) throws InterruptedException {
            while (true) {
                JsonObject m = next();
                if (type.equals(m.getString("type"))) {
                    return m;
                }
            }
        }

        void close() {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
        }
    }

    /** Waits up to {@code seconds} for {@code condition}. */
    static void await(double seconds, String what, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                fail("timed out after " + seconds + " s waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    /** {@code cortado train} running on a thread, with its output. */
    static final class Training {
        final Thread thread;
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        volatile int code = -1;

        Training(String... args) {
            PrintWriter o = new PrintWriter(out, true);
            PrintWriter e = new PrintWriter(err, true);
            thread = new Thread(() -> code = Main.run(o, e, args), "test-training");
            thread.start();
        }

        synchronized String output() {
            return out + "\n" + err;
        }

        /** The dashboard address it printed (waits for it). */
        String url() throws InterruptedException {
            await(120, "the dashboard address in the output:\n" + output(), () -> line("dashboard: ") != null || !thread.isAlive());
            String l = line("dashboard: ");
            if (l == null) {
                fail("the training ended without a dashboard: " + output());
            }
            return l.substring("dashboard: ".length()).split("\\s+")[0].replaceAll("/$", "");
        }

        String runFolder() throws InterruptedException {
            await(60, "the run folder", () -> line("run folder: ") != null);
            return line("run folder: ").substring("run folder: ".length());
        }

        private String line(String prefix) {
            return out.toString().lines().filter(l -> l.startsWith(prefix)).findFirst().orElse(null);
        }

        int join() throws InterruptedException {
            thread.join(120_000);
            if (thread.isAlive()) {
                fail("the training did not end: " + output());
            }
            return code;
        }
    }

    /** Writes the pipeline tests' data and a config training for {@code maxIter} steps, dashboard on any free port. */
    static Path config(Path dir, long maxIter, String dashboard) throws Exception {
        PipelineTesting.writeData(dir.resolve("data"));
        String solver = """
                {"type": "SGD", "base_lr": 0.05, "momentum": 0.9, "lr_policy": "fixed", "max_iter": %d,
                 "test_interval": 50, "snapshot": 0, "snapshot_prefix": "tiny"}""".formatted(maxIter);
        Path config = dir.resolve("tiny.json");
        String json = PipelineTesting.configJson(dir.resolve("data"), solver, "{\"threads\": 1}", false)
                .replace("\"dashboard\": {\"port\": 0}", "\"dashboard\": " + dashboard);
        Files.writeString(config, json);
        return config;
    }

    static List<JsonObject> events(JsonObject m) {
        List<JsonObject> out = new ArrayList<>();
        m.getJsonArray("events").forEach(e -> out.add((JsonObject) e));
        return out;
    }
}
