package org.cortado.engine.solver;

import java.util.Objects;
import org.cortado.engine.layers.ParamSpec;
import org.cortado.engine.tensor.Blob;

/**
 * One learnable blob as the solver sees it: a name that keys its solver state ({@code "conv1/0"}:
 * layer name and param index), the blob (data and accumulated diff), and Caffe's multipliers on the
 * learning rate and the weight decay ({@code lr_mult: 0} freezes it).
 *
 * <p>A shared blob may appear several times in a list handed to {@link Solver#step}; the solver
 * updates it once, with the name and multipliers of its first appearance (the owner, in Caffe's
 * terms).
 */
public record Param(String name, Blob blob, float lrMult, float decayMult) {
    public Param {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(blob, "blob");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("param name must not be empty (blob " + blob + ")");
        }
        if (!Float.isFinite(lrMult) || !Float.isFinite(decayMult)) {
            throw new IllegalArgumentException("param '" + name + "': lr_mult and decay_mult must be finite, got "
                    + lrMult + " and " + decayMult);
        }
    }

    /** Param {@code index} of layer {@code layer}, named {@code layer/index}, with the multipliers of {@code spec}. */
    public static Param of(String layer, int index, Blob blob, ParamSpec spec) {
        return new Param(layer + "/" + index, blob, spec.lrMult(), spec.decayMult());
    }
}
