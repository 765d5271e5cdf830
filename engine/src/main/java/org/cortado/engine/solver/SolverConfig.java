package org.cortado.engine.solver;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.cortado.engine.ConfigException;
import org.cortado.engine.config.Json;

/**
 * The update-rule part of the {@code solver} object, with Caffe's fields and defaults:
 * <ul>
 *   <li>{@code type}: {@code "SGD"} (default), {@code "Nesterov"}, {@code "AdaGrad"},
 *       {@code "RMSProp"}, {@code "AdaDelta"}, {@code "Adam"} or {@code "AdamW"}, case-insensitive
 *       (the update rules are written out in {@link Solver}).</li>
 *   <li>{@code momentum}: default 0, {@code >= 0}. SGD/Nesterov: the momentum. AdaDelta: the decay of
 *       both running averages, in {@code [0, 1]} (Caffe's example uses 0.95). Adam/AdamW: beta1, in
 *       {@code [0, 1)} (usually 0.9). AdaGrad and RMSProp: must be 0, as Caffe checks.</li>
 *   <li>{@code momentum2}: Adam/AdamW's beta2, default 0.999, in {@code [0, 1)}.</li>
 *   <li>{@code rms_decay}: RMSProp's decay of the mean square, default 0.99, in {@code [0, 1]}.</li>
 *   <li>{@code delta}: the {@code epsilon} of AdaGrad, RMSProp, AdaDelta, Adam and AdamW, default
 *       1e-8, {@code >= 0}. One default for all types, as in Caffe's proto (Caffe's AdaDelta example
 *       sets 1e-6, PyTorch's Adadelta default).</li>
 *   <li>{@code weight_decay}: default 0, {@code >= 0}.</li>
 *   <li>{@code regularization_type}: {@code "L2"} (default) or {@code "L1"}. AdamW decays the weights
 *       directly (decoupled L2) and rejects L1.</li>
 *   <li>{@code clip_gradients}: default -1 (off); when {@code >= 0}, the global L2 norm of the
 *       gradients is clipped to it.</li>
 *   <li>{@code iter_size}: default 1, {@code >= 1}: forward/backward passes accumulated per update.</li>
 *   <li>the learning-rate fields of {@link LrPolicy} ({@code base_lr}, {@code lr_policy}, ...,
 *       {@code max_iter}).</li>
 * </ul>
 * The {@code solver} object also holds the trainer's fields ({@code test_interval}, {@code display},
 * {@code snapshot}, ...), so this reader does not reject unknown keys; it publishes the ones it reads
 * in {@link #KEYS} and the trainer checks the union.
 */
