package org.cortado.engine.augment;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cortado.engine.config.Json;
import org.cortado.engine.net.Phase;
import org.junit.jupiter.api.Test;

/** The benchmark runs and counts (its speed is reported by hand, never asserted). */
class AugmentBenchmarkTest {

    @Test
    void runsOnSeveralThreadsWithAPartialLastBatch() {
        Augmenter a = Augmentation.parse(Json.parse("{\"train\": " + AugmentBenchmark.DEFAULT_TRAIN + "}", "t"), null)
                .augmenter(Phase.TRAIN, 1, new int[] {1, 28, 28});
        double ips = AugmentBenchmark.imagesPerSecond(a, 1001, 64, 2);
        assertTrue(ips > 0 && Double.isFinite(ips), "images/s " + ips);
    }
}
