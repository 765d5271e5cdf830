package org.cortado.pipeline;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.cortado.engine.layers.Layer;
import org.cortado.engine.net.Net;
import org.cortado.engine.net.Phase;
import org.cortado.engine.net.StagePlan;
import org.cortado.engine.solver.Param;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Tensor;
import org.cortado.engine.train.LayerStats;
import org.cortado.engine.train.Trainer;

/**
 * One contiguous slice of the net: forward and backward for its layers, on the run's compute thread
 * (shared with the other stages and the optimizer; the layers' loops spread over the cores from
 * there). It owns its params and their gradients. On a GPU ({@code pipeline.device}) its layers run
 * there ({@link StageNet.Cuda}): activations and gradients cross to the next stage as GPU copies, and
 * the params stay on the GPU, updated there by the optimizer.
 *
 * <p>A training step is {@code units = iter_size x micro_batches} micro-batches. The stage keeps one
 * copy of the net per micro-batch of a batch (GPipe: each holds its micro-batch's activations until
 * its backward; all copies share the learnable blobs, so the gradients of the micro-batches add up).
 * Forward: write the received blobs, run the stage's layers, send {@link StagePlan#live} on (the last
 * stage adds up its outputs for the step and starts backward at once; a test batch's outputs go to
 * the coordinator). Backward: write the
 * received gradients, run the layers backward, send the gradients of its inputs back. After the
 * step's last backward the stage hands its params and gradients to the optimizer (zero copy in one
 * process) and waits for them to come back before it touches the net again; the next step's
 * micro-batches, which the coordinator sends ahead, wait until then ({@link #paramsStep}). Params
 * that come back marked aborted (a failure elsewhere dropped the step) are unchanged: the stage
 * clears their gradients.
 */
public final class StageVerticle extends VerticleBase {
    private final RunContext ctx;
    private final int stage;
    private final boolean last;
    private final GpuVerticle gpu;
    private Net[] replicas;
    private StageNet[] nets;
    private StageNet testNet;
    private StagePlan plan;
    private StagePlan testPlan;
    private List<Param> params;
    private List<String> toNext;
    private List<String> gradsBack;
    private List<String> testToNext;
    private int backwards;
    private boolean paramsOut;
    /** The step the params are current for: the optimizer has applied every step before it. */
    private long paramsStep;
    private final ArrayDeque<Message<?>> waiting = new ArrayDeque<>();
    /**
     * Replicas holding a micro-batch between its forward and its backward; a forward for one of them
     * waits, and so does a forward of a later step than {@link #paramsStep} (the coordinator sends the
     * next step ahead).
     */
    private boolean[] holding;
    private final java.util.LinkedList<Message<TensorMessage>> deferred = new java.util.LinkedList<>();
    /** Each net's output blobs (loss, accuracy), found once. */
    private final Map<Net, List<Blob>> outputBlobs = new java.util.IdentityHashMap<>();
    private long forwardNanos;
    private long backwardNanos;
    /** Per-layer stats of this step's activations, when the step is sampled (dashboard.layer_stats_every). */
    private JsonArray activations;
    /** The last stage: the step's outputs (loss, accuracy) so far, each micro-batch's mean weighted by its share. */
    private final Map<String, Double> stepOutputs = new java.util.LinkedHashMap<>();

    /** Stage {@code stage} of the run; its layers run on {@code gpu}'s device, or on the heap when it is null. */
    public StageVerticle(RunContext ctx, int stage, GpuVerticle gpu) {
        this.ctx = ctx;
        this.stage = stage;
        this.last = stage == ctx.stages() - 1;
        this.gpu = gpu;
    }

