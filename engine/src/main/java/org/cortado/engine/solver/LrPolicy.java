package org.cortado.engine.solver;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import org.cortado.engine.ConfigException;
import org.cortado.engine.config.Json;

/**
 * A learning-rate schedule: Caffe's {@code lr_policy} ({@code SGDSolver::GetLearningRate}) plus
 * {@code cosine} and a linear warm-up, read from the {@code solver} object.
 *
 * <p>{@code it} is the number of updates already applied (Caffe's {@code iter_}: 0 for the first
 * update). With {@code base_lr} = b:
 * <pre>
 *   fixed      b
 *   step       b * gamma^floor(it / stepsize)
 *   exp        b * gamma^it
 *   inv        b * (1 + gamma * it)^(-power)
 *   multistep  b * gamma^(number of stepvalue entries &lt;= it)
 *   poly       b * (1 - it / max_iter)^power                    (0 after max_iter)
 *   sigmoid    b / (1 + exp(-gamma * (it - stepsize)))
 *   cosine     min_lr + (b - min_lr) * (1 + cos(pi * it / max_iter)) / 2
 * </pre>
 * then, for {@code it < warmup_iter}, the rate is multiplied by
 * {@code f + (1 - f) * it / warmup_iter} with {@code f = warmup_start_factor}, a linear ramp from
 * {@code f} to 1 (PyTorch's {@code LinearLR} with {@code total_iters = warmup_iter}, applied on top of
 * the policy as a {@code ChainedScheduler} would).
 *
 * <p>Notes on the choices:
 * <ul>
 *   <li>{@code multistep} is computed from the list rather than from Caffe's {@code current_step_}
 *       counter, so it needs no solver state. The two agree for the strictly increasing
 *       {@code stepvalue} required here.</li>
 *   <li>{@code poly} past {@code max_iter} would raise a negative number to a fractional power (NaN
 *       in Caffe); the rate stays 0 there instead.</li>
 *   <li>{@code cosine} is PyTorch's closed form of {@code CosineAnnealingLR} with
 *       {@code T_max = max_iter}; past {@code max_iter} it rises again, as PyTorch's does.</li>
 *   <li>{@code warmup_start_factor} defaults to 1/3, PyTorch {@code LinearLR}'s default, so that the
 *       first update is not wasted on a zero rate.</li>
 *   <li>Rates are computed in double (Caffe uses float); the solver rounds once to float.</li>
 * </ul>
 *
 * <p>Fields, all in the {@code solver} object (defaults as in Caffe where Caffe has one):
 * <ul>
 *   <li>{@code base_lr}: required, {@code >= 0}.</li>
 *   <li>{@code lr_policy}: one of the names above; default {@code "fixed"} (Caffe has no default and
 *       stops on an empty policy).</li>
 *   <li>{@code gamma}: required by step, exp, multistep ({@code > 0}), inv ({@code >= 0}) and
 *       sigmoid.</li>
 *   <li>{@code power}: required by inv and poly ({@code >= 0} for poly).</li>
 *   <li>{@code stepsize}: required by step ({@code > 0}) and sigmoid ({@code >= 0}).</li>
 *   <li>{@code stepvalue}: required by multistep: non-empty, {@code >= 0}, strictly increasing.</li>
 *   <li>{@code max_iter}: required by poly and cosine ({@code > 0}); also the trainer's run length.</li>
 *   <li>{@code min_lr}: cosine's floor, default 0, {@code >= 0}.</li>
 *   <li>{@code warmup_iter}: default 0 (no warm-up), {@code >= 0}.</li>
 *   <li>{@code warmup_start_factor}: default 1/3, in {@code [0, 1]}.</li>
 * </ul>
 */
