package org.cortado.engine.layers;

import java.util.Map;
import java.util.function.BiFunction;

/** The utility layers of the catalogue (Concat, Slice, Eltwise, Reshape, Tile, Reduction, ArgMax, Silence, Embed, Crop), registered by {@link LayerRegistry}. */
final class UtilityLayers {
    private UtilityLayers() {}

    static void register(Map<String, BiFunction<LayerConfig, LayerContext, Layer>> types) {
    }
}
