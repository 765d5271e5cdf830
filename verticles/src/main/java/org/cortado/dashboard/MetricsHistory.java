package org.cortado.dashboard;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * The metric lines of one run (as {@code metrics.jsonl} holds them), each numbered by a sequence
 * number {@code seq} in arrival order: what a browser gets on connect (downsampled) and what it asks
 * for again after a reconnect ({@code after} the last {@code seq} it has).
 *
 * <p>Memory stays bounded on long runs: past {@code keep} lines (default {@value #KEEP}), every other plain line is
 * dropped (and again each time it fills up), so the kept lines stay spread evenly over the run. Lines
 * with a test pass or an epoch's totals are always kept. Thread-safe: the run's data thread appends,
 * the dashboard's event loop reads.
 */
public final class MetricsHistory {
    /** Lines kept before thinning. */
    static final int KEEP = 20_000;

    private final int keep;
    private final ArrayList<JsonObject> lines = new ArrayList<>();
    private long nextSeq;
    private long stride = 1;

    public MetricsHistory() {
        this(KEEP);
    }

    /** A history that thins past {@code keep} lines. */
    public MetricsHistory(int keep) {
        this.keep = keep;
    }

    /** Appends a copy of {@code line}, numbered; returns its {@code seq}. */
    public synchronized long append(JsonObject line) {
        long seq = nextSeq++;
        JsonObject e = line.copy().put("seq", seq);
        if (seq % stride == 0 || important(e)) {
            lines.add(e);
        }
        if (lines.size() > keep) {
            stride *= 2;
            lines.removeIf(l -> l.getLong("seq") % stride != 0 && !important(l));
        }
        return seq;
    }

    /** The {@code seq} of the newest line, or -1 when there is none. */
    public synchronized long lastSeq() {
        return nextSeq - 1;
    }

    /**
     * The lines with {@code seq > after}, at most about {@code max} of them: when there are more, every
     * k-th plain line (and the newest) with every test pass and epoch line.
     */
    public synchronized List<JsonObject> after(long after, int max) {
        int from = firstAfter(after);
        int n = lines.size() - from;
        if (n <= max) {
            return List.copyOf(lines.subList(from, lines.size()));
        }
        int k = (int) Math.ceil(n / (double) max);
        List<JsonObject> out = new ArrayList<>(max + 64);
        for (int i = from; i < lines.size(); i++) {
            JsonObject l = lines.get(i);
            if ((i - from) % k == 0 || i == lines.size() - 1 || important(l)) {
                out.add(l);
            }
        }
        return out;
    }

    /** The newest line, or null. */
    public synchronized JsonObject latest() {
        return lines.isEmpty() ? null : lines.getLast();
    }

    /** The newest line holding {@code key}, or null. */
    public synchronized JsonObject latestWith(String key) {
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).containsKey(key)) {
                return lines.get(i);
            }
        }
        return null;
    }

    private int firstAfter(long after) {
        int lo = 0;
        int hi = lines.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (lines.get(mid).getLong("seq") <= after) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** A test pass, an epoch's totals or per-layer statistics: kept at any downsampling. */
    private static boolean important(JsonObject l) {
        return l.containsKey("test_samples") || l.containsKey("samples") || l.containsKey("layers");
    }
}
