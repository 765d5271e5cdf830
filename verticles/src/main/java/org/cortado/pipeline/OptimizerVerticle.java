package org.cortado.pipeline;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.cortado.engine.solver.Param;
import org.cortado.engine.solver.Solver;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Tensor;
import org.cortado.engine.train.LayerStats;
import org.cortado.kernels.CudaSolver;

/**
 * Owns the solver and its state (history, moments; the lr policy, weight decay and clipping live in
 * {@link Solver}). Each step it waits for every stage's params and gradients, tells the coordinator
 * the step's outputs and learning rate, applies one update to all of them together (clipping needs
 * the global gradient norm) and returns each stage its params. Worker verticle, one instance.
 *
 * <p>On a GPU the stages send their params as GPU arrays and {@link CudaSolver} updates them there,
 * with the history on the GPU too; only a snapshot's history and a sampled step's layer statistics come
 * down.
 *
 * <p>With data-parallel replicas ({@link ReplicaVerticle}) the stages' gradients name the replicas that
 * compute a share of the step; the update waits for their gradient buckets too, adds them in the
 * replicas' order, and afterwards sends each replica the new weights. A replica not heard from within
 * {@code pipeline.request_timeout_ms} of the stages is dropped from the step ({@link #giveUp}).
 */
public final class OptimizerVerticle extends VerticleBase {
    private final RunContext ctx;
    private final GpuVerticle gpu;
    private Solver solver;
    private CudaSolver gpuSolver;
    private final TensorMessage[] pending;
    private int arrived;
    private long nextStep; // the step the next update applies
    private double lastUpdateMs; // the previous update's time (a step's message leaves before its update runs)
    // Data-parallel replicas (cluster workers with --replica): per step, who computes a share, and their gradient buckets.
    private final Map<Long, List<String>> plans = new HashMap<>();
    /** Per step, every replica taken in (those without a share too): they all get the weights after the update. */
    private final Map<Long, List<String>> actives = new HashMap<>();
    /** Per replica, the last step it was handed before the coordinator dropped it: not waited for up to there. */
    private final Map<String, Long> droppedThrough = new HashMap<>();
    private final Map<Long, Map<String, List<TensorMessage>>> replicaGrads = new HashMap<>();
    private long waitTimer = -1;
    /** The local outputs of a step's earlier round, when replicas that did not answer had their share run here. */
    private final Map<String, Double> carried = new LinkedHashMap<>();

    /** The run's optimizer; it updates on {@code gpu}'s device, or on the heap when that is null. */
    public OptimizerVerticle(RunContext ctx, GpuVerticle gpu) {
        this.ctx = ctx;
        this.gpu = gpu;
        this.pending = new TensorMessage[ctx.stages()];
        this.nextStep = ctx.startIter();
    }

    @Override
    public Future<?> start() {
        solver = Solver.create(ctx.config().solver());
        if (gpu != null) {
            gpuSolver = new CudaSolver(gpu.device(), solver);
        }
        if (ctx.history() != null) {
            if (gpuSolver != null) {
                gpuSolver.restore(ctx.paramNames(), ctx.history(), "the snapshot");
            } else {
                solver.restore(ctx.paramNames(), ctx.history(), "the snapshot");
            }
        }
        if (ctx.rateScale() != 1) {
            solver.setRateScale(ctx.rateScale());
        }
        var bus = vertx.eventBus();
        return Future.all(
                bus.<TensorMessage>consumer(ctx.addresses().optimizerGrads(), this::onGrads).completion(),
                bus.<JsonObject>consumer(ctx.addresses().optimizerState(), this::onState).completion(),
                bus.<JsonObject>consumer(ctx.addresses().optimizerRate(), this::onRate).completion(),
                bus.<TensorMessage>consumer(ctx.addresses().optimizerReplicaGrads(), m -> onReplicaGrads(m.body())).completion(),
                bus.<JsonObject>consumer(ctx.addresses().optimizerDropped(), m -> onDropped(m.body())).completion(),
                bus.<JsonObject>consumer(ctx.addresses().optimizerAbort(), m -> {
                    abort();
                    m.reply(new JsonObject());
                }).completion());
    }

