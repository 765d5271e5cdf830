package org.cortado.engine.train;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.SequencedMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.cortado.engine.ConfigException;
import org.cortado.engine.io.CaffeWeights;
import org.cortado.engine.tensor.Tensor;

/**
 * The folder of one training run ({@code runs/NAME-YYYYMMDD-HHMMSS/}):
 * <pre>
 *   config.json                         the resolved config (after --set), what resume reads
 *   metrics.jsonl                       one JSON object per line: steps, test passes, epochs
 *   control.jsonl                       the control actions a run obeyed (pause, resume, stop, snapshot, lr), with their step
 *   layers.jsonl                        per-layer stats every dashboard.layer_stats_every steps (norms, update ratios, histograms)
 *   net.json                            the TRAIN net's layers, blob shapes, params and FLOPs (NetGraph), for the dashboard
 *   status.json                         {"status": running | finished | stopped | failed, "iter", "message", "updated"}
 *   snapshots/PREFIX_iter_N.caffemodel.h5 weights (Caffe's HDF5 layout; PREFIX: the solver's snapshot_prefix, else the run's name)
 *   snapshots/PREFIX_iter_N.solverstate.h5 iteration and solver history (Caffe's layout)
 *   weights.caffemodel.h5               the final weights
 * </pre>
 * Every file is written to a temporary name and renamed into place, so a run killed at any moment
 * leaves complete files only; the newest {@code keep} snapshots are kept.
 */
public final class RunFolder {
    private static final Pattern SNAPSHOT = Pattern.compile("(.+)_iter_(\\d+)\\.solverstate\\.h5");

    private final Path dir;
    private final String prefix;
    private BufferedWriter metrics;
    private BufferedWriter layers;

    private RunFolder(Path dir, String prefix) {
        this.dir = dir;
        this.prefix = prefix;
    }

    /** Creates a fresh folder {@code runs/NAME-YYYYMMDD-HHMMSS} (with a suffix when taken); snapshots named {@code NAME_iter_N}. */
    public static RunFolder create(Path runs, String name) {
        return create(runs, name, name);
    }

    /**
     * As {@link #create(Path, String)}, with snapshots named {@code PREFIX_iter_N}. A character of
     * {@code name} other than letters, digits, {@code .}, {@code _} and {@code -} becomes {@code _} in
     * the folder's name (a config's name never makes a path).
     */
    public static RunFolder create(Path runs, String name, String prefix) {
        name = name.replaceAll("[^A-Za-z0-9._-]", "_").replaceAll("^\\.+", "_");
        if (name.isEmpty()) {
            name = "run";
        }
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        try {
            Files.createDirectories(runs);
            for (int i = 0; ; i++) {
                Path d = runs.resolve(name + "-" + stamp + (i == 0 ? "" : "-" + i));
                try {
                    Files.createDirectory(d);
                    Files.createDirectory(d.resolve("snapshots"));
                    return new RunFolder(d, prefix);
                } catch (java.nio.file.FileAlreadyExistsException e) {
                    // taken in the same second: try the next suffix
                }
            }
        } catch (IOException e) {
            throw new ConfigException("--runs: cannot create a run folder in " + runs + ": " + e.getMessage());
        }
    }

    /** An existing run folder (for resume), snapshots named {@code PREFIX_iter_N}; an error says what is missing when it is not one. */
    public static RunFolder open(Path dir, String prefix) {
        if (!Files.isDirectory(dir)) {
            throw new ConfigException(dir + ": no such run folder");
        }
        if (!Files.isRegularFile(dir.resolve("config.json")) || !Files.isDirectory(dir.resolve("snapshots"))) {
            throw new ConfigException(dir + " is not a run folder (a run folder holds config.json and snapshots/,"
                    + " as `cortado train` writes them)");
        }
        return new RunFolder(dir, prefix);
    }

    public Path dir() {
        return dir;
    }

    public Path configFile() {
        return dir.resolve("config.json");
    }

    public Path metricsFile() {
        return dir.resolve("metrics.jsonl");
    }

    public Path finalWeights() {
        return dir.resolve("weights.caffemodel.h5");
    }

    /** Writes the resolved config. */
    public void writeConfig(String json) {
        atomically(configFile(), tmp -> Files.writeString(tmp, json, StandardCharsets.UTF_8));
    }

    public Path statusFile() {
        return dir.resolve("status.json");
    }

    /** Writes {@code net.json}: the TRAIN net as a graph ({@link org.cortado.engine.net.NetGraph}), for the dashboard. */
    public void writeNet(String json) {
        atomically(dir.resolve("net.json"), tmp -> Files.writeString(tmp, json, StandardCharsets.UTF_8));
    }

