package org.cortado.engine.layers;

import java.util.Map;
import java.util.function.BiFunction;

/** The utility layers of the catalogue (Concat, Slice, Eltwise, Reshape, Tile, Reduction, ArgMax, Silence, Embed, Crop), registered by {@link LayerRegistry}. */
final class UtilityLayers {
    private UtilityLayers() {}

    static void register(Map<String, BiFunction<LayerConfig, LayerContext, Layer>> types) {
        types.put("Concat", Concat::new);
        types.put("Slice", Slice::new);
        types.put("Eltwise", Eltwise::new);
        types.put("Crop", Crop::new);
        types.put("Reshape", Reshape::new);
        types.put("Tile", Tile::new);
        types.put("Reduction", Reduction::new);
        types.put("ArgMax", ArgMax::new);
        types.put("Silence", Silence::new);
        types.put("Embed", Embed::new);
    }
}