public record SolverConfig(Type type, LrPolicy lrPolicy, float momentum, float weightDecay,
                           Regularization regularization, float clipGradients, int iterSize,
                           float momentum2, float rmsDecay, float delta) {

    /** The update rules; {@link #caffeName()} is the {@code type} string. */
    public enum Type {
        SGD("SGD", 1), NESTEROV("Nesterov", 1), ADAGRAD("AdaGrad", 1), RMSPROP("RMSProp", 1),
        ADADELTA("AdaDelta", 2), ADAM("Adam", 2), ADAMW("AdamW", 2);

        private final String caffeName;
        private final int historySets;

        Type(String caffeName, int historySets) {
            this.caffeName = caffeName;
            this.historySets = historySets;
        }

        public String caffeName() {
            return caffeName;
        }

        /**
         * History blobs kept per param: 2 for AdaDelta, Adam and AdamW (Caffe's {@code AdaDeltaPreSolve}
         * and {@code AdamPreSolve} append a second set), else 1.
         */
        public int historySets() {
            return historySets;
        }
    }

    public static final float DEFAULT_MOMENTUM2 = 0.999f;
    public static final float DEFAULT_RMS_DECAY = 0.99f;
    public static final float DEFAULT_DELTA = 1e-8f;

    public enum Regularization { L2, L1 }

    /** Every {@code solver} key read by {@link #parse} (including {@link LrPolicy#KEYS}). */
    public static final Set<String> KEYS;

    static {
        Set<String> keys = new HashSet<>(LrPolicy.KEYS);
        keys.addAll(List.of("type", "momentum", "weight_decay", "regularization_type", "clip_gradients", "iter_size",
                "momentum2", "rms_decay", "delta"));
        KEYS = Set.copyOf(keys);
    }

    public SolverConfig {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(lrPolicy, "lrPolicy");
        Objects.requireNonNull(regularization, "regularization");
        List<String> problems = problems(type, momentum, weightDecay, regularization, iterSize, momentum2,
                rmsDecay, delta);
        if (!problems.isEmpty() || Float.isNaN(clipGradients)) {
            throw new IllegalArgumentException("bad solver config: " + problems + ", clip_gradients " + clipGradients);
        }
    }

    /** Plain SGD at a fixed rate with the given momentum; no decay, clipping or accumulation. */
    public static SolverConfig sgd(double lr, float momentum) {
        return new SolverConfig(Type.SGD, LrPolicy.fixed(lr), momentum, 0, Regularization.L2, -1, 1,
                DEFAULT_MOMENTUM2, DEFAULT_RMS_DECAY, DEFAULT_DELTA);
    }

    /** Reads a {@code solver} object; reports every problem found, each with its JSON path. */
    public static SolverConfig parse(Json j) {
        List<String> problems = new ArrayList<>();
        Type type = null;
        try {
            type = parseType(j);
        } catch (ConfigException e) {
            problems.addAll(e.problems());
        }
        LrPolicy policy = null;
        try {
            policy = LrPolicy.parse(j);
        } catch (ConfigException e) {
            problems.addAll(e.problems());
        }
        float momentum = j.getFloat("momentum", 0);
        float weightDecay = j.getFloat("weight_decay", 0);
        Regularization regularization = null;
        try {
            regularization = j.getEnum("regularization_type", Regularization.class, Regularization.L2);
        } catch (ConfigException e) {
            problems.addAll(e.problems());
        }
        float clip = j.getFloat("clip_gradients", -1);
        int iterSize = j.getInt("iter_size", 1);
        float momentum2 = j.getFloat("momentum2", DEFAULT_MOMENTUM2);
        float rmsDecay = j.getFloat("rms_decay", DEFAULT_RMS_DECAY);
        float delta = j.getFloat("delta", DEFAULT_DELTA);
        for (String p : problems(type, momentum, weightDecay, regularization, iterSize, momentum2, rmsDecay, delta)) {
            int colon = p.indexOf(": ");
            problems.add(j.error(p.substring(0, colon), p.substring(colon + 2)).getMessage());
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new SolverConfig(type, policy, momentum, weightDecay, regularization, clip, iterSize, momentum2,
                rmsDecay, delta);
    }

    /**
     * The checks shared by {@link #parse} and the constructor, as {@code "key: message"}; a null
     * {@code type} or {@code regularization} (already reported) skips the checks that need it.
     */
    private static List<String> problems(Type type, float momentum, float weightDecay, Regularization regularization,
                                         int iterSize, float momentum2, float rmsDecay, float delta) {
        List<String> problems = new ArrayList<>();
        String forType = type == null ? "" : " for type \"" + type.caffeName() + "\"";
        if (!(momentum >= 0)) {
            problems.add("momentum: must be >= 0, got " + momentum);
        } else if ((type == Type.ADAGRAD || type == Type.RMSPROP) && momentum != 0) {
            // Caffe: CHECK_EQ(0, momentum) << "Momentum cannot be used with AdaGrad/RMSProp."
            problems.add("momentum: must be 0" + forType + ", got " + momentum);
        } else if (type == Type.ADADELTA && !(momentum <= 1)) {
            problems.add("momentum: must be in [0, 1]" + forType + ", got " + momentum);
        } else if ((type == Type.ADAM || type == Type.ADAMW) && !(momentum < 1)) {
            // 1 - beta1^t divides the rate.
            problems.add("momentum: must be in [0, 1)" + forType + " (beta1), got " + momentum);
        }
        if (!(weightDecay >= 0)) {
            problems.add("weight_decay: must be >= 0, got " + weightDecay);
        }
        if (type == Type.ADAMW && regularization == Regularization.L1) {
            problems.add("regularization_type: AdamW decays the weights directly (decoupled L2); L1 is not supported");
        }
        if (iterSize < 1) {
            problems.add("iter_size: must be >= 1, got " + iterSize);
        }
        if (!(momentum2 >= 0 && momentum2 < 1)) {
            problems.add("momentum2: must be in [0, 1), got " + momentum2);
        }
        if (!(rmsDecay >= 0 && rmsDecay <= 1)) {
            problems.add("rms_decay: must be in [0, 1], got " + rmsDecay);
        }
        if (!(delta >= 0) || Float.isInfinite(delta)) {
            problems.add("delta: must be a finite number >= 0, got " + delta);
        }
        return problems;
    }

    private static Type parseType(Json j) {
        String name = j.getString("type", Type.SGD.caffeName());
        for (Type t : Type.values()) {
            if (t.caffeName().equalsIgnoreCase(name)) {
                return t;
            }
        }
        List<String> names = new ArrayList<>();
        for (Type t : Type.values()) {
            names.add(t.caffeName());
        }
        throw j.error("type", "unknown solver type \"" + name + "\", expected one of " + names);
    }
}