    /** Writes {@code status.json} (what the dashboard lists for a run not running in its process). */
    public void writeStatus(String json) {
        atomically(statusFile(), tmp -> Files.writeString(tmp, json, StandardCharsets.UTF_8));
    }

    /** Appends one line to {@code metrics.jsonl} and flushes it (a crash loses no written line). */
    public synchronized void appendMetrics(String jsonLine) {
        metrics = append(metrics, metricsFile(), jsonLine);
    }

    public Path controlFile() {
        return dir.resolve("control.jsonl");
    }

    /** Appends one line to {@code control.jsonl} (rare: opened, written and closed each time). */
    public synchronized void appendControl(String jsonLine) {
        try {
            Files.writeString(controlFile(), jsonLine + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + controlFile(), e);
        }
    }

    /**
     * The learning-rate scale in effect for update {@code iter} (a resume's first): the {@code scale} of
     * the last {@code lr} action of {@code control.jsonl} that applied from an update at or before it;
     * 1 when there is none. A line that is not JSON (cut short by a crash) is skipped.
     */
    public double rateScaleAt(long iter) {
        if (!Files.isRegularFile(controlFile())) {
            return 1;
        }
        double scale = 1;
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        try {
            for (String line : Files.readAllLines(controlFile(), StandardCharsets.UTF_8)) {
                com.fasterxml.jackson.databind.JsonNode n;
                try {
                    n = mapper.readTree(line);
                } catch (IOException bad) {
                    continue;
                }
                if (n != null && n.path("action").asText().equals("lr") && n.path("from_step").asLong(Long.MAX_VALUE) <= iter
                        && n.path("scale").asDouble(0) > 0) {
                    scale = n.path("scale").asDouble();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + controlFile(), e);
        }
        return scale;
    }

    /** Appends one line to {@code layers.jsonl} and flushes it. */
    public synchronized void appendLayers(String jsonLine) {
        layers = append(layers, dir.resolve("layers.jsonl"), jsonLine);
    }

    private static BufferedWriter append(BufferedWriter w, Path file, String jsonLine) {
        try {
            if (w == null) {
                w = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            }
            w.write(jsonLine);
            w.write('\n');
            w.flush();
            return w;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /**
     * Writes a snapshot at iteration {@code iter}: weights, then the solver state naming them (both
     * atomic), then deletes all but the newest {@code keep}. Returns the state file.
     */
    public Path writeSnapshot(long iter, SequencedMap<String, List<Tensor>> weights, List<Tensor> history, int keep) {
        Path s = Trainer.writeSnapshot(dir.resolve("snapshots").resolve(prefix), iter, weights, history);
        List<Path> all = snapshots();
        for (int i = 0; i < all.size() - keep; i++) {
            Path old = all.get(i);
            try {
                String oldBase = old.getFileName().toString().replace(".solverstate.h5", "");
                Files.deleteIfExists(old);
                Files.deleteIfExists(old.resolveSibling(oldBase + ".caffemodel.h5"));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete old snapshot " + old, e);
            }
        }
        return s;
    }

    /** Writes the final weights. */
    public void writeFinalWeights(SequencedMap<String, List<Tensor>> weights) {
        CaffeWeights.write(finalWeights(), weights);
    }

    /** Solver state files of the snapshots, oldest first. */
    public List<Path> snapshots() {
        try (Stream<Path> s = Files.list(dir.resolve("snapshots"))) {
            List<Path> out = new ArrayList<>(s.filter(p -> SNAPSHOT.matcher(p.getFileName().toString()).matches()).toList());
            out.sort(Comparator.comparingLong(RunFolder::iterOf));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir.resolve("snapshots"), e);
        }
    }

    /** The newest snapshot's solver state file. */
    public Optional<Path> latestSnapshot() {
        List<Path> all = snapshots();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.getLast());
    }

    /** The iteration of a snapshot's state file, from its name. */
    public static long iterOf(Path stateFile) {
        Matcher m = SNAPSHOT.matcher(stateFile.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(2)) : -1;
    }

    public synchronized void close() {
        for (BufferedWriter w : new BufferedWriter[] {metrics, layers}) {
            if (w != null) {
                try {
                    w.close();
                } catch (IOException ignored) {
                    // the lines were flushed one by one
                }
            }
        }
        metrics = null;
        layers = null;
    }

    private interface Writer {
        void write(Path tmp) throws IOException;
    }

    private static void atomically(Path file, Writer w) {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        try {
            w.write(tmp);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
