package org.cortado.engine.solver;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SequencedMap;
import java.util.Set;
import org.cortado.engine.WeightsException;
import org.cortado.engine.config.Json;
import org.cortado.engine.ops.Elementwise;
import org.cortado.engine.ops.Updates;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;
import org.cortado.engine.tensor.Tensor;

/**
 * Caffe's solvers ({@code SGDSolver}, {@code NesterovSolver}, {@code AdaGradSolver},
 * {@code RMSPropSolver}, {@code AdaDeltaSolver}, {@code AdamSolver}) and AdamW: applies one update to a
 * list of learnable params whose diffs hold the gradients accumulated by backward.
 *
 * <p>One call of {@link #step} is Caffe's {@code SGDSolver::ApplyUpdate}. With the learning rate
 * {@code lr} from the {@link LrPolicy}, momentum {@code mu}, weight decay {@code lambda}, gradient
 * clip {@code c}, accumulation {@code k = iter_size}, and {@code delta}, {@code rms_decay},
 * {@code momentum2} from the {@link SolverConfig}:
 * <pre>
 *   lr = policy.rate(t)                        t = updates applied so far (Caffe's iter_)
 *   g  = diffs of all params (each shared blob once; lr_mult 0 params left out)
 *   if c &gt;= 0 and ||g||_2 &gt; c:  g = g * c / ||g||_2            ClipGradients (global norm)
 *   for each param w with lr_mult != 0:
 *     g = g / k                                                     Normalize (if k &gt; 1)
 *     g = g + lambda * decay_mult * w          (L2; not AdamW)      Regularize
 *     g = g + lambda * decay_mult * sign(w)    (L1)
 *     a = lr * lr_mult
 *     u = the type's update below                                   ComputeUpdateValue
 *     w = w - u                                                     Net::Update
 *   every diff = 0                             (Caffe clears at the start of the next Step)
 *
 *   SGD:       v = mu * v + a * g;  u = v
 *   Nesterov:  v' = v;  v = mu * v + a * g;  u = (1 + mu) * v - mu * v'
 *   AdaGrad:   h = h + g^2;  u = a * g / (sqrt(h) + delta)
 *   RMSProp:   h = rms_decay * h + (1 - rms_decay) * g^2;  u = a * g / (sqrt(h) + delta)
 *   AdaDelta:  h = mu * h + (1 - mu) * g^2
 *              d = g * sqrt((h2 + delta) / (h + delta))
 *              h2 = mu * h2 + (1 - mu) * d^2;  u = a * d
 *   Adam:      m = mu * m + (1 - mu) * g;  v = mu2 * v + (1 - mu2) * g^2       (mu = beta1, mu2 = beta2)
 *              u = a * sqrt(1 - mu2^(t+1)) / (1 - mu^(t+1)) * m / (sqrt(v) + delta)
 *   AdamW:     w = w - a * lambda * decay_mult * w;  then Adam's step with the undecayed g
 * </pre>
 * Notes on the rules:
 * <ul>
 *   <li>SGD: the momentum buffer {@code v} holds lr-scaled updates, as in Caffe. PyTorch's
 *       {@code SGD} instead keeps {@code buf = mu * buf + g} and applies {@code w -= lr * buf}; the two
 *       agree while the rate is fixed ({@code v = lr * buf}) and differ when it changes, because
 *       Caffe's history carries the old rates. Its Nesterov form is likewise Caffe's "step back, then
 *       over-step", not PyTorch's.</li>
 *   <li>AdaGrad, RMSProp and AdaDelta are PyTorch's {@code Adagrad} (initial accumulator 0,
 *       {@code lr_decay} 0), {@code RMSprop} ({@code alpha = rms_decay}, not centered, no momentum)
 *       and {@code Adadelta} ({@code rho = momentum}) with {@code eps = delta}: both add {@code delta}
 *       where written above. AdaDelta's rate is usually 1.</li>
 *   <li>Adam's bias correction uses Caffe's {@code t = iter_ + 1} (the iteration, so it survives a
 *       resume) and Caffe's placement of {@code delta}: PyTorch's {@code Adam} divides by
 *       {@code sqrt(v) / sqrt(1 - mu2^t) + eps}, which is Caffe's form with
 *       {@code delta = eps * sqrt(1 - mu2^t)}. The two are equal for {@code delta = eps = 0}, and
 *       differ by a relative {@code ~ delta / (sqrt(1 - mu2^t) * sqrt(v))} otherwise (largest at the
 *       first steps).</li>
 *   <li>AdamW (not in Caffe) is PyTorch's {@code AdamW}: the weights shrink by
 *       {@code a * lambda * decay_mult * w} (with {@code a} including {@code lr_mult}, as a per-group
 *       rate does) before the Adam step, and the decay never enters {@code g}, {@code m} or {@code v};
 *       L1 is rejected by the config. The shrink uses the weights before the step; since Adam's step
 *       does not read {@code w}, shrinking first or last differs only by float rounding.</li>
 * </ul>
 *
 * <p>Params with {@code lr_mult 0} are neither decayed nor moved, and their diffs are left out of the
 * clipping norm: in Caffe such blobs get no gradient at all ({@code param_propagate_down} is false),
 * so their diffs are zero there. A blob that appears several times in the list (a shared param) is
 * updated once, under the name and multipliers of its first appearance.
 *
 * <p>State: per param name, the history of its type ({@link SolverConfig.Type#historySets()} blobs:
 * SGD/Nesterov {@code v}; AdaGrad/RMSProp {@code h}; AdaDelta {@code h, h2}; Adam/AdamW {@code m, v}),
 * created as zeros the first time the name is seen. {@link #state()} and {@link #restore} expose it
 * for snapshots in Caffe's {@code .solverstate} order ({@code history_}: the first blob of every
 * param, then the second blob of every param, named {@link #historyNames}); the iteration count is
 * the caller's. Arithmetic is float32 as in Caffe, with norms accumulated in double. Not thread-safe:
 * one training loop owns a solver.
 */
