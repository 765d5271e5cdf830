package org.cortado.kernels;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.Set;
import org.cortado.engine.WeightsException;
import org.cortado.engine.solver.Solver;
import org.cortado.engine.solver.SolverConfig;
import org.cortado.engine.tensor.Tensor;

/**
 * The GPU twin of {@link Solver#step}: the same update, in the same order, on params whose weights and
 * gradients live in GPU memory. {@code iter_size} normalization, gradient clipping by the global L2 norm,
 * weight decay (L2/L1), and the fused SGD / Nesterov / Adam / AdamW / AdaGrad / RMSProp / AdaDelta
 * kernels; then every gradient is cleared. The history stays on the GPU; {@link #state()} brings a copy down for a snapshot, keyed as
 * {@link Solver#state()} keys it, and {@link #restore} takes a snapshot's history up.
 *
 * <p>The learning rate, its policy and live changes ({@link Solver#setRate}) stay with the CPU
 * {@link Solver} this wraps; it never touches the weights.
 */
public final class CudaSolver implements AutoCloseable {
    /**
     * A learnable blob on the GPU: its weights and gradient (the first {@code shape}'s count elements of
     * each), and Caffe's multipliers.
     */
    public record DeviceParam(String name, int[] shape, DeviceArray x, DeviceArray dx, float lrMult, float decayMult) {
        public long count() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private final CudaDevice device;
    private final CudaOps ops;
    private final Solver solver;
    private final SolverConfig config;
    private final Map<String, DeviceArray> history = new LinkedHashMap<>();
    private final Map<String, DeviceArray> history2 = new LinkedHashMap<>();
    private final Map<String, int[]> shapes = new LinkedHashMap<>();

    public CudaSolver(CudaDevice device, Solver solver) {
        this.device = device;
        this.solver = solver;
        this.config = solver.config();
        this.ops = device.call(() -> new CudaOps(device));
    }

    /** The CPU solver: learning rate, its policy and live changes. */
    public Solver solver() {
        return solver;
    }

    /**
     * Applies update {@code iter} (0 for the first) from the accumulated gradients, then clears every
     * gradient. A param listed twice (the same weights array) is updated once.
     */
    public void step(List<DeviceParam> params, long iter) {
        device.call(() -> {
            Set<DeviceArray> seen = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
            List<DeviceParam> unique = new ArrayList<>();
            for (DeviceParam p : params) {
                if (seen.add(p.x())) {
                    unique.add(p);
                }
            }
            installRestored(unique);
            for (DeviceParam p : unique) { // every learnable blob has its history, as in Caffe (frozen ones too)
                history.computeIfAbsent(p.name(), k -> zeros(p));
                if (config.type().historySets() > 1) {
                    history2.computeIfAbsent(p.name(), k -> zeros(p));
                }
            }
            float rate = (float) solver.rate(iter);
            List<DeviceParam> trained = new ArrayList<>();
            for (DeviceParam p : unique) {
                if (p.lrMult() != 0) {
                    trained.add(p);
                }
            }
            clip(trained);
            for (DeviceParam p : trained) {
                update(p, rate, iter);
            }
            for (DeviceParam p : unique) {
                ops.fill(p.count(), 0f, p.dx());
            }
            return null;
        });
    }

    /** As {@code Solver.clipGradients}: scales every gradient by {@code c / norm} when the global L2 norm exceeds {@code c >= 0}. */
    private void clip(List<DeviceParam> params) {
        float clip = config.clipGradients();
        if (clip < 0) {
            return;
        }
        double sumsq = 0;
        for (DeviceParam p : params) {
            sumsq += ops.sum(p.count(), p.dx(), 0, true);
        }
        double norm = Math.sqrt(sumsq);
        if (norm > clip) {
            float scale = (float) (clip / norm);
            for (DeviceParam p : params) {
                ops.scale(p.count(), scale, p.dx());
            }
        }
    }

