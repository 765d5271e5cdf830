package org.cortado.engine.layers;

import java.util.ArrayList;
import java.util.List;
import org.cortado.engine.config.Json;
import org.cortado.engine.net.Phase;

/**
 * The fields every layer has, read from one entry of {@code net.layers}: {@code name}, {@code type},
 * {@code bottom}, {@code top} (a string or an array), {@code param} (per learnable blob:
 * {@code name}, {@code lr_mult} default 1, {@code decay_mult} default 1), {@code include: {phase}}
 * (absent: both phases), {@code exclude: {phase}}, and {@code loss_weight} (one per top; loss layers
 * default to 1 for their first top, other layers to 0).
 *
 * <p>The type's own fields (Caffe's {@code convolution_param} and friends, written flat in the same
 * object: {@code "num_output": 20, "kernel_size": 5}) are read by the layer's constructor from
 * {@link #json()}; after that, any field nobody read is reported as unknown.
 */
public record LayerConfig(String name, String type, List<String> bottoms, List<String> tops,
                          List<ParamSpec> params, Phase includePhase, Phase excludePhase,
                          double[] lossWeights, Json json) {

    public LayerConfig {
        bottoms = List.copyOf(bottoms);
        tops = List.copyOf(tops);
        params = List.copyOf(params);
        lossWeights = lossWeights.clone();
    }

    /** Reads the generic fields; the type-specific ones stay in {@code json} for the layer. */
    public static LayerConfig parse(Json json) {
        String type = json.requireString("type");
        String name = json.getString("name", null);
        if (name == null || name.isBlank()) {
            throw json.error("name", "every layer needs a non-empty name");
        }
        List<String> bottoms = json.strings("bottom");
        List<String> tops = json.strings("top");
        List<ParamSpec> params = new ArrayList<>();
        for (Json p : json.objects("param")) {
            params.add(new ParamSpec(p.getString("name", ""), p.getFloat("lr_mult", 1f), p.getFloat("decay_mult", 1f)));
            p.rejectUnknown();
        }
        Phase include = json.optObject("include").map(LayerConfig::phaseOf).orElse(null);
        Phase exclude = json.optObject("exclude").map(LayerConfig::phaseOf).orElse(null);
        double[] lossWeights = json.doubles("loss_weight");
        return new LayerConfig(name, type, bottoms, tops, params, include, exclude, lossWeights, json);
    }

    private static Phase phaseOf(Json rule) {
        Phase p = rule.getEnum("phase", Phase.class, null);
        if (p == null) {
            throw rule.error("phase", "required (TRAIN or TEST)");
        }
        rule.rejectUnknown();
        return p;
    }

    /** Whether the layer belongs to a net built for {@code phase}. */
    public boolean inPhase(Phase phase) {
        return (includePhase == null || includePhase == phase) && excludePhase != phase;
    }

    /** The spec of learnable blob {@code i} (defaults when the config lists fewer). */
    public ParamSpec param(int i) {
        return i < params.size() ? params.get(i) : ParamSpec.DEFAULT;
    }

    /** The JSON path of this layer, for errors. */
    public String path() {
        return json.path();
    }

    /** A minimal config for tests and programmatic nets. */
    public static LayerConfig of(String type, String name, String jsonFields) {
        String body = "{\"type\":\"" + type + "\",\"name\":\"" + name + "\""
                + (jsonFields == null || jsonFields.isBlank() ? "" : "," + jsonFields) + "}";
        return parse(Json.of(Json.parse(body, name).node(), name));
    }
}