public final class Solver {
    /** Every {@code solver} key {@link #create} reads; the trainer validates the union with its own. */
    public static final Set<String> KEYS = SolverConfig.KEYS;

    private final SolverConfig config;
    /** Appended to a param name to key its second history blob in {@link #state()}. */
    public static final String SECOND_HISTORY_SUFFIX = "#2";

    /** First history blob per param name, in the order names were first seen. */
    private final SequencedMap<String, Tensor> history = new LinkedHashMap<>();
    /** Second history blob per param name (AdaDelta's h2, Adam's v); empty for the other types. */
    private final SequencedMap<String, Tensor> history2 = new LinkedHashMap<>();
    /** The de-duplicated params of the last step, or null before the first step. */
    private List<Param> bound;
    /** State restored before the params were known; checked and applied at the first step. */
    private SequencedMap<String, Tensor> pending;
    private double lastRate = Double.NaN;
    /** Multiplies the policy's rate: 1 until {@link #setRate} (a user changing the rate live). */
    private double rateScale = 1;

    public Solver(SolverConfig config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    /** Reads the {@code solver} object (see {@link SolverConfig}); unknown keys are the caller's to reject. */
    public static Solver create(Json solverJson) {
        return new Solver(SolverConfig.parse(solverJson));
    }

    public SolverConfig config() {
        return config;
    }

    /** Forward/backward passes the caller accumulates into the diffs per {@link #step} ({@code iter_size}). */
    public int iterSize() {
        return config.iterSize();
    }

    /** The learning rate of update {@code iter}: the policy's, times the scale {@link #setRate} set. */
    public double rate(long iter) {
        return rateScale * config.lrPolicy().rate(iter);
    }

    /**
     * Changes the learning rate live: update {@code iter} uses {@code lr}, and later updates the
     * policy's rates scaled by the same factor (a {@code step} or {@code poly} schedule keeps decaying
     * from the new value, as PyTorch's chainable schedulers do after a change of a param group's lr).
     */
    public void setRate(double lr, long iter) {
        if (!(lr > 0) || !Double.isFinite(lr)) {
            throw new IllegalArgumentException("learning rate must be a positive number, got " + lr);
        }
        double policy = config.lrPolicy().rate(iter);
        if (!(policy > 0)) {
            throw new IllegalArgumentException("the lr policy gives " + policy + " at iteration " + iter
                    + "; a rate cannot be scaled from it");
        }
        rateScale = lr / policy;
    }

    /** Restores the factor of an earlier {@link #setRate} (a resumed run goes on with the rate it had). */
    public void setRateScale(double scale) {
        if (!(scale > 0) || !Double.isFinite(scale)) {
            throw new IllegalArgumentException("learning rate scale must be a positive number, got " + scale);
        }
        rateScale = scale;
    }

    /** The factor {@link #setRate} set (1 when never called). */
    public double rateScale() {
        return rateScale;
    }

    /** The learning rate used by the last {@link #step} ({@code NaN} before the first). */
    public double lastRate() {
        return lastRate;
    }

    /**
     * Applies one update from the accumulated diffs, then clears every diff.
     *
     * @param params the learnable params; a blob may appear more than once (shared params)
     * @param iter updates applied so far (0 for the first); selects the learning rate
     * @throws WeightsException if state {@link #restore restored} before the first step does not fit
     */
    public void step(List<Param> params, long iter) {
        List<Param> unique = bind(params);
        double rate = rate(iter);
        lastRate = rate;

        List<Param> trained = new ArrayList<>();
        for (Param p : unique) {
            if (p.lrMult() != 0) {
                trained.add(p);
            }
        }
        clipGradients(trained);
        for (Param p : trained) {
            update(p, (float) rate, iter);
        }
        for (Param p : unique) {
            p.blob().zeroDiff();
        }
    }

    /** Scales all diffs by {@code c / norm} when their global L2 norm exceeds {@code c >= 0}. */
    private void clipGradients(List<Param> params) {
        float clip = config.clipGradients();
        if (clip < 0) {
            return;
        }
        double sumsq = 0;
        for (Param p : params) {
            sumsq += Elementwise.sumsq(p.blob().count(), p.blob().dx(), 0);
        }
        double norm = Math.sqrt(sumsq);
        if (norm > clip) {
            float scale = (float) (clip / norm);
            for (Param p : params) {
                Elementwise.scale(p.blob().count(), scale, p.blob().dx(), 0);
            }
        }
    }

    private void update(Param p, float rate, long iter) {
        int n = p.blob().count();
        float[] w = p.blob().x();   // (count) weights
        float[] g = p.blob().dx();  // (count) gradient, consumed
        float[] h = history.get(p.name()).data(); // (count) first history
        float[] h2 = config.type().historySets() > 1 ? history2.get(p.name()).data() : null; // (count) second

        // Normalize: Caffe multiplies by the float 1/iter_size rather than dividing.
        if (config.iterSize() > 1) {
            Elementwise.scale(n, 1f / config.iterSize(), g, 0);
        }
        float a = rate * p.lrMult();
        float decay = config.weightDecay() * p.decayMult();
        boolean l1 = config.regularization() == SolverConfig.Regularization.L1;
        float mu = config.momentum();
        float delta = config.delta();
        switch (config.type()) {
            case SGD, NESTEROV -> Updates.sgd(n, a, mu, decay, l1, config.type() == SolverConfig.Type.NESTEROV, w, g, h);
            case ADAM, ADAMW -> {
                float mu2 = config.momentum2();
                long t = iter + 1;
                // Caffe computes the correction in double and rounds it to float.
                float correction = (float) (Math.sqrt(1 - Math.pow(mu2, t)) / (1 - Math.pow(mu, t)));
                Updates.adam(n, a, a * correction, mu, mu2, delta, decay, l1,
                        config.type() == SolverConfig.Type.ADAMW, w, g, h, h2);
            }
            default -> {
                if (decay != 0) {
                    switch (config.regularization()) {
                        case L2 -> Elementwise.axpy(n, decay, w, 0, g, 0);
                        case L1 -> {
                            for (int i = 0; i < n; i++) {
                                g[i] += decay * sign(w[i]);
                            }
                        }
                    }
                }
                otherRule(n, a, mu, delta, w, g, h, h2);
            }
        }
    }

    /** ComputeUpdateValue, then data -= update, for AdaGrad, RMSProp and AdaDelta. */
    private void otherRule(int n, float a, float mu, float delta, float[] w, float[] g, float[] h, float[] h2) {
        switch (config.type()) {
            case ADAGRAD -> {
                for (int i = 0; i < n; i++) {
                    h[i] += g[i] * g[i];
                    w[i] -= a * (g[i] / ((float) Math.sqrt(h[i]) + delta));
                }
            }
            case RMSPROP -> {
                float rho = config.rmsDecay();
                for (int i = 0; i < n; i++) {
                    h[i] = (1 - rho) * (g[i] * g[i]) + rho * h[i];
                    w[i] -= a * (g[i] / ((float) Math.sqrt(h[i]) + delta));
                }
            }
            case ADADELTA -> {
                for (int i = 0; i < n; i++) {
                    h[i] = (1 - mu) * (g[i] * g[i]) + mu * h[i];
                    float d = g[i] * (float) Math.sqrt((h2[i] + delta) / (h[i] + delta));
                    h2[i] = (1 - mu) * (d * d) + mu * h2[i];
                    w[i] -= a * d;
                }
            }
            default -> throw new IllegalStateException("not an AdaGrad/RMSProp/AdaDelta solver: " + config.type());
        }
    }

    /** Caffe's {@code caffe_sign}: -1, 0 or 1. */
    private static float sign(float x) {
        return (x > 0 ? 1 : 0) - (x < 0 ? 1 : 0);
    }

    /**
     * De-duplicates {@code params} by blob identity, creates history for new names, and applies a
     * pending restore.
     */
    private List<Param> bind(List<Param> params) {
        Map<Blob, Param> seen = new IdentityHashMap<>();
        Map<String, Param> byName = new LinkedHashMap<>();
        List<Param> unique = new ArrayList<>();
        for (Param p : params) {
            if (seen.putIfAbsent(p.blob(), p) != null) {
                continue;
            }
            Param other = byName.putIfAbsent(p.name(), p);
            if (other != null) {
                throw new IllegalArgumentException("two different blobs are both named param '" + p.name() + "'");
            }
            unique.add(p);
        }
        if (pending != null) {
            check(unique, pending);
            install(unique, pending);
            pending = null;
        }
        for (Param p : unique) {
            Tensor h = history.get(p.name());
            if (h == null) {
                history.put(p.name(), new Tensor(p.blob().shape()));
                if (config.type().historySets() > 1) {
                    history2.put(p.name(), new Tensor(p.blob().shape()));
                }
            } else if (!Arrays.equals(h.shape(), p.blob().shape())) {
                throw new IllegalArgumentException("param '" + p.name() + "' changed shape from " + Shapes.str(h.shape())
                        + " to " + Shapes.str(p.blob().shape()) + " between solver steps");
            }
        }
        bound = unique;
        return unique;
    }

    /**
     * The keys of {@link #state()} for params named {@code paramNames}, in Caffe's {@code history_}
     * order: every name, then (for the types with two history blobs per param) every name followed by
     * {@link #SECOND_HISTORY_SUFFIX}. A Caffe {@code .solverstate} lists its history datasets
     * {@code 0, 1, ...} in this order, for the net's learnable blobs in net order.
     */
    public List<String> historyNames(List<String> paramNames) {
        List<String> names = new ArrayList<>(paramNames);
        if (config.type().historySets() > 1) {
            for (String name : paramNames) {
                names.add(name + SECOND_HISTORY_SUFFIX);
            }
        }
        return names;
    }

    /**
     * The history, key to a copy of its tensor: the params in the order they were first seen, keyed as
     * {@link #historyNames} says. Empty before the first step (unless state was restored).
     */
    public SequencedMap<String, Tensor> state() {
        SequencedMap<String, Tensor> out = new LinkedHashMap<>();
        if (pending != null) {
            for (Map.Entry<String, Tensor> e : pending.entrySet()) {
                out.put(e.getKey(), e.getValue().copy());
            }
        } else {
            for (Map.Entry<String, Tensor> e : history.entrySet()) {
                out.put(e.getKey(), e.getValue().copy());
            }
            for (Map.Entry<String, Tensor> e : history2.entrySet()) {
                out.put(e.getKey() + SECOND_HISTORY_SUFFIX, e.getValue().copy());
            }
        }
        return Collections.unmodifiableSequencedMap(out);
    }

    /**
     * Replaces the history by {@code state} (as returned by {@link #state()}), copying it. After a step
     * the state must hold exactly the keys {@link #historyNames} gives for the params of that step,
     * with their shapes; before the first step it is kept and checked against the params of the first
     * step.
     *
     * @throws WeightsException naming the key whose history is missing, misshapen or unexpected
     */
    public void restore(SequencedMap<String, Tensor> state) {
        SequencedMap<String, Tensor> copy = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            copy.put(e.getKey(), e.getValue().copy());
        }
        if (bound == null) {
            pending = copy;
            return;
        }
        check(bound, copy);
        install(bound, copy);
    }

