package org.cortado.dashboard;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.cortado.pipeline.Addresses;

/**
 * The runs a dashboard shows: the run folders in its runs folder (past runs, or runs of other
 * processes, read from their {@code config.json}, {@code status.json} and {@code metrics.jsonl}) and
 * the runs training in this process (live: metrics as they come, control through the event bus).
 *
 * <p>A run's id is its folder's name. An id from a browser is only ever compared with the names
 * listed here, never turned into a path.
 */
public final class Runs {
    /** Per-layer lines kept per run (they are larger than metric lines and sampled every few steps). */
    static final int LAYER_LINES = 2000;

    private final Path dir;
    private final Map<String, LiveRun> live = new ConcurrentHashMap<>();
    private final Map<String, PastRun> past = new ConcurrentHashMap<>();

    /** {@code dir}: the runs folder (may not exist yet). */
    public Runs(Path dir) {
        this.dir = dir.toAbsolutePath().normalize();
    }

    public Path dir() {
        return dir;
    }

    /** What the dashboard reads of one run. */
    public sealed interface Run permits LiveRun, PastRun {
        String id();

        Path folder();

        MetricsHistory history();

        /** Its per-layer stats ({@code layers.jsonl}), one line per sampled step. */
        MetricsHistory layers();

        /** {@code {"status", "iter", "message"}}, and {@code "cluster"}: a clustered run's members table. */
        JsonObject status();

        /** A number that changes whenever {@link #status} does. */
        long statusVersion();
    }

    /** A run training in this process. Its status is set by the runner and by control replies. */
    public static final class LiveRun implements Run {
        private final String id;
        private final Path folder;
        private final Addresses addresses;
        private final MetricsHistory history = new MetricsHistory();
        private final MetricsHistory layers = new MetricsHistory(LAYER_LINES);
        private JsonObject status = new JsonObject().put("status", "running");
        private JsonObject cluster;
        private long version;

        LiveRun(String id, Path folder, Addresses addresses) {
            this.id = id;
            this.folder = folder;
            this.addresses = addresses;
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public Path folder() {
            return folder;
        }

        /** The event-bus addresses of the run (control goes to {@link Addresses#control()}). */
        public Addresses addresses() {
            return addresses;
        }

        @Override
        public MetricsHistory history() {
            return history;
        }

        @Override
        public MetricsHistory layers() {
            return layers;
        }

        @Override
        public synchronized JsonObject status() {
            JsonObject s = status.copy();
            JsonObject last = history.latestWith("step");
            if (last != null) {
                s.put("iter", last.getLong("step"));
            }
            if (cluster != null) {
                s.put("cluster", cluster);
            }
            return s;
        }

        /** A clustered run's members table, once a second ({@code cluster.Members}). */
        public synchronized void setCluster(JsonObject table) {
            cluster = table;
            version++;
        }

        @Override
        public synchronized long statusVersion() {
            return version;
        }

        /** Sets the status ({@code running}, {@code paused}, {@code stopping}, {@code finished}, {@code stopped}, {@code failed}). */
        public synchronized void setStatus(String s, String message) {
            JsonObject next = new JsonObject().put("status", s);
            if (message != null) {
                next.put("message", message);
            }
            status = next;
            version++;
        }

        /** True while the run can still be controlled. */
        public synchronized boolean active() {
            return switch (status.getString("status")) {
                case "finished", "stopped", "failed" -> false;
                default -> true;
            };
        }
    }

    /** A run folder not training in this process: its files re-read when they grow. */
    static final class PastRun implements Run {
        private final String id;
        private final Path folder;
        private final JsonLines metrics;
        private final JsonLines layers;
        private JsonObject status = new JsonObject();
        private long version;