    private void onGrads(Message<TensorMessage> m) {
        TensorMessage g = m.body();
        int s = g.header().getInteger("stage");
        if (pending[s] != null) {
            fail("stage " + s + " sent gradients twice for step " + g.header().getLong("step"));
            return;
        }
        pending[s] = g;
        if (++arrived < pending.length) {
            return;
        }
        tryApply();
    }

    private void onReplicaGrads(TensorMessage g) {
        long step = g.header().getLong("step");
        String replica = g.header().getString("replica");
        if (step < nextStep) {
            return; // late: the step was applied (this replica's share ran here instead)
        }
        replicaGrads.computeIfAbsent(step, k -> new HashMap<>()).computeIfAbsent(replica, k -> new ArrayList<>()).add(g);
        if (arrived == pending.length && pending[0].header().getLong("step") == step) {
            tryApply();
        }
    }

    private void onDropped(JsonObject d) {
        droppedThrough.merge(d.getString("replica"), d.getLong("through"), Math::max);
        if (arrived == pending.length && arrived > 0) {
            tryApply();
        }
    }

    private boolean complete(long step, String replica) {
        List<TensorMessage> got = replicaGrads.getOrDefault(step, Map.of()).get(replica);
        return got != null && got.size() == got.getFirst().header().getInteger("buckets");
    }

    /**
     * Every stage has sent its gradients: the update runs once every replica of the step has sent all its
     * buckets. A replica that has not within {@code pipeline.request_timeout_ms} is dropped from the step
     * ({@link #giveUp}).
     */
    private void tryApply() {
        long step = pending[0].header().getLong("step");
        // The stages bring the step's replicas (the coordinator put them on the micro-batches); after a
        // replica was dropped from the step, the list without it stays.
        if (!plans.containsKey(step)) {
            plans.put(step, strings(pending[0].header().getJsonArray("replicas")));
            actives.put(step, strings(pending[0].header().getJsonArray("active")));
        }
        List<String> plan = plans.get(step);
        List<String> missing = plan.stream().filter(r -> !complete(step, r)).toList();
        if (!missing.isEmpty() && missing.stream().allMatch(r -> droppedThrough.getOrDefault(r, -1L) >= step)) {
            giveUp(step); // the coordinator knows these will not answer
            return;
        }
        if (!missing.isEmpty()) {
            if (waitTimer < 0) {
                waitTimer = vertx.setTimer(ctx.config().pipeline().requestTimeoutMs(), t -> {
                    waitTimer = -1;
                    giveUp(step);
                });
            }
            return;
        }
        if (waitTimer >= 0) {
            vertx.cancelTimer(waitTimer);
            waitTimer = -1;
        }
        apply(step, plan);
    }

    /**
     * The replicas of {@code step} that have not sent their gradients in time are dropped from it: the
     * stages get their params back unchanged with their gradients kept ({@code "more"}), and the
     * coordinator sends them the dropped replicas' micro-batches, whose gradients add to the ones they
     * hold (the same samples, so the same sum up to rounding); then the stages send them again.
     */
    private static List<String> strings(JsonArray a) {
        List<String> out = new ArrayList<>();
        if (a != null) {
            a.forEach(r -> out.add((String) r));
        }
        return out;
    }

