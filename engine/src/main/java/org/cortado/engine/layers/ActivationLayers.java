package org.cortado.engine.layers;

import java.util.Map;
import java.util.function.BiFunction;

/** The activation layers of the catalogue (PReLU, ELU, AbsVal, Power, Exp, Log, BNLL, Threshold, Clip, Swish), registered by {@link LayerRegistry}. */
final class ActivationLayers {
    private ActivationLayers() {}

    static void register(Map<String, BiFunction<LayerConfig, LayerContext, Layer>> types) {
    }
}