public record LrPolicy(Policy policy, double baseLr, double gamma, double power, long stepsize,
                       List<Long> stepvalue, long maxIter, double minLr, long warmupIter,
                       double warmupStartFactor) {

    /** The schedules; {@link #caffeName()} is the {@code lr_policy} string. */
    public enum Policy {
        FIXED, STEP, EXP, INV, MULTISTEP, POLY, SIGMOID, COSINE;

        public String caffeName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final double DEFAULT_WARMUP_START_FACTOR = 1.0 / 3;

    /** The {@code solver} keys this record reads. */
    public static final Set<String> KEYS = Set.of("base_lr", "lr_policy", "gamma", "power", "stepsize",
            "stepvalue", "max_iter", "min_lr", "warmup_iter", "warmup_start_factor");

    public LrPolicy {
        Objects.requireNonNull(policy, "policy");
        stepvalue = List.copyOf(stepvalue);
    }

    /** A constant rate, no warm-up. */
    public static LrPolicy fixed(double baseLr) {
        return new LrPolicy(Policy.FIXED, baseLr, 0, 0, 0, List.of(), 0, 0, 0, DEFAULT_WARMUP_START_FACTOR);
    }

    /**
     * Reads the policy fields of a {@code solver} object. Every problem found is reported at once,
     * each with its JSON path, e.g. {@code solver.stepsize: required by lr_policy "step"}.
     */
    public static LrPolicy parse(Json j) {
        List<String> problems = new ArrayList<>();
        Policy policy = parsePolicy(j);
        String by = "required by lr_policy \"" + policy.caffeName() + "\"";

        if (!j.has("base_lr")) {
            problems.add(problem(j, "base_lr", "required number is missing"));
        }
        double baseLr = j.getDouble("base_lr", 0);
        if (baseLr < 0) {
            problems.add(problem(j, "base_lr", "must be >= 0, got " + baseLr));
        }

        boolean needGamma = switch (policy) {
            case STEP, EXP, MULTISTEP, INV, SIGMOID -> true;
            default -> false;
        };
        double gamma = j.getDouble("gamma", 0);
        if (needGamma && !j.has("gamma")) {
            problems.add(problem(j, "gamma", by));
        } else if ((policy == Policy.STEP || policy == Policy.EXP || policy == Policy.MULTISTEP) && !(gamma > 0)) {
            problems.add(problem(j, "gamma", "must be > 0 for lr_policy \"" + policy.caffeName() + "\", got " + gamma));
        } else if (policy == Policy.INV && gamma < 0) {
            // 1 + gamma * it must stay positive for every it.
            problems.add(problem(j, "gamma", "must be >= 0 for lr_policy \"inv\", got " + gamma));
        }

        double power = j.getDouble("power", 0);
        if ((policy == Policy.INV || policy == Policy.POLY) && !j.has("power")) {
            problems.add(problem(j, "power", by));
        } else if (policy == Policy.POLY && power < 0) {
            problems.add(problem(j, "power", "must be >= 0 for lr_policy \"poly\", got " + power));
        }

        long stepsize = j.getLong("stepsize", 0);
        if ((policy == Policy.STEP || policy == Policy.SIGMOID) && !j.has("stepsize")) {
            problems.add(problem(j, "stepsize", by));
        } else if (policy == Policy.STEP && stepsize <= 0) {
            problems.add(problem(j, "stepsize", "must be > 0, got " + stepsize));
        } else if (policy == Policy.SIGMOID && stepsize < 0) {
            problems.add(problem(j, "stepsize", "must be >= 0, got " + stepsize));
        }

        int[] steps = j.ints("stepvalue");
        List<Long> stepvalue = new ArrayList<>();
        if (policy == Policy.MULTISTEP && steps.length == 0) {
            problems.add(problem(j, "stepvalue", by));
        }
        for (int i = 0; i < steps.length; i++) {
            if (steps[i] < 0) {
                problems.add(problem(j, "stepvalue[" + i + "]", "must be >= 0, got " + steps[i]));
            } else if (i > 0 && steps[i] <= steps[i - 1]) {
                problems.add(problem(j, "stepvalue[" + i + "]",
                        "must be > stepvalue[" + (i - 1) + "] (" + steps[i - 1] + "), got " + steps[i]));
            }
            stepvalue.add((long) steps[i]);
        }

        long maxIter = j.getLong("max_iter", 0);
        if ((policy == Policy.POLY || policy == Policy.COSINE) && !j.has("max_iter")) {
            problems.add(problem(j, "max_iter", by));
        } else if ((policy == Policy.POLY || policy == Policy.COSINE) && maxIter <= 0) {
            problems.add(problem(j, "max_iter", "must be > 0, got " + maxIter));
        } else if (maxIter < 0) {
            problems.add(problem(j, "max_iter", "must be >= 0, got " + maxIter));
        }

        double minLr = j.getDouble("min_lr", 0);
        if (minLr < 0) {
            problems.add(problem(j, "min_lr", "must be >= 0, got " + minLr));
        }

        long warmupIter = j.getLong("warmup_iter", 0);
        if (warmupIter < 0) {
            problems.add(problem(j, "warmup_iter", "must be >= 0, got " + warmupIter));
        }
        double warmupStartFactor = j.getDouble("warmup_start_factor", DEFAULT_WARMUP_START_FACTOR);
        if (!(warmupStartFactor >= 0 && warmupStartFactor <= 1)) {
            problems.add(problem(j, "warmup_start_factor", "must be in [0, 1], got " + warmupStartFactor));
        }

        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new LrPolicy(policy, baseLr, gamma, power, stepsize, stepvalue, maxIter, minLr, warmupIter,
                warmupStartFactor);
    }

    /**
     * The learning rate for the update that follows {@code it} earlier updates.
     *
     * @throws IllegalArgumentException if {@code it < 0}
     */
    public double rate(long it) {
        if (it < 0) {
            throw new IllegalArgumentException("iteration must be >= 0, got " + it);
        }
        double rate = policyRate(it);
        if (it < warmupIter) {
            rate *= warmupStartFactor + (1 - warmupStartFactor) * ((double) it / warmupIter);
        }
        return rate;
    }

    private double policyRate(long it) {
        return switch (policy) {
            case FIXED -> baseLr;
            case STEP -> baseLr * Math.pow(gamma, Math.floorDiv(it, stepsize));
            case EXP -> baseLr * Math.pow(gamma, it);
            case INV -> baseLr * Math.pow(1 + gamma * it, -power);
            case MULTISTEP -> baseLr * Math.pow(gamma, stepsPassed(it));
            case POLY -> it > maxIter ? 0 : baseLr * Math.pow(1 - (double) it / maxIter, power);
            case SIGMOID -> baseLr / (1 + Math.exp(-gamma * (it - stepsize)));
            case COSINE -> minLr + (baseLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * it / maxIter));
        };
    }

    /** How many {@code stepvalue} entries are {@code <= it} (the list is increasing). */
    private int stepsPassed(long it) {
        int n = 0;
        while (n < stepvalue.size() && stepvalue.get(n) <= it) {
            n++;
        }
        return n;
    }

    private static Policy parsePolicy(Json j) {
        String name = j.getString("lr_policy", Policy.FIXED.caffeName());
        for (Policy p : Policy.values()) {
            if (p.caffeName().equalsIgnoreCase(name)) {
                return p;
            }
        }
        List<String> names = new ArrayList<>();
        for (Policy p : Policy.values()) {
            names.add(p.caffeName());
        }
        throw j.error("lr_policy", "expected one of " + names + ", got \"" + name + "\"");
    }

    private static String problem(Json j, String key, String message) {
        return j.error(key, message).getMessage();
    }
}
