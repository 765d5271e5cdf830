package org.cortado.engine.layers;

import java.util.Map;
import java.util.function.BiFunction;

/** The activation layers of the catalogue (PReLU, ELU, AbsVal, Power, Exp, Log, BNLL, Threshold, Clip, Swish), registered by {@link LayerRegistry}. */
final class ActivationLayers {
    private ActivationLayers() {}

    static void register(Map<String, BiFunction<LayerConfig, LayerContext, Layer>> types) {
        types.put("PReLU", PReLU::new);
        types.put("ELU", ELU::new);
        types.put("AbsVal", AbsVal::new);
        types.put("Power", Power::new);
        types.put("Exp", Exp::new);
        types.put("Log", Log::new);
        types.put("BNLL", BNLL::new);
        types.put("Threshold", Threshold::new);
        types.put("Clip", Clip::new);
        types.put("Swish", Swish::new);
    }
}
