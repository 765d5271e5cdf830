package org.cortado.engine.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.cortado.engine.ConfigException;
import org.junit.jupiter.api.Test;

/** The {@code pipeline} and {@code snapshot} sections: defaults, every field, and the errors. */
class PipelineConfigTest {
    private static PipelineConfig parse(String sections) {
        return PipelineConfig.parse(Json.parse("{" + sections + "}", "c.json"), 500);
    }

    private static String error(String sections) {
        return String.join("\n", assertThrows(ConfigException.class, () -> parse(sections)).problems());
    }

    @Test
    void defaults() {
        PipelineConfig p = parse("");
        assertEquals(Runtime.getRuntime().availableProcessors(), p.threads());
        assertEquals(List.of(), p.stages());
        assertFalse(p.autoStages());
        assertEquals(1, p.microBatches());
        assertEquals(1, p.loaders());
        assertEquals(1, p.augmenters());
        assertEquals(1, p.dataThreads());
        assertEquals(4, p.prefetch());
        assertEquals(10_000, p.requestTimeoutMs());
        assertEquals(500, p.snapshotEvery(), "the solver's snapshot interval");
        assertEquals(3, p.snapshotKeep());
        assertEquals(PipelineConfig.Device.CPU, p.device());
    }

    @Test
    void theDevice() {
        for (String d : List.of("cpu", "auto", "cuda", "cuda:0", "cuda:3")) {
            PipelineConfig.Device device = parse("\"pipeline\": {\"device\": \"" + d + "\"}").device();
            assertEquals(d.equals("cuda") ? "cuda:0" : d, device.toString(), d);
        }
        assertEquals(PipelineConfig.Device.Kind.CUDA, parse("\"pipeline\": {\"device\": \"cuda:2\"}").device().kind());
        assertEquals(2, parse("\"pipeline\": {\"device\": \"cuda:2\"}").device().ordinal());
        assertEquals("pipeline.device: expected \"cpu\", \"cuda\", \"cuda:N\" (a GPU's number) or \"auto\", got \"gpu\"",
                error("\"pipeline\": {\"device\": \"gpu\"}"));
        assertTrue(error("\"pipeline\": {\"device\": \"cuda:x\"}").contains("got \"cuda:x\""));
    }

    @Test
    void everyField() {
        PipelineConfig p = parse("""
            "pipeline": {"threads": 3, "stages": ["conv2", "ip1"], "micro_batches": 4, "loaders": 2,
                         "augmenters": 5, "data_threads": 6, "prefetch": 8, "request_timeout_ms": 250},
            "snapshot": {"every": 0, "keep": 7}""");
        assertEquals(3, p.threads());
        assertEquals(List.of("conv2", "ip1"), p.stages());
        assertEquals(4, p.microBatches());
        assertEquals(2, p.loaders());
        assertEquals(5, p.augmenters());
        assertEquals(6, p.dataThreads());
        assertEquals(8, p.prefetch());
        assertEquals(250, p.requestTimeoutMs());
        assertEquals(0, p.snapshotEvery());
        assertEquals(7, p.snapshotKeep());

        PipelineConfig auto = parse("\"pipeline\": {\"stages\": \"auto\", \"stage_count\": 3}");
        assertTrue(auto.autoStages());
        assertEquals(3, auto.stageCount());
    }

    @Test
    void badValuesNameTheirPath() {
        assertTrue(error("\"pipeline\": {\"data_threads\": 0}").contains("pipeline.data_threads"), error("\"pipeline\": {\"data_threads\": 0}"));
        assertTrue(error("\"pipeline\": {\"stages\": \"balanced\"}").contains("pipeline.stages: expected \"auto\""));
        assertTrue(error("\"pipeline\": {\"request_timeout_ms\": 0}").contains("pipeline.request_timeout_ms: must be > 0"));
        assertTrue(error("\"pipeline\": {\"prefech\": 2}").contains("prefech"), "a misspelt field is an error");
        assertTrue(error("\"snapshot\": {\"keep\": 0}").contains("snapshot.keep"));
        assertTrue(error("\"snapshot\": {\"every\": -1}").contains("snapshot.every"));
    }
}
