package org.cortado.engine.layers;

import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiFunction;
import org.cortado.engine.ConfigException;

/**
 * Caffe type names to layer constructors. A type not listed here is an error naming the JSON path and
 * the known types. After the constructor has read its fields, any field left unread is reported.
 */
public final class LayerRegistry {
    private static final Map<String, BiFunction<LayerConfig, LayerContext, Layer>> TYPES = new TreeMap<>();

    static {
        TYPES.put("Convolution", Convolution::new);
        TYPES.put("Input", Input::new);
        TYPES.put("InnerProduct", InnerProduct::new);
        TYPES.put("ReLU", ReLU::new);
        TYPES.put("Sigmoid", Sigmoid::new);
        TYPES.put("TanH", TanH::new);
        TYPES.put("Softmax", Softmax::new);
        TYPES.put("SoftmaxWithLoss", SoftmaxWithLoss::new);
        TYPES.put("Accuracy", Accuracy::new);
        TYPES.put("Dropout", Dropout::new);
        TYPES.put("Flatten", Flatten::new);
        TYPES.put("Split", Split::new);
        TYPES.put("Pooling", Pooling::new);
        TYPES.put("Deconvolution", Deconvolution::new);
        // The rest of Caffe's catalogue, one registration list per family.
        ActivationLayers.register(TYPES);
        NormalizationLayers.register(TYPES);
        UtilityLayers.register(TYPES);
        LossLayers.register(TYPES);
    }

    private LayerRegistry() {}

    public static Layer create(LayerConfig config, LayerContext ctx) {
        var factory = TYPES.get(config.type());
        if (factory == null) {
            throw new ConfigException(config.path() + ".type: unknown layer type \"" + config.type()
                    + "\"; known types: " + String.join(", ", TYPES.keySet()));
        }
        Layer layer = factory.apply(config, ctx);
        config.json().rejectUnknown();
        return layer;
    }

    public static boolean isKnown(String type) {
        return TYPES.containsKey(type);
    }

    /** The known type names, sorted. */
    public static Set<String> types() {
        return Collections.unmodifiableSet(TYPES.keySet());
    }
}