    private void giveUp(long step) {
        if (arrived < pending.length || pending[0].header().getLong("step") != step) {
            return;
        }
        if (waitTimer >= 0) {
            vertx.cancelTimer(waitTimer);
            waitTimer = -1;
        }
        List<String> lost = plans.getOrDefault(step, List.of()).stream().filter(r -> !complete(step, r)).toList();
        if (lost.isEmpty()) {
            tryApply();
            return;
        }
        List<String> kept = new ArrayList<>(plans.get(step));
        kept.removeAll(lost);
        plans.put(step, kept);
        List<String> active = new ArrayList<>(actives.getOrDefault(step, List.of()));
        active.removeAll(lost); // no weights for them: the coordinator takes them back in with fresh ones if they come back
        actives.put(step, active);
        var got = replicaGrads.get(step);
        if (got != null) {
            lost.forEach(got::remove);
        }
        for (int s = 0; s < pending.length; s++) {
            JsonObject h = pending[s].header();
            if (h.containsKey("outputs")) {
                h.getJsonObject("outputs").forEach(e -> carried.merge(e.getKey(), ((Number) e.getValue()).doubleValue(), Double::sum));
            }
            TensorMessage back = new TensorMessage("params", new JsonObject().put("step", step).put("more", true));
            returnParams(pending[s], back);
            pending[s] = null;
            vertx.eventBus().send(ctx.addresses().stageParams(s), back);
        }
        arrived = 0;
        vertx.eventBus().send(ctx.addresses().coordinatorMakeup(), new JsonObject().put("step", step)
                .put("lost", new JsonArray(lost)));
    }

    private void apply(long step, List<String> plan) {
        JsonArray forward = new JsonArray();
        JsonArray backward = new JsonArray();
        JsonObject outputs = new JsonObject();
        try {
            List<Param> params = new ArrayList<>();
            List<CudaSolver.DeviceParam> onGpu = new ArrayList<>();
            for (TensorMessage p : pending) {
                JsonObject h = p.header();
                if (h.getLong("step") != step) {
                    throw new IllegalStateException("gradients of steps " + h.getLong("step") + " and " + step + " mixed");
                }
                forward.add(h.getDouble("forward_ms"));
                if (h.containsKey("outputs")) {
                    outputs = h.getJsonObject("outputs");
                }
                backward.add(h.getDouble("backward_ms"));
                JsonArray names = h.getJsonArray("names");
                @SuppressWarnings("unchecked")
                List<CudaSolver.DeviceParam> deviceParams = p.attached(StageNet.Cuda.PARAMS, List.class);
                if (deviceParams != null) {
                    onGpu.addAll(deviceParams);
                    continue;
                }
                for (int i = 0; i < names.size(); i++) {
                    String name = names.getString(i);
                    params.add(new Param(name, new Blob(name, p.tensor("x:" + i), p.tensor("dx:" + i)),
                            h.getJsonArray("lr_mult").getNumber(i).floatValue(),
                            h.getJsonArray("decay_mult").getNumber(i).floatValue()));
                }
            }
            if (!plan.isEmpty()) {
                if (!onGpu.isEmpty()) {
                    throw new IllegalStateException("data-parallel replicas need the optimizer on the CPU");
                }
                outputs = outputs.copy();
                addReplicas(step, plan, params, outputs);
            }
            if (!carried.isEmpty()) {
                outputs = outputs.copy();
                for (var e : carried.entrySet()) {
                    outputs.put(e.getKey(), outputs.getDouble(e.getKey(), 0.0) + e.getValue());
                }
                carried.clear();
            }
            // The coordinator hears of the step before the update runs: its per-step work (the metrics
            // line, the next batch's loading) then overlaps the update, which runs on one core. Whatever
            // it sends next (a test pass, a weights request for a snapshot) reaches the stages after
            // their params are back, so it sees the updated weights.
            vertx.eventBus().send(ctx.addresses().coordinatorSteps(), new JsonObject().put("step", step)
                    .put("lr", solver.rate(step)).put("forward_ms", forward)
                    .put("backward_ms", backward).put("outputs", outputs).put("update_ms", lastUpdateMs));
            int every = ctx.config().dashboard().layerStatsEvery();
            boolean sampled = every > 0 && step % every == 0;
            if (gpuSolver != null) {
                gpuStep(onGpu, step, sampled);
            } else {
                LayerStats.UpdateProbe probe = sampled ? new LayerStats.UpdateProbe(params, solver.iterSize()) : null;
                long t0 = System.nanoTime();
                solver.step(params, step);
                lastUpdateMs = (System.nanoTime() - t0) / 1e6;
                if (probe != null) {
                    sendLayerStats(step, probe.after());
                }
            }
            nextStep = step + 1;
        } catch (RuntimeException e) {
            // The coordinator counted the step already: the failure says the last applied one.
            vertx.eventBus().send(ctx.addresses().coordinatorFailures(), new JsonObject().put("component", "optimizer")
                    .put("message", "solver step " + step + ": " + e).put("iter", step));
            abort();
            return;
        }
        List<String> to = actives.getOrDefault(step, List.of()).stream()
                .filter(r -> droppedThrough.getOrDefault(r, -1L) < step + 1).toList();
        sendWeights(step + 1, to);
        plans.remove(step);
        actives.remove(step);
        replicaGrads.remove(step);
        for (int s2 = 0; s2 < pending.length; s2++) {
            TensorMessage back = new TensorMessage("params", new JsonObject().put("step", step));
            returnParams(pending[s2], back);
            pending[s2] = null;
            vertx.eventBus().send(ctx.addresses().stageParams(s2), back);
        }
        arrived = 0;
    }

