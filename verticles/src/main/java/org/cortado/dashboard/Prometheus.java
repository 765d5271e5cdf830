package org.cortado.dashboard;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The live runs' latest metrics in Prometheus' text exposition format (version 0.0.4), one gauge
 * family per metric, labelled by {@code run}: what a Prometheus server scrapes from {@code /metrics}.
 */
final class Prometheus {
    private Prometheus() {}

    /** metric name, the metrics-line key it reads, its help text, scale to the unit in the name. */
    private record Gauge(String name, String key, String help, double scale) { }

    private static final List<Gauge> GAUGES = List.of(
            new Gauge("cortado_step", "step", "Training steps completed.", 1),
            new Gauge("cortado_epoch", "epoch", "Epoch of the last step (from 0).", 1),
            new Gauge("cortado_loss", "loss", "Training loss of the last step.", 1),
            new Gauge("cortado_learning_rate", "lr", "Learning rate of the last step.", 1),
            new Gauge("cortado_images_per_second", "images_per_sec", "Training images per second, last step.", 1),
            new Gauge("cortado_step_seconds", "step_ms", "Wall time of the last step.", 1e-3),
            new Gauge("cortado_data_wait_seconds", "data_wait_ms", "Time the stages waited for data in the last step.", 1e-3),
            new Gauge("cortado_loader_queue", "loader_queue", "Batches loaded and not yet used.", 1),
            new Gauge("cortado_heap_used_bytes", "heap_used_mb", "JVM heap in use.", 1 << 20),
            new Gauge("cortado_test_loss", "test_loss", "Loss of the last test pass.", 1),
            new Gauge("cortado_test_accuracy", "test_accuracy", "Accuracy of the last test pass.", 1));

    static String format(List<Runs.LiveRun> runs) {
        StringBuilder out = new StringBuilder();
        out.append("# HELP cortado_run_info A run training in this process (value 1), with its status.\n");
        out.append("# TYPE cortado_run_info gauge\n");
        for (Runs.LiveRun r : runs) {
            out.append("cortado_run_info{run=\"").append(escape(r.id())).append("\",status=\"")
                    .append(escape(r.status().getString("status"))).append("\"} 1\n");
        }
        for (Gauge g : GAUGES) {
            out.append("# HELP ").append(g.name()).append(' ').append(g.help()).append('\n');
            out.append("# TYPE ").append(g.name()).append(" gauge\n");
            for (Runs.LiveRun r : runs) {
                JsonObject line = r.history().latestWith(g.key());
                if (line != null && line.getValue(g.key()) instanceof Number n) {
                    out.append(g.name()).append("{run=\"").append(escape(r.id())).append("\"} ")
                            .append(value(n.doubleValue() * g.scale())).append('\n');
                }
            }
        }
        return out.toString();
    }

    private static String value(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "+Inf" : "-Inf";
        }
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    /** A label value: backslash, double quote and newline escaped. */
    static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
