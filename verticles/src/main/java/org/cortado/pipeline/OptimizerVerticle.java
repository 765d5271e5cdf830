package org.cortado.pipeline;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.cortado.engine.solver.Param;
import org.cortado.engine.solver.Solver;
import org.cortado.engine.tensor.Blob;
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
        long step = g.header().getLong("step");
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
        for (int s2 = 0; s2 < pending.length; s2++) {
            TensorMessage back = new TensorMessage("params", new JsonObject().put("step", step));
            returnParams(pending[s2], back);
            pending[s2] = null;
            vertx.eventBus().send(ctx.addresses().stageParams(s2), back);
        }
        arrived = 0;
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