    @Override
    public Future<?> start() {
        var cfg = ctx.config();
        int m = ctx.microBatches();
        replicas = new Net[m];
        holding = new boolean[m];
        paramsStep = ctx.startIter();
        replicas[0] = Net.build(cfg.net(), Phase.TRAIN, ctx.parallel(), cfg.seed());
        if (ctx.initial() != null) {
            replicas[0].copyWeights(ctx.initial(), "initial weights");
        }
        for (int i = 1; i < m; i++) {
            replicas[i] = Net.build(cfg.net(), Phase.TRAIN, ctx.parallel(), cfg.seed());
            replicas[i].shareParamsWith(replicas[0]);
        }
        plan = plan(replicas[0]);
        plan.requireOwnedParams("pipeline.stages");
        params = plan.params(stage);
        toNext = List.copyOf(plan.live(plan.end(stage)));
        gradsBack = stage == 0 ? List.of() : List.copyOf(plan.gradients(plan.start(stage)));
        nets = new StageNet[m];
        try {
            for (int i = 0; i < m; i++) {
                nets[i] = open(replicas[i], plan, i == 0 ? null : nets[0]);
            }
            if (ctx.data().test().isPresent()) {
                Net test = Net.build(cfg.net(), Phase.TEST, ctx.parallel(), cfg.seed());
                test.shareParamsWith(replicas[0]);
                testPlan = plan(test);
                testToNext = List.copyOf(testPlan.live(testPlan.end(stage)));
                testNet = open(test, testPlan, nets[0]);
            }
        } catch (RuntimeException e) {
            closeNets();
            throw e;
        }
        var bus = vertx.eventBus();
        var a = ctx.addresses();
        return Future.all(List.of(
                bus.<TensorMessage>consumer(a.stageForward(stage), this::guarded).completion(),
                bus.<TensorMessage>consumer(a.stageBackward(stage), this::guarded).completion(),
                bus.<TensorMessage>consumer(a.stageParams(stage), this::onParams).completion(),
                bus.<JsonObject>consumer(a.stageWeights(stage), this::guarded).completion()));
    }

    /** The stage's layers of {@code net}, on the heap or on the GPU (sharing {@code first}'s params there). */
    private StageNet open(Net net, StagePlan p, StageNet first) {
        if (gpu == null) {
            return new StageNet.Host(net, p.start(stage), p.end(stage));
        }
        return StageNet.Cuda.open(gpu.device(), net, p.start(stage), p.end(stage), (StageNet.Cuda) first);
    }

    @Override
    public Future<?> stop() {
        closeNets();
        return Future.succeededFuture();
    }

    private void closeNets() {
        if (nets != null) {
            for (StageNet n : nets) {
                if (n != null) {
                    n.close();
                }
            }
        }
        if (testNet != null) {
            testNet.close();
        }
    }

    private StagePlan plan(Net net) {
        return ctx.cuts().isEmpty() ? StagePlan.single(net)
                : StagePlan.at(net, ctx.configOrder(), ctx.cuts(), "pipeline.stages");
    }

    /** Runs a message now, or after the params are back from the optimizer. */
    private void guarded(Message<?> m) {
        if (paramsOut) {
            waiting.add(m);
            return;
        }
        dispatch(m);
    }

    @SuppressWarnings("unchecked")
    private void dispatch(Message<?> m) {
        String address = m.address();
        try {
            if (address.equals(ctx.addresses().stageForward(stage))) {
                onForward((Message<TensorMessage>) m);
            } else if (address.equals(ctx.addresses().stageBackward(stage))) {
                onBackward((Message<TensorMessage>) m);
            } else {
                onWeights((Message<JsonObject>) m);
            }
        } catch (RuntimeException e) {
            fail(e);
        }
    }

    private void fail(RuntimeException e) {
        vertx.eventBus().send(ctx.addresses().coordinatorFailures(), new JsonObject().put("component", "stage " + stage)
                .put("message", "stage " + stage + ": " + e));
    }

    private void onForward(Message<TensorMessage> m) {
        TensorMessage msg = m.body();
        JsonObject h = msg.header();
        boolean train = h.getString("phase").equals("TRAIN");
        // A replica's share run here (makeup) belongs to the step the params are waiting on: it goes before the next step's.
        boolean makeup = h.getBoolean("makeup", false);
        if (train && (!deferred.isEmpty() && !makeup || !mayForward(h))) {
            if (makeup) { // after the makeup micro-batches already waiting, before any other
                int at = 0;
                while (at < deferred.size() && deferred.get(at).body().header().getBoolean("makeup", false)) {
                    at++;
                }
                deferred.add(at, m);
            } else {
                deferred.add(m);
            }
            return;
        }
        forwardNow(m);
    }

