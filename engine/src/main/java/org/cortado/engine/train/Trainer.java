package org.cortado.engine.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import org.cortado.engine.ShapeException;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.layers.Layer;
import org.cortado.engine.net.Net;
import org.cortado.engine.net.Phase;
import org.cortado.engine.ops.Parallel;
import org.cortado.engine.solver.Solver;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Tensor;

/**
 * Training in one process, on batches handed in as tensors: Caffe's {@code Solver::Step} without the
 * data layers. This is the reference the verticle pipeline is checked against, and what
 * {@code cortado bench} drives.
 *
 * <pre>
 *   step(batches):                      (batches.size() == iter_size)
 *     for each batch: write it into the TRAIN net's inputs; loss += forward(); backward()
 *     solver.step(params, iter)         (diffs accumulated over the batches, then cleared)
 *     iter += 1
 *   test(batches): the TEST net (sharing the TRAIN net's learnable blobs) forward on each batch;
 *                  the mean of every output blob (accuracy, loss) over the batches.
 * </pre>
 * A batch maps input blob names (the tops of the net's {@code Input} layers, e.g. "data" and "label")
 * to tensors; a batch of another size reshapes the net.
 */
public final class Trainer implements AutoCloseable {
    private final CortadoConfig config;
    private final Parallel parallel;
    private final boolean ownsParallel;
    private final Net train;
    private Net test;
    private final Solver solver;
    private long iter;

    /** A trainer with its own compute threads ({@code config.threads()}). */
    public Trainer(CortadoConfig config) {
        this(config, new Parallel(config.threads()), true);
    }

    /** A trainer on shared compute threads (closed by the caller). */
    public Trainer(CortadoConfig config, Parallel parallel) {
        this(config, parallel, false);
    }

    private Trainer(CortadoConfig config, Parallel parallel, boolean ownsParallel) {
        this.config = config;
        this.parallel = parallel;
        this.ownsParallel = ownsParallel;
        this.train = Net.build(config.net(), Phase.TRAIN, parallel, config.seed());
        this.solver = Solver.create(config.solver());
        config.solver().rejectUnknown();
    }

    public Net trainNet() {
        return train;
    }

    /** The TEST-phase net, built on first use; it shares the TRAIN net's learnable blobs. */
    public Net testNet() {
        if (test == null) {
            test = Net.build(config.net(), Phase.TEST, parallel, config.seed());
            test.shareParamsWith(train);
        }
        return test;
    }

    public Solver solver() {
        return solver;
    }

    public CortadoConfig config() {
        return config;
    }

    /** Iterations done so far (Caffe's {@code iter_}). */
    public long iter() {
        return iter;
    }

    /** Sets the iteration counter (when resuming from a snapshot). */
    public void setIter(long iter) {
        this.iter = iter;
    }

    /** One update: forward/backward on each of {@code batches} ({@code iter_size} of them), then the solver step. */
    public StepResult step(List<? extends Map<String, Tensor>> batches) {
        if (batches.size() != solver.iterSize()) {
            throw new ShapeException("a step takes iter_size = " + solver.iterSize() + " batches, got " + batches.size());
        }
        double loss = 0;
        long pass = iter * batches.size();
        for (Map<String, Tensor> b : batches) {
            train.beginPass(pass++);
            feed(train, b);
            loss += train.forward();
            train.backward();
        }
        solver.step(train.params(), iter);
        StepResult r = new StepResult(iter, loss / batches.size(), solver.lastRate());
        iter++;
        return r;
    }

    /** One update on a single batch (iter_size 1). */
    public StepResult step(Map<String, Tensor> batch) {
        return step(List.of(batch));
    }

    /** The loss and learning rate of one step. */
    public record StepResult(long iter, double loss, double lr) {}

    /**
     * Writes a snapshot as Caffe names it: {@code PREFIX_iter_N.caffemodel.h5} (weights) and
     * {@code PREFIX_iter_N.solverstate.h5} (iteration and solver history; its {@code learned_net}
     * names the weights file, relative to the state file's folder). Both are written atomically.
     * Returns the state file.
     */
    public java.nio.file.Path snapshot(java.nio.file.Path prefix) {
        return writeSnapshot(prefix, iter, train.weights(), List.copyOf(solver.state().values()));
    }

