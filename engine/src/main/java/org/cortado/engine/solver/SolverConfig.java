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
 *   <li>{@code type}: {@code "SGD"} (default) or {@code "Nesterov"}, case-insensitive. Caffe's other
 *       solvers (AdaGrad, RMSProp, AdaDelta, Adam) and AdamW are not implemented yet and are
 *       rejected as unknown.</li>
 *   <li>{@code momentum}: default 0, {@code >= 0}.</li>
 *   <li>{@code weight_decay}: default 0, {@code >= 0}.</li>
 *   <li>{@code regularization_type}: {@code "L2"} (default) or {@code "L1"}.</li>
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
                           Regularization regularization, float clipGradients, int iterSize) {

    /** The update rules; {@link #caffeName()} is the {@code type} string. */
    public enum Type {
        SGD("SGD"), NESTEROV("Nesterov");

        private final String caffeName;

        Type(String caffeName) {
            this.caffeName = caffeName;
        }

        public String caffeName() {
            return caffeName;
        }
    }

    public enum Regularization { L2, L1 }

    /** Every {@code solver} key read by {@link #parse} (including {@link LrPolicy#KEYS}). */
    public static final Set<String> KEYS;

    static {
        Set<String> keys = new HashSet<>(LrPolicy.KEYS);
        keys.addAll(List.of("type", "momentum", "weight_decay", "regularization_type", "clip_gradients", "iter_size"));
        KEYS = Set.copyOf(keys);
    }

    public SolverConfig {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(lrPolicy, "lrPolicy");
        Objects.requireNonNull(regularization, "regularization");
        if (!(momentum >= 0) || !(weightDecay >= 0) || iterSize < 1 || Float.isNaN(clipGradients)) {
            throw new IllegalArgumentException("bad solver config: momentum " + momentum + ", weight_decay "
                    + weightDecay + ", iter_size " + iterSize + ", clip_gradients " + clipGradients);
        }
    }

    /** Plain SGD at a fixed rate with the given momentum; no decay, clipping or accumulation. */
    public static SolverConfig sgd(double lr, float momentum) {
        return new SolverConfig(Type.SGD, LrPolicy.fixed(lr), momentum, 0, Regularization.L2, -1, 1);
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
        if (!(momentum >= 0)) {
            problems.add(j.error("momentum", "must be >= 0, got " + momentum).getMessage());
        }
        float weightDecay = j.getFloat("weight_decay", 0);
        if (!(weightDecay >= 0)) {
            problems.add(j.error("weight_decay", "must be >= 0, got " + weightDecay).getMessage());
        }
        Regularization regularization = null;
        try {
            regularization = j.getEnum("regularization_type", Regularization.class, Regularization.L2);
        } catch (ConfigException e) {
            problems.addAll(e.problems());
        }
        float clip = j.getFloat("clip_gradients", -1);
        int iterSize = j.getInt("iter_size", 1);
        if (iterSize < 1) {
            problems.add(j.error("iter_size", "must be >= 1, got " + iterSize).getMessage());
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new SolverConfig(type, policy, momentum, weightDecay, regularization, clip, iterSize);
    }

    private static Type parseType(Json j) {
        String name = j.getString("type", Type.SGD.caffeName());
        for (Type t : Type.values()) {
            if (t.caffeName().equalsIgnoreCase(name)) {
                return t;
            }
        }
        throw j.error("type", "unknown solver type \"" + name + "\", expected one of [SGD, Nesterov]");
    }
}
