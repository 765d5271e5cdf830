package org.cortado.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class MetricsHistoryTest {

    @Test
    void staysBoundedOnLongRunsAndKeepsTestPasses() {
        MetricsHistory h = new MetricsHistory();
        int n = 5 * MetricsHistory.KEEP;
        for (int s = 1; s <= n; s++) {
            JsonObject l = new JsonObject().put("step", s).put("loss", 1.0);
            if (s % 500 == 0) {
                l.put("test_loss", 0.5).put("test_samples", 10);
            }
            h.append(l);
        }
        assertEquals(n - 1, h.lastSeq());
        List<JsonObject> all = h.after(-1, Integer.MAX_VALUE);
        assertTrue(all.size() <= MetricsHistory.KEEP + n / 500, "bounded: " + all.size());
        assertTrue(all.size() >= MetricsHistory.KEEP / 2, "still dense: " + all.size());
        assertEquals(n / 500, all.stream().filter(l -> l.containsKey("test_loss")).count());
        long gaps = 0;
        for (int i = 1; i < all.size(); i++) {
            gaps = Math.max(gaps, all.get(i).getLong("seq") - all.get(i - 1).getLong("seq"));
        }
        assertTrue(gaps <= 8, "kept lines are spread evenly, largest gap " + gaps);
    }

    @Test
    void afterReturnsOnlyNewerLinesDownsampledWithTheNewest() {
        MetricsHistory h = new MetricsHistory();
        for (int s = 0; s < 1000; s++) {
            h.append(new JsonObject().put("step", s));
        }
        assertEquals(List.of(998L, 999L), h.after(997, 10).stream().map(l -> l.getLong("step")).toList());
        List<JsonObject> few = h.after(-1, 10);
        assertTrue(few.size() <= 11, "about 10: " + few.size());
        assertEquals(0L, few.getFirst().getLong("step"));
        assertEquals(999L, few.getLast().getLong("step"));
        assertEquals(List.of(), h.after(999, 10));
    }

    @Test
    void prometheusFormatNamesEachRunAndEscapesLabels() {
        Runs runs = new Runs(java.nio.file.Path.of("runs"));
        Runs.LiveRun r = runs.addLive(java.nio.file.Path.of("runs", "a\"b"), new org.cortado.pipeline.Addresses("x"));
        r.history().append(new JsonObject().put("step", 7).put("loss", 0.25).put("heap_used_mb", 2).put("lr", 1e-3));
        String text = Prometheus.format(runs.live());
        assertTrue(text.contains("cortado_run_info{run=\"a\\\"b\",status=\"running\"} 1\n"), text);
        assertTrue(text.contains("cortado_step{run=\"a\\\"b\"} 7\n"), text);
        assertTrue(text.contains("cortado_loss{run=\"a\\\"b\"} 0.25\n"), text);
        assertTrue(text.contains("cortado_learning_rate{run=\"a\\\"b\"} 0.001\n"), text);
        assertTrue(text.contains("cortado_heap_used_bytes{run=\"a\\\"b\"} 2097152\n"), text);
        assertTrue(text.contains("# TYPE cortado_test_accuracy gauge\n"), text);
        assertTrue(!text.contains("cortado_test_accuracy{"), "no value where the run has none yet");
    }
}
