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
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;
import org.cortado.engine.tensor.Tensor;

/**
 * Caffe's SGD solver family ({@code SGDSolver}, {@code NesterovSolver}): applies one update to a list
 * of learnable params whose diffs hold the gradients accumulated by backward.
 *
 * <p>One call of {@link #step} is Caffe's {@code SGDSolver::ApplyUpdate}. With the learning rate
 * {@code lr} from the {@link LrPolicy}, momentum {@code mu}, weight decay {@code lambda}, gradient
 * clip {@code c}, accumulation {@code k = iter_size}:
 * <pre>
 *   lr = policy.rate(t)                        t = updates applied so far (Caffe's iter_)
 *   g  = diffs of all params (each shared blob once; lr_mult 0 params left out)
 *   if c &gt;= 0 and ||g||_2 &gt; c:  g = g * c / ||g||_2            ClipGradients (global norm)
 *   for each param w with lr_mult != 0:
 *     g = g / k                                                     Normalize (if k &gt; 1)
 *     g = g + lambda * decay_mult * w          (L2)                 Regularize
 *     g = g + lambda * decay_mult * sign(w)    (L1)
 *     a = lr * lr_mult
 *     SGD:      v = mu * v + a * g;  u = v                          ComputeUpdateValue
 *     Nesterov: v' = v;  v = mu * v + a * g;  u = (1 + mu) * v - mu * v'
 *     w = w - u                                                     Net::Update
 *   every diff = 0                             (Caffe clears at the start of the next Step)
 * </pre>
 * The momentum buffer {@code v} holds lr-scaled updates, as in Caffe. PyTorch's {@code SGD} instead
 * keeps {@code buf = mu * buf + g} and applies {@code w -= lr * buf}; the two agree while the rate is
 * fixed ({@code v = lr * buf}) and differ when it changes, because Caffe's history carries the old
 * rates. Its Nesterov form is likewise Caffe's "step back, then over-step", not PyTorch's.
 *
 * <p>Params with {@code lr_mult 0} are neither decayed nor moved, and their diffs are left out of the
 * clipping norm: in Caffe such blobs get no gradient at all ({@code param_propagate_down} is false),
 * so their diffs are zero there. A blob that appears several times in the list (a shared param) is
 * updated once, under the name and multipliers of its first appearance.
 *
 * <p>State: one momentum history per param name, created as zeros the first time the name is seen.
 * {@link #state()} and {@link #restore} expose it for snapshots (Caffe's {@code .solverstate}
 * {@code history}); the iteration count is the caller's. Arithmetic is float32 as in Caffe, with
 * norms accumulated in double. Not thread-safe: one training loop owns a solver.
 */
public final class Solver {
    /** Every {@code solver} key {@link #create} reads; the trainer validates the union with its own. */
    public static final Set<String> KEYS = SolverConfig.KEYS;

    private final SolverConfig config;
    /** Momentum history per param name, in the order names were first seen. */
    private final SequencedMap<String, Tensor> history = new LinkedHashMap<>();
    /** The de-duplicated params of the last step, or null before the first step. */
    private List<Param> bound;
    /** State restored before the params were known; checked and applied at the first step. */
    private SequencedMap<String, Tensor> pending;
    private double lastRate = Double.NaN;

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
        double rate = config.lrPolicy().rate(iter);
        lastRate = rate;

        List<Param> trained = new ArrayList<>();
        for (Param p : unique) {
            if (p.lrMult() != 0) {
                trained.add(p);
            }
        }
        clipGradients(trained);
        for (Param p : trained) {
            update(p, (float) rate);
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

    private void update(Param p, float rate) {
        int n = p.blob().count();
        float[] w = p.blob().x();   // (count) weights
        float[] g = p.blob().dx();  // (count) gradient, consumed
        float[] v = history.get(p.name()).data(); // (count) lr-scaled momentum

        // Normalize: Caffe multiplies by the float 1/iter_size rather than dividing.
        if (config.iterSize() > 1) {
            Elementwise.scale(n, 1f / config.iterSize(), g, 0);
        }
        // Regularize.
        float decay = config.weightDecay() * p.decayMult();
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
        // ComputeUpdateValue, then data -= update.
        float mu = config.momentum();
        float a = rate * p.lrMult();
        switch (config.type()) {
            case SGD -> {
                for (int i = 0; i < n; i++) {
                    v[i] = mu * v[i] + a * g[i];
                    w[i] -= v[i];
                }
            }
            case NESTEROV -> {
                for (int i = 0; i < n; i++) {
                    float previous = v[i];
                    v[i] = mu * v[i] + a * g[i];
                    w[i] -= (1 + mu) * v[i] - mu * previous;
                }
            }
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
            history.clear();
            for (Param p : unique) {
                history.put(p.name(), pending.get(p.name()));
            }
            pending = null;
        }
        for (Param p : unique) {
            Tensor h = history.get(p.name());
            if (h == null) {
                history.put(p.name(), new Tensor(p.blob().shape()));
            } else if (!Arrays.equals(h.shape(), p.blob().shape())) {
                throw new IllegalArgumentException("param '" + p.name() + "' changed shape from " + Shapes.str(h.shape())
                        + " to " + Shapes.str(p.blob().shape()) + " between solver steps");
            }
        }
        bound = unique;
        return unique;
    }

    /**
     * The momentum history, param name to a copy of its tensor, in the order the params were first
     * seen. Empty before the first step (unless state was restored).
     */
    public SequencedMap<String, Tensor> state() {
        SequencedMap<String, Tensor> out = new LinkedHashMap<>();
        SequencedMap<String, Tensor> source = pending != null ? pending : history;
        for (Map.Entry<String, Tensor> e : source.entrySet()) {
            out.put(e.getKey(), e.getValue().copy());
        }
        return Collections.unmodifiableSequencedMap(out);
    }

    /**
     * Replaces the momentum history by {@code state} (as returned by {@link #state()}), copying it.
     * After a step the state must hold exactly the params of that step, with their shapes; before the
     * first step it is kept and checked against the params of the first step.
     *
     * @throws WeightsException naming the param whose history is missing, misshapen or unexpected
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
        history.clear();
        for (Param p : bound) {
            history.put(p.name(), copy.get(p.name()));
        }
    }

    private static void check(List<Param> params, SequencedMap<String, Tensor> state) {
        Set<String> names = new HashSet<>();
        for (Param p : params) {
            names.add(p.name());
            Tensor h = state.get(p.name());
            if (h == null) {
                throw new WeightsException("solver state has no momentum history for param '" + p.name() + "' "
                        + Shapes.str(p.blob().shape()));
            }
            if (!Arrays.equals(h.shape(), p.blob().shape())) {
                throw new WeightsException("solver state: momentum history for param '" + p.name() + "' has shape "
                        + Shapes.str(h.shape()) + ", the param has " + Shapes.str(p.blob().shape()));
            }
        }
        for (String name : state.keySet()) {
            if (!names.contains(name)) {
                throw new WeightsException("solver state has momentum history for '" + name
                        + "', which is not a learnable param of this net");
            }
        }
    }
}