    /** A training forward may run once its replica is free (iter_size > 1) and the params are its step's. */
    private boolean mayForward(JsonObject h) {
        return h.getLong("step") <= paramsStep && !holding[h.getInteger("replica")];
    }

    private void runDeferred() {
        while (!paramsOut && !deferred.isEmpty() && mayForward(deferred.peek().body().header())) {
            forwardNow(deferred.poll());
        }
    }

    private void forwardNow(Message<TensorMessage> m) {
        TensorMessage msg = m.body();
        JsonObject h = msg.header();
        boolean train = h.getString("phase").equals("TRAIN");
        int n = h.getInteger("n");
        StageNet sn = train ? nets[h.getInteger("replica")] : testNet;
        Net net = sn.net();
        StagePlan p = train ? plan : testPlan;
        sn.setBatchSize(n);
        for (String name : inputs(msg)) {
            sn.take(msg, name, false);
        }
        ctx.hooks().beforeForward(stage, h.getString("phase"), h.getLong("step"));
        long t0 = System.nanoTime();
        if (train) {
            net.beginPass(h.getLong("pass"));
        }
        sn.forward();
        if (train) {
            forwardNanos += System.nanoTime() - t0;
            int every = ctx.config().dashboard().layerStatsEvery();
            if (every > 0 && h.getLong("step") % every == 0 && h.getInteger("unit") == 0) {
                activations = activationStats(sn, p);
            }
        }
        if (last) {
            JsonObject outputs = new JsonObject();
            for (Blob o : outputBlobs.computeIfAbsent(net, Trainer::outputs)) {
                outputs.put(o.name(), Trainer.outputValue(sn.fetch(o), o.count()));
            }
            if (train) { // the outputs travel with the gradients: one message to the coordinator per step
                double scale = h.getDouble("scale");
                for (String k : outputs.fieldNames()) {
                    stepOutputs.merge(k, outputs.getDouble(k) * scale, Double::sum);
                }
                backward(sn, h);
            } else {
                vertx.eventBus().send(ctx.addresses().coordinatorOutputs(), h.copy().put("outputs", outputs));
            }
        } else {
            if (train) {
                holding[h.getInteger("replica")] = true;
            }
            TensorMessage out = new TensorMessage("forward", h);
            for (String name : train ? toNext : testToNext) {
                sn.give(out, name, false);
            }
            vertx.eventBus().send(ctx.addresses().stageForward(stage + 1), out);
        }
    }

    private void onBackward(Message<TensorMessage> m) {
        TensorMessage msg = m.body();
        StageNet sn = nets[msg.header().getInteger("replica")];
        for (String name : inputs(msg)) {
            sn.take(msg, name, true);
        }
        backward(sn, msg.header());
    }

    /** The blobs a message brings: its float arrays and its GPU attachments. */
    private static List<String> inputs(TensorMessage msg) {
        List<String> names = new ArrayList<>(msg.tensors().keySet());
        names.addAll(msg.attachmentNames());
        return names;
    }

    private void backward(StageNet sn, JsonObject h) {
        ctx.hooks().beforeBackward(stage, h.getLong("step"));
        long t0 = System.nanoTime();
        sn.backward(h.getDouble("scale"));
        backwardNanos += System.nanoTime() - t0;
        if (stage > 0) {
            TensorMessage out = new TensorMessage("backward", h);
            for (String name : gradsBack) {
                sn.give(out, name, true);
            }
            vertx.eventBus().send(ctx.addresses().stageBackward(stage - 1), out);
        }
        holding[h.getInteger("replica")] = false;
        if (++backwards == h.getInteger("units")) {
            backwards = 0;
            sendGrads(h);
        }
        runDeferred();
    }