        PastRun(String id, Path folder) {
            this.id = id;
            this.folder = folder;
            this.metrics = new JsonLines(folder.resolve("metrics.jsonl"), MetricsHistory.KEEP);
            this.layers = new JsonLines(folder.resolve("layers.jsonl"), LAYER_LINES);
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public Path folder() {
            return folder;
        }

        @Override
        public synchronized MetricsHistory history() {
            return metrics.read();
        }

        @Override
        public synchronized MetricsHistory layers() {
            return layers.read();
        }

        @Override
        public synchronized JsonObject status() {
            refresh();
            return status.copy();
        }

        @Override
        public synchronized long statusVersion() {
            refresh();
            return version;
        }

        private void refresh() {
            JsonObject s;
            try {
                s = new JsonObject(Files.readString(folder.resolve("status.json")));
            } catch (IOException | DecodeException e) {
                s = new JsonObject().put("status", "unknown");
            }
            JsonObject last = metrics.read().latestWith("step");
            if (last != null) {
                s.put("iter", Math.max(s.getLong("iter", 0L), last.getLong("step")));
            }
            if (s.getString("status", "").equals("running")) {
                // Not running in this process: another process trains it, or it was killed.
                s.put("status", "running elsewhere or interrupted");
            }
            if (!s.equals(status)) {
                status = s;
                version++;
            }
        }
    }

    /**
     * A JSON-lines file read into a history as it grows: only the complete lines appended since the last
     * read are parsed (a run another process trains appends a line per step), and the whole file again
     * if it shrank. A line cut short by a crash is skipped.
     */
    private static final class JsonLines {
        private final Path file;
        private final int keep;
        private MetricsHistory history;
        private long readBytes;

        JsonLines(Path file, int keep) {
            this.file = file;
            this.keep = keep;
            this.history = new MetricsHistory(keep);
        }

        synchronized MetricsHistory read() {
            long size;
            try {
                size = Files.exists(file) ? Files.size(file) : 0;
            } catch (IOException e) {
                return history;
            }
            if (size == readBytes) {
                return history;
            }
            if (size < readBytes) { // rewritten
                history = new MetricsHistory(keep);
                readBytes = 0;
            }
            try (var ch = java.nio.channels.FileChannel.open(file)) {
                var buf = java.nio.ByteBuffer.allocate((int) Math.min(size - readBytes, Integer.MAX_VALUE - 8));
                ch.position(readBytes);
                while (buf.hasRemaining() && ch.read(buf) > 0) {
                    // fill
                }
                byte[] bytes = buf.array();
                int n = buf.position();
                int from = 0;
                for (int i = 0; i < n; i++) {
                    if (bytes[i] == '\n') {
                        String line = new String(bytes, from, i - from, StandardCharsets.UTF_8);
                        if (!line.isBlank()) {
                            try {
                                history.append(new JsonObject(line));
                            } catch (DecodeException | ClassCastException bad) {
                                // a line cut short by a crash
                            }
                        }
                        from = i + 1;
                    }
                }
                readBytes += from; // a last line without its newline is read once it is complete
            } catch (IOException e) {
                // unreadable now: keep what was read
            }
            return history;
        }
    }

    /** Registers a run training in this process, {@code folder} its run folder. */
    public LiveRun addLive(Path folder, Addresses addresses) {
        String id = folder.getFileName().toString();
        LiveRun r = new LiveRun(id, folder.toAbsolutePath().normalize(), addresses);
        live.put(id, r);
        return r;
    }

    /**
     * A live run has ended and its folder holds its final files: from now on it is read from there
     * (its in-memory history is let go; a browser following it keeps its copy and gets the last status).
     */
    public void retire(LiveRun run) {
        live.remove(run.id(), run);
        past.remove(run.id());
    }

    /** The run named {@code id}: a live one, else a folder of the runs folder that holds a config. */
    public Optional<Run> find(String id) {
        LiveRun l = live.get(id);
        if (l != null) {
            return Optional.of(l);
        }
        for (Path f : folders()) {
            if (f.getFileName().toString().equals(id)) {
                return Optional.of(past.computeIfAbsent(id, k -> new PastRun(k, f)));
            }
        }
        return Optional.empty();
    }

    /** Every run, newest first. */
    public List<Run> all() {
        List<Run> out = new ArrayList<>(live.values());
        for (Path f : folders()) {
            String id = f.getFileName().toString();
            if (!live.containsKey(id)) {
                out.add(past.computeIfAbsent(id, k -> new PastRun(k, f)));
            }
        }
        out.sort(Comparator.comparing((Run r) -> modified(r.folder())).reversed());
        return out;
    }

    /** The live runs. */
    public List<LiveRun> live() {
        return List.copyOf(live.values());
    }

    private List<Path> folders() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> Files.isRegularFile(p.resolve("config.json"))).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static long modified(Path folder) {
        try {
            return Files.getLastModifiedTime(folder.resolve("config.json")).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }
}