    /**
     * Writes {@code PREFIX_iter_N.caffemodel.h5} and then {@code PREFIX_iter_N.solverstate.h5} (naming the
     * weights file relative to its folder), each atomically. Returns the state file.
     */
    public static java.nio.file.Path writeSnapshot(java.nio.file.Path prefix, long iter,
                                                   SequencedMap<String, List<Tensor>> weights, List<Tensor> history) {
        String base = prefix.getFileName() + "_iter_" + iter;
        java.nio.file.Path w = prefix.resolveSibling(base + ".caffemodel.h5");
        java.nio.file.Path state = prefix.resolveSibling(base + ".solverstate.h5");
        org.cortado.engine.io.CaffeWeights.write(w, weights);
        org.cortado.engine.io.SolverStateFile.write(state, new org.cortado.engine.io.SolverStateFile.State(
                iter, w.getFileName().toString(), 0, history));
        return state;
    }

    /** Continues from a snapshot written by {@link #snapshot}: weights, solver history and iteration. */
    public void restore(java.nio.file.Path stateFile) {
        var state = org.cortado.engine.io.SolverStateFile.read(stateFile);
        java.nio.file.Path weights = stateFile.resolveSibling(state.learnedNet());
        var report = train.copyWeights(org.cortado.engine.io.CaffeWeights.read(weights), weights.toString());
        if (!report.notInFile().isEmpty()) {
            throw new org.cortado.engine.WeightsException(weights + ": no weights for layers " + report.notInFile()
                    + " of the net; cannot resume from " + stateFile);
        }
        // One history per distinct blob (a shared blob once), two sets for AdaDelta, Adam and AdamW, in
        // Caffe's order: see Solver.historyNames.
        solver.restore(train.paramNames(), state.history(), stateFile.toString());
        iter = state.iter();
    }

    /** Runs the TEST net on {@code batches}; returns the mean of each output blob (Caffe's test score). */
    public SequencedMap<String, Double> test(Iterable<? extends Map<String, Tensor>> batches) {
        Net net = testNet();
        List<Blob> outputs = outputs(net);
        SequencedMap<String, Double> sums = new LinkedHashMap<>();
        int n = 0;
        for (Map<String, Tensor> b : batches) {
            feed(net, b);
            net.forward();
            for (Blob o : outputs) {
                sums.merge(o.name(), outputValue(o.x(), o.count()), Double::sum);
            }
            n++;
        }
        for (var e : sums.entrySet()) {
            e.setValue(e.getValue() / Math.max(1, n));
        }
        return sums;
    }

    /** An output blob's value from its first {@code count} values {@code x}: their mean (a loss has one). */
    public static double outputValue(float[] x, int count) {
        double s = 0;
        for (int i = 0; i < count; i++) {
            s += x[i];
        }
        return s / Math.max(1, count);
    }

    /** Blobs produced by some layer and read by none: the net's outputs (loss, accuracy). */
    public static List<Blob> outputs(Net net) {
        List<Blob> produced = new ArrayList<>();
        java.util.Set<Blob> read = new java.util.HashSet<>();
        List<Layer> layers = net.layers();
        for (int l = 0; l < layers.size(); l++) {
            read.addAll(net.bottomsOf(l));
        }
        for (int l = 0; l < layers.size(); l++) {
            for (Blob t : net.topsOf(l)) {
                if (!read.contains(t) && !produced.contains(t) && !net.inputs().contains(t)) {
                    produced.add(t);
                }
            }
        }
        return produced;
    }

    /** Writes a batch into the net's input blobs, reshaping the net when the batch shape changes. */
    public static void feed(Net net, Map<String, Tensor> batch) {
        boolean reshaped = false;
        List<Blob> inputs = net.inputs();
        for (var e : batch.entrySet()) {
            Blob blob = net.blob(e.getKey());
            if (!inputs.contains(blob)) {
                throw new ShapeException("batch entry \"" + e.getKey() + "\" is not an input of net '" + net.name()
                        + "'; inputs: " + inputs);
            }
            Tensor t = e.getValue();
            if (!java.util.Arrays.equals(blob.shape(), t.shape())) {
                blob.reshape(t.shape());
                reshaped = true;
            }
            System.arraycopy(t.data(), 0, blob.x(), 0, t.count());
        }
        if (reshaped) {
            net.reshape();
        }
    }

    @Override
    public void close() {
        if (ownsParallel) {
            parallel.close();
        }
    }
}
