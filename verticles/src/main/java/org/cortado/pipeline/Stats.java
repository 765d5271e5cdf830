package org.cortado.pipeline;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.cortado.engine.train.LayerStats;

/** {@link LayerStats} as the JSON of {@code layers.jsonl}; a NaN or infinite number becomes null (JSON has none). */
final class Stats {
    private Stats() {}

    static JsonObject json(LayerStats.ParamStat s) {
        return new JsonObject().put("name", s.name()).put("weight_norm", finite(s.weightNorm()))
                .put("grad_norm", finite(s.gradNorm())).put("update_ratio", finite(s.updateRatio()))
                .put("hist", json(s.weights()));
    }

    static JsonObject json(LayerStats.ActivationStat s) {
        return new JsonObject().put("blob", s.blob()).put("mean", finite(s.mean())).put("std", finite(s.std()))
                .put("zero_fraction", finite(s.zeroFraction())).put("hist", json(s.values()));
    }

    static JsonObject json(LayerStats.Histogram h) {
        JsonArray counts = new JsonArray();
        for (long c : h.counts()) {
            counts.add(c);
        }
        return new JsonObject().put("min", finite(h.min())).put("max", finite(h.max())).put("counts", counts)
                .put("non_finite", h.nonFinite());
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