    /**
     * Adds the replicas' gradients of {@code step} to the stages' (in the plan's order, whatever order
     * they came in, so that every run adds alike) and their outputs to {@code outputs}.
     */
    private void addReplicas(long step, List<String> plan, List<Param> params, JsonObject outputs) {
        Map<String, Param> byName = new HashMap<>();
        for (Param p : params) {
            byName.put(p.name(), p);
        }
        for (String r : plan) {
            for (TensorMessage g : replicaGrads.get(step).get(r)) {
                JsonArray names = g.header().getJsonArray("names");
                for (int i = 0; i < names.size(); i++) {
                    Param p = byName.get(names.getString(i));
                    if (p == null) {
                        throw new IllegalStateException("replica " + r + " sent the gradient of param " + names.getString(i)
                                + ", which the stages do not have");
                    }
                    float[] dx = p.blob().dx();
                    float[] add = g.tensor("g:" + i).data();
                    if (add.length < p.blob().count()) {
                        throw new IllegalStateException("replica " + r + ": param " + p.name() + " has " + p.blob().count()
                                + " values here, " + add.length + " there");
                    }
                    for (int k = 0; k < p.blob().count(); k++) {
                        dx[k] += add[k];
                    }
                }
                JsonObject o = g.header().getJsonObject("outputs");
                if (o != null) {
                    o.forEach(e -> outputs.put(e.getKey(), outputs.getDouble(e.getKey(), 0.0) + ((Number) e.getValue()).doubleValue()));
                }
            }
        }
    }

    /** The updated weights (copies: the stages go on with theirs) to the replicas, for step {@code step}. */
    private void sendWeights(long step, List<String> replicas) {
        if (replicas.isEmpty()) {
            return;
        }
        JsonArray names = new JsonArray();
        List<Tensor> weights = new ArrayList<>();
        for (TensorMessage p : pending) {
            JsonArray ns = p.header().getJsonArray("names");
            for (int i = 0; i < ns.size(); i++) {
                Tensor x = p.tensor("x:" + i);
                names.add(ns.getString(i));
                weights.add(new Tensor(java.util.Arrays.copyOf(x.data(), x.count()), x.shape()));
            }
        }
        for (String r : replicas) {
            TensorMessage w = new TensorMessage("weights", new JsonObject().put("step", step).put("names", names.copy()));
            for (int i = 0; i < weights.size(); i++) {
                w.put("w:" + i, weights.get(i));
            }
            vertx.eventBus().send(ctx.addresses().replicaWeights(r), w);
        }
    }

    /** The heap params of a stage's gradients message back into {@code back} (GPU params stay where they are). */
    private static void returnParams(TensorMessage grads, TensorMessage back) {
        for (int i = 0; i < grads.header().getJsonArray("names").size(); i++) {
            if (grads.has("x:" + i)) {
                back.put("x:" + i, grads.tensor("x:" + i));
            }
        }
    }