    /**
     * Restores a Caffe-ordered history list ({@code .solverstate}'s {@code history/0..n-1}) for the
     * learnable blobs named {@code paramNames} (net order, each shared blob once); an empty list
     * (a snapshot taken before the first step) restores nothing.
     *
     * @throws WeightsException naming {@code source} when the count does not fit this net and solver type
     */
    public void restore(List<String> paramNames, List<Tensor> history, String source) {
        if (history.isEmpty()) {
            return;
        }
        List<String> keys = historyNames(paramNames);
        if (history.size() != keys.size()) {
            throw new WeightsException("solver state " + source + " has " + history.size() + " history blobs, this net and "
                    + config.type().caffeName() + " keep " + keys.size() + " (" + paramNames.size() + " learnable blobs)");
        }
        SequencedMap<String, Tensor> state = new LinkedHashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            state.put(keys.get(i), history.get(i));
        }
        restore(state);
    }

    private void install(List<Param> params, SequencedMap<String, Tensor> state) {
        history.clear();
        history2.clear();
        for (Param p : params) {
            history.put(p.name(), state.get(p.name()));
            if (config.type().historySets() > 1) {
                history2.put(p.name(), state.get(p.name() + SECOND_HISTORY_SUFFIX));
            }
        }
    }

    private void check(List<Param> params, SequencedMap<String, Tensor> state) {
        Set<String> keys = new HashSet<>();
        for (Param p : params) {
            for (String key : historyNames(List.of(p.name()))) {
                keys.add(key);
                Tensor h = state.get(key);
                if (h == null) {
                    throw new WeightsException("solver state has no " + config.type().caffeName() + " history '" + key
                            + "' for param '" + p.name() + "' " + Shapes.str(p.blob().shape()));
                }
                if (!Arrays.equals(h.shape(), p.blob().shape())) {
                    throw new WeightsException("solver state: history '" + key + "' has shape " + Shapes.str(h.shape())
                            + ", the param '" + p.name() + "' has " + Shapes.str(p.blob().shape()));
                }
            }
        }
        for (String key : state.keySet()) {
            if (!keys.contains(key)) {
                throw new WeightsException("solver state has history '" + key + "', which is not a "
                        + config.type().caffeName() + " history of a learnable param of this net");
            }
        }
    }
}
