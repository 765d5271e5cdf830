package org.cortado.engine.layers;

import java.util.Map;
import java.util.function.BiFunction;

/** The loss layers of the catalogue (SigmoidCrossEntropyLoss, EuclideanLoss, HingeLoss, MultinomialLogisticLoss, InfogainLoss, ContrastiveLoss), registered by {@link LayerRegistry}. */
final class LossLayers {
    private LossLayers() {}

    static void register(Map<String, BiFunction<LayerConfig, LayerContext, Layer>> types) {
        types.put("SigmoidCrossEntropyLoss", SigmoidCrossEntropyLoss::new);
        types.put("EuclideanLoss", EuclideanLoss::new);
        types.put("HingeLoss", HingeLoss::new);
        types.put("MultinomialLogisticLoss", MultinomialLogisticLoss::new);
        types.put("InfogainLoss", InfogainLoss::new);
        types.put("ContrastiveLoss", ContrastiveLoss::new);
    }
}