    private void update(DeviceParam p, float rate, long iter) {
        long n = p.count();
        DeviceArray h = history.get(p.name());
        if (config.iterSize() > 1) { // Caffe multiplies by the float 1/iter_size
            ops.scale(n, 1f / config.iterSize(), p.dx());
        }
        float a = rate * p.lrMult();
        float decay = config.weightDecay() * p.decayMult();
        boolean l1 = config.regularization() == SolverConfig.Regularization.L1;
        float mu = config.momentum();
        switch (config.type()) {
            case SGD, NESTEROV -> ops.sgdUpdate(n, a, mu, decay, l1, config.type() == SolverConfig.Type.NESTEROV,
                    p.x(), p.dx(), h);
            case ADAGRAD -> ops.adaptiveUpdate(CudaOps.Adaptive.ADAGRAD, n, a, mu, config.delta(), decay, l1, p.x(), p.dx(),
                    h, null);
            case RMSPROP -> ops.adaptiveUpdate(CudaOps.Adaptive.RMSPROP, n, a, config.rmsDecay(), config.delta(), decay, l1,
                    p.x(), p.dx(), h, null);
            case ADADELTA -> ops.adaptiveUpdate(CudaOps.Adaptive.ADADELTA, n, a, mu, config.delta(), decay, l1, p.x(),
                    p.dx(), h, history2.get(p.name()));
            case ADAM, ADAMW -> {
                DeviceArray h2 = history2.get(p.name());
                float mu2 = config.momentum2();
                long t = iter + 1;
                float correction = (float) (Math.sqrt(1 - Math.pow(mu2, t)) / (1 - Math.pow(mu, t)));
                ops.adamUpdate(n, a, a * correction, mu, mu2, config.delta(), decay, l1,
                        config.type() == SolverConfig.Type.ADAMW, p.x(), p.dx(), h, h2);
            }
        }
    }

    private DeviceArray zeros(DeviceParam p) {
        shapes.put(p.name(), p.shape().clone());
        DeviceArray a = device.floats(p.count());
        ops.fill(p.count(), 0f, a);
        return a;
    }

    /**
     * Restores a Caffe-ordered history ({@code .solverstate}'s {@code history/0..n-1}) for the learnable
     * blobs named {@code paramNames}; it goes up to the GPU at the first step, checked against the params
     * then.
     *
     * @throws WeightsException naming {@code source} when the count does not fit this solver type
     */
    public void restore(List<String> paramNames, List<Tensor> saved, String source) {
        solver.restore(paramNames, saved, source); // checks the count, and keeps it until the first step
    }

    /** Uploads the history {@link #restore} left with the CPU solver, once, checking every param has its own. */
    private void installRestored(List<DeviceParam> params) {
        if (!history.isEmpty()) {
            return;
        }
        SequencedMap<String, Tensor> restored = solver.state();
        if (restored.isEmpty()) {
            return;
        }
        List<String> names = params.stream().map(DeviceParam::name).toList();
        for (String key : solver.historyNames(names)) {
            Tensor t = restored.get(key);
            String name = key.endsWith(Solver.SECOND_HISTORY_SUFFIX)
                    ? key.substring(0, key.length() - Solver.SECOND_HISTORY_SUFFIX.length()) : key;
            DeviceParam p = params.stream().filter(q -> q.name().equals(name)).findFirst().orElseThrow();
            if (t == null || t.count() != p.count()) {
                throw new WeightsException("solver state: history '" + key + "' "
                        + (t == null ? "is missing" : "has " + t.count() + " values, the param has " + p.count()));
            }
            shapes.put(name, p.shape().clone());
            (key.equals(name) ? history : history2).put(name, device.upload(java.util.Arrays.copyOf(t.data(), t.count())));
        }
    }

    /**
     * A copy of the history, keyed as {@link Solver#state()} keys it (every param, then every param's
     * second history with {@link Solver#SECOND_HISTORY_SUFFIX}); before the first step, what was restored.
     */
    public SequencedMap<String, Tensor> state() {
        return device.call(() -> {
            if (history.isEmpty()) {
                return solver.state();
            }
            SequencedMap<String, Tensor> out = new LinkedHashMap<>();
            for (var e : history.entrySet()) {
                out.put(e.getKey(), download(e.getKey(), e.getValue()));
            }
            for (var e : history2.entrySet()) {
                out.put(e.getKey() + Solver.SECOND_HISTORY_SUFFIX, download(e.getKey(), e.getValue()));
            }
            return java.util.Collections.unmodifiableSequencedMap(out);
        });
    }

    private Tensor download(String name, DeviceArray a) {
        Tensor t = new Tensor(shapes.get(name));
        a.download(t.data(), 0, t.count(), 0);
        return t;
    }

    @Override
    public void close() {
        device.call(() -> {
            history.values().forEach(DeviceArray::close);
            history2.values().forEach(DeviceArray::close);
            history.clear();
            history2.clear();
            return null;
        });
    }
}
