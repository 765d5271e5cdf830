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

/**
 * Owns the solver and its state (history, moments; the lr policy, weight decay and clipping live in
 * {@link Solver}). Each step it waits for every stage's params and gradients, tells the coordinator
 * the step's outputs and learning rate, applies one update to all of them together (clipping needs
 * the global gradient norm) and returns each stage its params. Worker verticle, one instance.
 */
public final class OptimizerVerticle extends VerticleBase {
    private final RunContext ctx;
    private Solver solver;
    private final TensorMessage[] pending;
    private int arrived;
    private long nextStep; // the step the next update applies
    private double lastUpdateMs; // the previous update's time (a step's message leaves before its update runs)

    public OptimizerVerticle(RunContext ctx) {
        this.ctx = ctx;
        this.pending = new TensorMessage[ctx.stages()];
        this.nextStep = ctx.startIter();
    }

    @Override
    public Future<?> start() {
        solver = Solver.create(ctx.config().solver());
        if (ctx.history() != null) {
            solver.restore(ctx.paramNames(), ctx.history(), "the snapshot");
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
            LayerStats.UpdateProbe probe = every > 0 && step % every == 0 ? new LayerStats.UpdateProbe(params, solver.iterSize()) : null;
            long t0 = System.nanoTime();
            solver.step(params, step);
            lastUpdateMs = (System.nanoTime() - t0) / 1e6;
            if (probe != null) {
                sendLayerStats(step, probe.after());
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
            TensorMessage p = pending[s2];
            for (int i = 0; i < p.header().getJsonArray("names").size(); i++) {
                back.put("x:" + i, p.tensor("x:" + i));
            }
            pending[s2] = null;
            vertx.eventBus().send(ctx.addresses().stageParams(s2), back);
        }
        arrived = 0;
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
        for (var e : solver.state().entrySet()) {
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
            for (int i = 0; i < p.header().getJsonArray("names").size(); i++) {
                back.put("x:" + i, p.tensor("x:" + i));
            }
            pending[s] = null;
            vertx.eventBus().send(ctx.addresses().stageParams(s), back);
        }
        arrived = 0;
    }

    private void fail(String message) {
        vertx.eventBus().send(ctx.addresses().coordinatorFailures(), new JsonObject().put("component", "optimizer")
                .put("message", message));
    }
}
