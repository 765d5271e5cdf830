package org.cortado.engine.layers;

import java.util.Map;
import java.util.function.BiFunction;

/** The normalization layers of the catalogue (BatchNorm, Scale, Bias, LRN, MVN), registered by {@link LayerRegistry}. */
final class NormalizationLayers {
    private NormalizationLayers() {}

    static void register(Map<String, BiFunction<LayerConfig, LayerContext, Layer>> types) {
        types.put("BatchNorm", BatchNorm::new);
        types.put("Scale", Scale::new);
        types.put("Bias", Bias::new);
        types.put("LRN", LRN::new);
        types.put("MVN", MVN::new);
    }
}
