package org.cortado.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The browsers of {@code cortado bench --dashboard}, in a process of their own as real browsers are:
 * {@code WatchClients PORT N} opens N websockets to the dashboard on PORT and prints {@code open}; then
 * for each line of its standard input (a run id) subscribes all of them to that run and prints
 * {@code subscribed}; it counts what arrives, and when its input closes prints {@code MESSAGES BYTES}
 * and exits.
 */
public final class WatchClients {
    private WatchClients() {}

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        int n = Integer.parseInt(args[1]);
        AtomicLong messages = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        HttpClient http = HttpClient.newHttpClient();
        List<WebSocket> sockets = new ArrayList<>();
        WebSocket.Listener counter = new WebSocket.Listener() {
            @Override
            public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                bytes.addAndGet(data.length());
                if (last) {
                    messages.incrementAndGet();
                }
                ws.request(1);
                return CompletableFuture.completedFuture(null);
            }
        };
        for (int i = 0; i < n; i++) {
            sockets.add(http.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + port + "/ws"), counter).join());
        }
        System.out.println("open");
        System.out.flush();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in))) {
            for (String run; (run = in.readLine()) != null; ) {
                for (WebSocket ws : sockets) {
                    ws.sendText("{\"type\": \"subscribe\", \"run\": \"" + run.trim() + "\"}", true).join();
                }
                System.out.println("subscribed");
                System.out.flush();
            }
        }
        for (WebSocket ws : sockets) {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "").join();
        }
        System.out.println(messages.get() + " " + bytes.get());
        System.out.flush();
    }
}