    /** Hands the params and their gradients to the optimizer (the arrays themselves: zero copy in one process). */
    private void sendGrads(JsonObject h) {
        long step = h.getLong("step");
        JsonArray names = new JsonArray();
        JsonArray lr = new JsonArray();
        JsonArray decay = new JsonArray();
        TensorMessage out = new TensorMessage("grads", new JsonObject().put("stage", stage).put("step", step)
                .put("forward_ms", forwardNanos / 1e6).put("backward_ms", backwardNanos / 1e6)
                .put("names", names).put("lr_mult", lr).put("decay_mult", decay));
        // Data-parallel replicas: those computing a share of the step (the optimizer waits for them too), and
        // all taken in (they get the weights after the update).
        for (String k : List.of("replicas", "active")) {
            if (h.containsKey(k)) {
                out.header().put(k, h.getJsonArray(k));
            }
        }
        if (activations != null) {
            out.header().put("activations", activations);
            activations = null;
        }
        if (last) {
            JsonObject outputs = new JsonObject();
            stepOutputs.forEach(outputs::put);
            out.header().put("outputs", outputs);
            stepOutputs.clear();
        }
        for (Param p : params) {
            names.add(p.name());
            lr.add(p.lrMult());
            decay.add(p.decayMult());
        }
        nets[0].giveParams(out, params);
        forwardNanos = 0;
        backwardNanos = 0;
        paramsOut = true;
        vertx.eventBus().send(ctx.addresses().optimizerGrads(), out);
    }

    private void onParams(Message<TensorMessage> m) {
        TensorMessage msg = m.body();
        nets[0].takeParams(msg, params);
        paramsOut = false;
        if (msg.header().getBoolean("aborted", false)) { // the step was dropped after a failure: params unchanged
            nets[0].zeroParamGradients(params);
        } else if (msg.header().getBoolean("more", false)) {
            // Unchanged, gradients kept: a data-parallel replica's share of the step comes to run here (makeup).
        } else {
            paramsStep = msg.header().getLong("step") + 1;
        }
        try {
            runDeferred();
        } catch (RuntimeException e) {
            fail(e);
        }
        while (!paramsOut && !waiting.isEmpty()) {
            dispatch(waiting.poll());
        }
    }

    /** Replies with copies of this stage's weights, by layer name ({@code layer/i}), for a snapshot. */
    private void onWeights(Message<JsonObject> m) {
        Net net = replicas[0];
        nets[0].weightsToHost();
        TensorMessage out = new TensorMessage("weights", new JsonObject().put("stage", stage));
        JsonArray layers = new JsonArray();
        for (int l = plan.start(stage); l < plan.end(stage); l++) {
            Layer layer = net.layers().get(l);
            if (layer.params().isEmpty()) {
                continue;
            }
            layers.add(new JsonObject().put("name", layer.name()).put("blobs", layer.params().size()));
            for (int i = 0; i < layer.params().size(); i++) {
                out.put(layer.name() + "/" + i, layer.params().get(i).data().copy());
            }
        }
        out.header().put("layers", layers);
        m.reply(out);
    }

    /** Stats of the blobs this stage's layers write (each blob once; in-place layers update it); labels and loss layers left out. */
    private JsonArray activationStats(StageNet sn, StagePlan p) {
        Net net = sn.net();
        JsonArray out = new JsonArray();
        java.util.Set<Blob> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        List<Blob> blobs = new ArrayList<>();
        for (int l = p.start(stage); l < p.end(stage); l++) {
            Layer layer = net.layers().get(l);
            if (layer.isLoss() || layer.type().equals("Split") || layer.type().equals("Accuracy")) {
                continue;
            }
            for (Blob b : net.topsOf(l)) {
                if (!b.name().equals(ctx.data().labelBlob()) && seen.add(b)) {
                    blobs.add(b);
                }
            }
        }
        for (Blob b : blobs) {
            out.add(Stats.json(LayerStats.activation(b.name(), sn.fetch(b), b.count())));
        }
        return out;
    }

    /** Weights by layer name from a {@link #onWeights} reply, in the stage's layer order. */
    static Map<String, List<Tensor>> weightsOf(TensorMessage reply) {
        Map<String, List<Tensor>> out = new java.util.LinkedHashMap<>();
        for (Object o : reply.header().getJsonArray("layers")) {
            JsonObject l = (JsonObject) o;
            List<Tensor> ts = new ArrayList<>();
            for (int i = 0; i < l.getInteger("blobs"); i++) {
                ts.add(reply.tensor(l.getString("name") + "/" + i));
            }
            out.put(l.getString("name"), ts);
        }
        return out;
    }
}