    /**
     * The update on the GPU. A sampled step's layer statistics need the weights and gradients before
     * and the weights after: they come down for that step only.
     */
    private void gpuStep(List<CudaSolver.DeviceParam> params, long step, boolean sampled) {
        List<Param> host = sampled ? download(params) : null;
        LayerStats.UpdateProbe probe = sampled ? new LayerStats.UpdateProbe(host, solver.iterSize()) : null;
        long t0 = System.nanoTime();
        gpuSolver.step(params, step);
        lastUpdateMs = (System.nanoTime() - t0) / 1e6;
        if (probe != null) {
            gpu.device().call(() -> {
                for (int i = 0; i < params.size(); i++) {
                    Blob b = host.get(i).blob();
                    params.get(i).x().download(b.x(), 0, b.count(), 0);
                }
                return null;
            });
            sendLayerStats(step, probe.after());
        }
    }

    /** Heap copies of GPU params, weights and gradients. */
    private List<Param> download(List<CudaSolver.DeviceParam> params) {
        return gpu.device().call(() -> {
            List<Param> out = new ArrayList<>();
            for (CudaSolver.DeviceParam p : params) {
                Blob b = new Blob(p.name(), p.shape());
                p.x().download(b.x(), 0, b.count(), 0);
                p.dx().download(b.dx(), 0, b.count(), 0);
                out.add(new Param(p.name(), b, p.lrMult(), p.decayMult()));
            }
            return out;
        });
    }

    /** The sampled step's per-layer stats, params from the probe and activations from the stages, to the coordinator. */
    private void sendLayerStats(long step, List<LayerStats.ParamStat> stats) {
        JsonArray ps = new JsonArray();
        for (LayerStats.ParamStat s : stats) {
            ps.add(Stats.json(s));
        }
        JsonArray acts = new JsonArray();
        for (TensorMessage p : pending) {
            JsonArray a = p.header().getJsonArray("activations");
            if (a != null) {
                acts.addAll(a);
            }
        }
        vertx.eventBus().send(ctx.addresses().coordinatorLayers(), new JsonObject().put("step", step + 1)
                .put("params", ps).put("activations", acts));
    }

    /** Sets the learning rate from the next update on ({@code {"lr": x}}); replies with the step it applies from. */
    private void onRate(Message<JsonObject> m) {
        try {
            solver.setRate(m.body().getDouble("lr"), nextStep);
            m.reply(new JsonObject().put("lr", solver.rate(nextStep)).put("from_step", nextStep).put("scale", solver.rateScale()));
        } catch (RuntimeException e) {
            m.fail(400, e.getMessage());
        }
    }

    /** Replies with the solver history (copies), in Caffe's order, for a snapshot. */
    private void onState(Message<JsonObject> m) {
        TensorMessage out = new TensorMessage("solver-state", new JsonObject());
        JsonArray names = new JsonArray();
        for (var e : (gpuSolver != null ? gpuSolver.state() : solver.state()).entrySet()) {
            out.put("h:" + names.size(), e.getValue());
            names.add(e.getKey());
        }
        out.header().put("names", names);
        m.reply(out);
    }

    /** Returns every stage that sent its gradients its params unchanged, marked aborted (they clear the gradients). */
    private void abort() {
        if (waitTimer >= 0) {
            vertx.cancelTimer(waitTimer);
            waitTimer = -1;
        }
        carried.clear();
        plans.clear();
        actives.clear();
        replicaGrads.clear();
        for (int s = 0; s < pending.length; s++) {
            TensorMessage p = pending[s];
            if (p == null) {
                continue;
            }
            TensorMessage back = new TensorMessage("params", new JsonObject().put("step", p.header().getLong("step"))
                    .put("aborted", true));
            returnParams(p, back);
            pending[s] = null;
            vertx.eventBus().send(ctx.addresses().stageParams(s), back);
        }
        arrived = 0;
    }

    @Override
    public Future<?> stop() {
        if (gpuSolver != null) {
            gpuSolver.close();
        }
        return Future.succeededFuture();
    }

    private void fail(String message) {
        vertx.eventBus().send(ctx.addresses().coordinatorFailures(), new JsonObject().put("component", "optimizer")
                .put("message", message));
    }
}
