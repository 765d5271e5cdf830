package org.cortado.engine.layers;

/**
 * Caffe's {@code param} entry for one learnable blob of a layer: a name to share the blob with other
 * layers (empty: not shared), and multipliers on the solver's learning rate and weight decay
 * ({@code lr_mult: 0} freezes the blob).
 */
public record ParamSpec(String name, float lrMult, float decayMult) {
    public static final ParamSpec DEFAULT = new ParamSpec("", 1f, 1f);
}
