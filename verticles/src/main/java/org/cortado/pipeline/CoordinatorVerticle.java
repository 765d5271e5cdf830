package org.cortado.pipeline;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.TreeMap;
import org.cortado.engine.config.Schedule;
import org.cortado.engine.data.Sampler;
import org.cortado.engine.tensor.Tensor;
import org.cortado.engine.train.TrainingData;

/**
 * Runs a training: the sampler's batches are requested from the loaders with a bounded number in
 * flight (prefetch), re-requested when a reply does not come back in time, and a second reply for a
 * batch already received is dropped; batches go to stage 0 in the sampler's order, split into
 * micro-batches; a step ends when the optimizer has applied it. Between steps it runs test passes
 * ({@code test_interval}, and after the last step), writes snapshots ({@code snapshot.every}, on stop and at the end), obeys
 * control messages and publishes one metrics object per step.
 *
 * <p>Batch positions: training batch {@code p} (0, 1, 2, ... over the whole run) is batch
 * {@code p % batchesPerEpoch} of epoch {@code p / batchesPerEpoch}; step {@code i} consumes positions
 * {@code i * iter_size} to {@code (i + 1) * iter_size - 1}. So a resumed run, starting at a snapshot's
 * iteration, continues with exactly the batches the uninterrupted run would have used.
 *
 * <p>Worker verticle on the data threads (snapshots and the metrics file are written there). It
 * hands the next step to the stages while one runs, unless a test pass, snapshot, stop or the end is
 * due in between. A stage or the optimizer failing mid-step ends the run with a snapshot of the last
 * applied step (the optimizer returns the params it holds unchanged first).
 *
 * <p>Data-parallel replicas ({@link ReplicaVerticle}, cluster workers with {@code --replica}) that say
 * they are ready are taken in between two steps with the stages' weights; from then on each batch is
 * split into {@code micro_batches x (replicas + 1)} micro-batches and micro-batch {@code j} goes to node
 * {@code j mod (replicas + 1)}, node 0 being this process's stages. The micro-batches sent to a
 * replica are kept until the step is applied: when the optimizer gives up on a replica, they run here.
 */
public final class CoordinatorVerticle extends VerticleBase {
    /** How a run ended. */
    public record Result(String status, long iter, String message, java.nio.file.Path lastSnapshot) {
        public boolean ok() {
            return status.equals("finished") || status.equals("stopped");
        }
    }

    private final RunContext ctx;
    private final Promise<Result> done;
    private final Schedule schedule;
    private final Sampler sampler;
    private final int bpe;
    private final int iterSize;
    private final int micro;
    private final int batch;
    private final long endPos;

    // Training batches: requested and not back yet (by position, with the attempt and its deadline), and back but not used.
    // One periodic sweep re-requests the late ones (a timer per request would wake the event loop twice per batch).
    private final Map<Long, long[]> outstanding = new HashMap<>(); // pos -> {attempt, deadline (System.nanoTime)}
    private long sweepTimer = -1;
    private final TreeMap<Long, TensorMessage> ready = new TreeMap<>();
    private long nextPos;

    private long iter; // steps completed
    private long dispatched; // the next step to hand to the stages
    private int running; // steps handed to the stages and not yet applied by the optimizer (at most 2)
    private boolean paused;
    private boolean busy; // a test pass or snapshot between steps
    private boolean stopRequested;
    private boolean snapshotRequested;
    private String failure;
    private boolean finished;

    // The running steps' samples, by step.
    private final Map<Long, Long> stepSamples = new HashMap<>();
    private long waitStart = -1;
    private double waitMs;
    private long lastStepEnd;

    // Per epoch.
    private long epochSamples;
    private long duplicates;
    private long reissued;
    private long epochDuplicates;
    private long epochReissued;

    // A test pass.
    private int testBatches;
    private int testNext;
    private int testSent;
    private int testDone;
    private final Map<Integer, long[]> testOutstanding = new HashMap<>();
    private final TreeMap<Integer, TensorMessage> testReady = new TreeMap<>();
    private final Map<String, Double> testSums = new LinkedHashMap<>();
    private long testSamples;
    private Runnable afterTest;
    private JsonObject pendingLine;
    private java.nio.file.Path lastSnapshot;
    private final java.util.Set<String> said = new java.util.HashSet<>();
    private final Map<String, Long> servedByNode = new java.util.TreeMap<>(); // node -> batches used (train and test)
    private SequencedMap<String, List<Tensor>> lastWeights;

    // Data-parallel replicas (cluster workers with --replica), in the order they were taken in.
    private final List<String> replicas = new ArrayList<>();
    private final java.util.Set<String> joining = new java.util.LinkedHashSet<>();
    private final java.util.Set<String> admitting = new java.util.HashSet<>();
    /** Replicas that failed (an error, not silence): not taken in again in this run. */
    private final java.util.Set<String> failedReplicas = new java.util.HashSet<>();
    /** Each running step's micro-batches sent to replicas (kept until the step is applied: a lost replica's share runs here). */
    private final Map<Long, List<Map.Entry<String, TensorMessage>>> remoteWork = new HashMap<>();
    private final Map<Long, Integer> stepReplicas = new HashMap<>();
    private boolean everReplicated;

    public CoordinatorVerticle(RunContext ctx, Promise<Result> done) {
        this.ctx = ctx;
        this.done = done;
        this.schedule = ctx.config().schedule();
        TrainingData.Source train = ctx.data().train();
        this.sampler = train.sampler();
        this.bpe = sampler.batchesPerEpoch();
        this.iterSize = Math.max(1, ctx.config().solver().getInt("iter_size", 1));
        this.micro = ctx.microBatches();
        this.batch = ctx.batchSize();
        this.iter = ctx.startIter();
        this.dispatched = iter;
        this.nextPos = iter * iterSize;
        this.endPos = schedule.maxIter() * iterSize;
    }

    @Override
    public Future<?> start() {
        var bus = vertx.eventBus();
        var a = ctx.addresses();
        Future<?> f = Future.all(List.of(
                bus.<TensorMessage>consumer(a.coordinatorBatches(), this::onBatch).completion(),
                bus.<JsonObject>consumer(a.coordinatorOutputs(), m -> onTestOutputs(m.body())).completion(),
                bus.<JsonObject>consumer(a.coordinatorSteps(), m -> onStepDone(m.body())).completion(),
                bus.<JsonObject>consumer(a.coordinatorFailures(), m -> onFailure(m.body())).completion(),
                bus.<JsonObject>consumer(a.coordinatorLayers(), m -> onLayers(m.body())).completion(),
                bus.<JsonObject>consumer(a.coordinatorNotices(), m -> sayOnce(m.body().getString("message"))).completion(),
                bus.<JsonObject>consumer(a.control(), this::onControl).completion(),
                bus.<JsonObject>consumer(a.replicas(), m -> onReplicaReady(m.body())).completion(),
                bus.<JsonObject>consumer(a.coordinatorMakeup(), m -> onMakeup(m.body())).completion(),
                bus.<JsonObject>consumer(a.coordinatorNodes(), m -> m.reply(new JsonObject(new LinkedHashMap<>(servedByNode)))).completion()));
        return f.onSuccess(x -> vertx.runOnContext(v -> begin()));
    }

    private void begin() {
        long timeout = ctx.config().pipeline().requestTimeoutMs();
        sweepTimer = vertx.setPeriodic(Math.clamp(timeout / 4, 5, 1000), t -> sweep());
        lastStepEnd = System.nanoTime();
        if (iter >= schedule.maxIter()) {
            finish("finished", null);
            return;
        }
        fill();
        if (schedule.testInterval() > 0 && schedule.testInitialization() && iter == 0 && ctx.data().test().isPresent()) {
            pendingLine = new JsonObject().put("step", 0).put("epoch", 0);
            runTest(this::flushLineThenContinue);
        } else {
            maybeStartStep();
        }
    }

    // ---- training batches ----

    private void fill() {
        // At least a whole step's batches (iter_size of them) in flight, or a step would wait for ever.
        int window = Math.max(ctx.config().pipeline().prefetch(), iterSize);
        while (failure == null && !stopRequested && outstanding.size() + ready.size() < window && nextPos < endPos) {
            request(nextPos++, 0);
        }
    }

    private void request(long pos, int attempt) {
        long epoch = pos / bpe;
        int index = (int) (pos % bpe);
        TensorMessage req = new TensorMessage("request", new JsonObject().put("phase", "TRAIN").put("epoch", epoch)
                .put("index", index).put("attempt", attempt));
        req.putLongs("ids", sampler.batch(epoch, index));
        outstanding.put(pos, new long[] {attempt, deadline()});
        vertx.eventBus().send(ctx.addresses().loaderRequests(), req);
    }

    private long deadline() {
        return System.nanoTime() + ctx.config().pipeline().requestTimeoutMs() * 1_000_000L;
    }

    /** Re-requests every batch whose reply is overdue (the periodic sweep). */
    private void sweep() {
        if (failure != null || finished) {
            return;
        }
        long now = System.nanoTime();
        for (var e : List.copyOf(outstanding.entrySet())) {
            if (e.getValue()[1] - now < 0) {
                if (ctx.config().pipeline().loaders() == 0) {
                    sayOnce("no loader answered within " + ctx.config().pipeline().requestTimeoutMs() + " ms: pipeline.loaders is 0,"
                            + " so this run waits for cluster workers (cortado worker --join ...) and asks again");
                }
                reissued++;
                request(e.getKey(), (int) e.getValue()[0] + 1);
            }
        }
        for (var e : List.copyOf(testOutstanding.entrySet())) {
            if (e.getValue()[1] - now < 0) {
                reissued++;
                requestTest(e.getKey(), (int) e.getValue()[0] + 1);
            }
        }
    }

    private void onBatch(Message<TensorMessage> m) {
        TensorMessage b = m.body();
        JsonObject h = b.header();
        if (h.getString("phase").equals("TEST")) {
            onTestBatch(b);
            return;
        }
        long pos = h.getLong("epoch") * bpe + h.getInteger("index");
        long[] o = outstanding.remove(pos);
        if (o == null) {
            duplicates++;
            return;
        }
        served(b);
        ready.put(pos, b);
        maybeStartStep();
    }

    /** Counts a batch used (not a duplicate) for the node that augmented it ({@link Addresses#NODE}). */
    private void served(TensorMessage b) {
        servedByNode.merge(b.header().getString("node", "?"), 1L, Long::sum);
    }

    // ---- steps ----

    /**
     * Hands the next step to the stages when it may run: when no step is running, or, one step ahead,
     * while one is running and nothing is due between the two (no test pass, snapshot, stop or end).
     * The step ahead waits in the stages until the optimizer has returned the running step's params,
     * so the compute threads go from one step to the next without a round trip through this verticle.
     */
    private void maybeStartStep() {
        if (finished || busy || paused) {
            return;
        }
        if (running == 0 && (failure != null || stopRequested || snapshotRequested)) {
            betweenSteps();
            return;
        }
        if (!joining.isEmpty() && failure == null && !stopRequested) {
            if (running == 0) {
                admitReplicas(); // between steps, when the stages hold the weights the next step starts from
            }
            return;
        }
        if (running > 0 && (running > 1 || failure != null || stopRequested || snapshotRequested || boundary(dispatched))) {
            return;
        }
        long step = dispatched;
        long first = step * iterSize;
        for (long p = first; p < first + iterSize; p++) {
            if (!ready.containsKey(p)) {
                if (waitStart < 0 && running == 0) { // the stages are idle for want of data
                    waitStart = System.nanoTime();
                }
                fill();
                return;
            }
        }
        if (waitStart >= 0) {
            waitMs += (System.nanoTime() - waitStart) / 1e6;
            waitStart = -1;
        }
        running++;
        dispatched++;
        ctx.hooks().dispatched(step, running);
        List<TensorMessage> batches = new ArrayList<>();
        for (int k = 0; k < iterSize; k++) {
            batches.add(ready.remove(first + k));
        }
        // Micro-batch j of a batch goes to node j % nodes: 0 is this process's stages, 1.. the replicas.
        List<String> reps = List.copyOf(replicas);
        int nodes = 1 + reps.size();
        List<TensorMessage> local = new ArrayList<>();
        List<Map.Entry<String, TensorMessage>> remote = new ArrayList<>();
        int unit = 0;
        for (int k = 0; k < iterSize; k++) {
            long pos = first + k;
            TensorMessage b = batches.get(k);
            long[] ids = b.longs("ids");
            ctx.hooks().consumed(pos / bpe, (int) (pos % bpe), ids);
            stepSamples.merge(step, (long) ids.length, Long::sum);
            int n = ids.length;
            Tensor data = b.tensor("data");
            Tensor label = b.tensor("label");
            int parts = Math.min(micro * nodes, n);
            int per = data.count() / n;
            int from = 0;
            for (int mb = 0; mb < parts; mb++) {
                int size = n / parts + (mb < n % parts ? 1 : 0);
                JsonObject h = new JsonObject().put("phase", "TRAIN").put("step", step).put("unit", unit++)
                        .put("replica", mb / nodes).put("n", size).put("scale", (double) size / n)
                        // the single-node pass numbers on node 0; a replica's in a range of its own (Dropout's seeds)
                        .put("pass", (step * iterSize + k) * micro + mb / nodes + ((long) (mb % nodes) << 40));
                TensorMessage f = new TensorMessage("forward", h);
                if (parts == 1) {
                    f.put(ctx.data().dataBlob(), data).put(ctx.data().labelBlob(), label);
                } else {
                    int[] ds = data.shape();
                    ds[0] = size;
                    f.put(ctx.data().dataBlob(), new Tensor(java.util.Arrays.copyOfRange(data.data(), from * per,
                            (from + size) * per), ds));
                    f.put(ctx.data().labelBlob(), new Tensor(java.util.Arrays.copyOfRange(label.data(), from, from + size), size));
                }
                from += size;
                if (mb % nodes == 0) {
                    local.add(f);
                } else {
                    remote.add(Map.entry(reps.get(mb % nodes - 1), f));
                }
            }
        }
        for (TensorMessage f : local) {
            f.header().put("units", local.size());
            if (!reps.isEmpty()) { // they get the weights after the update, also the ones that had no share (a small batch)
                f.header().put("active", new io.vertx.core.json.JsonArray(reps));
            }
        }
        if (!remote.isEmpty()) {
            Map<String, Integer> units = new HashMap<>();
            remote.forEach(e -> units.merge(e.getKey(), 1, Integer::sum));
            remote.forEach(e -> e.getValue().header().put("units", units.get(e.getKey())));
            List<String> plan = reps.stream().filter(units::containsKey).toList();
            remoteWork.put(step, remote);
            stepReplicas.put(step, plan.size());
            // The stages pass the list on to the optimizer with their gradients: it waits for these replicas' too.
            for (TensorMessage f : local) {
                f.header().put("replicas", new io.vertx.core.json.JsonArray(plan));
            }
            for (var e : remote) {
                vertx.eventBus().send(ctx.addresses().replicaForward(e.getKey()), e.getValue());
            }
        }
        for (TensorMessage f : local) {
            vertx.eventBus().send(ctx.addresses().stageForward(0), f);
        }
        fill();
        maybeStartStep(); // the step ahead, if it may run
    }

    /** True when something is due after {@code step} steps: a test pass, a snapshot, or the end. */
    private boolean boundary(long step) {
        int every = ctx.config().pipeline().snapshotEvery();
        return step >= schedule.maxIter()
                || ctx.data().test().isPresent() && schedule.testInterval() > 0 && step % schedule.testInterval() == 0
                || every > 0 && step % every == 0;
    }

    /** A test batch's outputs (a training step's come with its {@link #onStepDone}). */
    private void onTestOutputs(JsonObject h) {
        JsonObject outputs = h.getJsonObject("outputs");
        int n = h.getInteger("n");
        for (String k : outputs.fieldNames()) {
            testSums.merge(k, outputs.getDouble(k) * n, Double::sum);
        }
        testSamples += n;
        testDone++;
        continueTest();
    }

    private void onStepDone(JsonObject s) {
        long step = s.getLong("step");
        running--;
        SequencedMap<String, Double> outputs = new LinkedHashMap<>(); // the stages' sums over the step's micro-batches
        s.getJsonObject("outputs").forEach(e -> outputs.put(e.getKey(), ((Number) e.getValue()).doubleValue() / iterSize));
        epochSamples += stepSamples.remove(step);
        remoteWork.remove(step);
        Integer usedReplicas = stepReplicas.remove(step);
        long now = System.nanoTime();
        double seconds = (now - lastStepEnd) / 1e9;
        lastStepEnd = now;
        iter = step + 1;
        double loss = lossOf(outputs);
        long epoch = step * iterSize / bpe;
        JsonObject line = new JsonObject().put("step", iter).put("epoch", epoch)
                .put("epochs", iter * iterSize / (double) bpe).put("time", System.currentTimeMillis()).put("loss", loss)
                .put("lr", s.getDouble("lr")).put("images_per_sec", batch * iterSize / Math.max(1e-9, seconds));
        for (var e : outputs.entrySet()) {
            if (!e.getKey().equals("loss")) {
                line.put(e.getKey(), e.getValue());
            }
        }
        if (everReplicated) {
            line.put("replicas", usedReplicas == null ? 0 : usedReplicas);
        }
        Runtime rt = Runtime.getRuntime();
        line.put("step_ms", seconds * 1e3).put("forward_ms", s.getJsonArray("forward_ms"))
                .put("backward_ms", s.getJsonArray("backward_ms")).put("data_wait_ms", waitMs)
                .put("update_ms", s.getDouble("update_ms"))
                .put("loader_queue", ready.size()).put("in_flight", outstanding.size())
                .put("heap_used_mb", (rt.totalMemory() - rt.freeMemory()) >> 20).put("heap_max_mb", rt.maxMemory() >> 20);
        waitMs = 0;
        if ((iter * iterSize) % bpe < iterSize) { // this step used the last batch of its epoch
            line.put("samples", epochSamples).put("duplicates_dropped", duplicates - epochDuplicates)
                    .put("reissued", reissued - epochReissued);
            epochSamples = 0;
            epochDuplicates = duplicates;
            epochReissued = reissued;
        }
        pendingLine = line;
        if (!Double.isFinite(loss)) {
            flushLine();
            failure = "loss is " + loss + " at iteration " + iter + ": training diverged (lower base_lr, or clip_gradients);"
                    + " the last good snapshot is kept";
            finish("failed", failure);
            return;
        }
        // Test every test_interval steps, and once more after the last step (the score of the final weights).
        boolean testNow = ctx.data().test().isPresent()
                && (schedule.testInterval() > 0 && iter % schedule.testInterval() == 0 || iter >= schedule.maxIter());
        if (testNow) {
            runTest(this::flushLineThenContinue);
        } else {
            flushLineThenContinue();
        }
    }

    // ---- data-parallel replicas ----

    /** A replica says it is ready (every second): one not computing yet is taken in before the next step. */
    private void onReplicaReady(JsonObject r) {
        String id = r.getString("id");
        if (replicas.contains(id) || joining.contains(id) || admitting.contains(id) || failedReplicas.contains(id) || finished) {
            return;
        }
        if (ctx.gpu() >= 0) {
            sayOnce("cluster: replica " + id + " is not used: data-parallel replicas compute on the CPU, and this run's"
                    + " stages are on a GPU (pipeline.device)");
            return;
        }
        joining.add(id);
        maybeStartStep();
    }

    /**
     * Takes the joining replicas in, between two steps: they get the stages' weights (those the next
     * step starts from) and a share of every step from then on.
     */
    private void admitReplicas() {
        busy = true;
        List<String> ids = List.copyOf(joining);
        joining.clear();
        admitting.addAll(ids);
        DeliveryOptions opts = new DeliveryOptions().setSendTimeout(60_000);
        List<Future<Message<TensorMessage>>> parts = new ArrayList<>();
        for (int s = 0; s < ctx.stages(); s++) {
            parts.add(vertx.eventBus().request(ctx.addresses().stageWeights(s), new JsonObject(), opts));
        }
        long step = dispatched;
        Future.all(parts).onComplete(r -> {
            busy = false;
            ids.forEach(admitting::remove);
            if (r.failed()) {
                failure = "could not send the weights to data-parallel replicas " + ids + ": " + r.cause().getMessage();
                maybeStartStep();
                return;
            }
            java.util.Set<String> names = new java.util.HashSet<>(ctx.paramNames());
            io.vertx.core.json.JsonArray sent = new io.vertx.core.json.JsonArray();
            List<Tensor> weights = new ArrayList<>();
            for (var p : parts) {
                for (var e : StageVerticle.weightsOf(p.result().body()).entrySet()) {
                    for (int i = 0; i < e.getValue().size(); i++) {
                        if (names.contains(e.getKey() + "/" + i)) { // a shared param once, under its owner's name
                            sent.add(e.getKey() + "/" + i);
                            weights.add(e.getValue().get(i));
                        }
                    }
                }
            }
            for (String id : ids) {
                TensorMessage w = new TensorMessage("weights", new JsonObject().put("step", step).put("names", sent.copy()));
                for (int i = 0; i < weights.size(); i++) {
                    w.put("w:" + i, weights.get(i));
                }
                vertx.eventBus().send(ctx.addresses().replicaWeights(id), w);
                if (replicas.contains(id)) {
                    continue;
                }
                replicas.add(id);
                ctx.log().accept("cluster: replica " + id + " computes a share of each step from step " + step
                        + " (" + (replicas.size() + 1) + " nodes compute)");
            }
            everReplicated = true;
            maybeStartStep();
        });
    }

    /** The optimizer gave up waiting for these replicas' gradients of a step: their micro-batches run here. */
    private void onMakeup(JsonObject m) {
        long step = m.getLong("step");
        List<String> lost = new ArrayList<>();
        m.getJsonArray("lost").forEach(o -> lost.add((String) o));
        List<TensorMessage> again = new ArrayList<>();
        for (var e : remoteWork.getOrDefault(step, List.of())) {
            if (lost.contains(e.getKey())) {
                again.add(e.getValue());
            }
        }
        dropped(lost);
        for (String id : lost) {
            if (replicas.remove(id)) {
                ctx.log().accept("cluster: replica " + id + " sent no gradients of step " + step + " within"
                        + " pipeline.request_timeout_ms (" + ctx.config().pipeline().requestTimeoutMs() + " ms): its share"
                        + " of the step runs here, and it gets no more until it says it is ready again");
            }
        }
        stepReplicas.computeIfPresent(step, (k, v) -> v - lost.size());
        for (int i = 0; i < again.size(); i++) {
            TensorMessage f = again.get(i);
            f.header().put("makeup", true).put("replica", i % micro).put("units", again.size());
            vertx.eventBus().send(ctx.addresses().stageForward(0), f);
        }
    }

    /**
     * Tells the optimizer that {@code ids} compute nothing more in the steps handed out so far: it stops
     * waiting for them there at once (their shares run here), not after another timeout.
     */
    private void dropped(List<String> ids) {
        for (String id : ids) {
            vertx.eventBus().send(ctx.addresses().optimizerDropped(), new JsonObject().put("replica", id).put("through", dispatched - 1));
        }
    }

    /** Logs {@code message} the first time it comes (a worker that cannot serve says so at every run it sees). */
    private void sayOnce(String message) {
        if (message != null && said.add(message)) {
            ctx.log().accept(message);
        }
    }

    /** A sampled step's per-layer stats: to layers.jsonl, and published for the dashboard. */
    private void onLayers(JsonObject stats) {
        if (ctx.folder() != null) {
            ctx.folder().appendLayers(stats.encode());
        }
        vertx.eventBus().publish(ctx.addresses().layers(), stats);
    }

    private static double lossOf(Map<String, Double> outputs) {
        Double loss = outputs.get("loss");
        if (loss != null) {
            return loss;
        }
        return outputs.values().stream().findFirst().orElse(Double.NaN);
    }

    private void flushLine() {
        if (pendingLine != null) {
            JsonObject line = pendingLine;
            pendingLine = null;
            if (ctx.folder() != null) {
                ctx.folder().appendMetrics(line.encode());
            }
            vertx.eventBus().publish(ctx.addresses().metrics(), line);
        }
    }

    private void flushLineThenContinue() {
        flushLine();
        int every = ctx.config().pipeline().snapshotEvery();
        if (every > 0 && iter > 0 && iter % every == 0 && iter < schedule.maxIter()) {
            snapshotRequested = true;
        }
        if (iter >= schedule.maxIter()) {
            finish("finished", null);
            return;
        }
        maybeStartStep();
    }

    /** Between steps: snapshots, stop, failure. */
    private void betweenSteps() {
        if (failure != null) {
            finish("failed", failure);
        } else if (stopRequested) {
            finish("stopped", null);
        } else if (snapshotRequested) {
            snapshotRequested = false;
            busy = true;
            snapshot().onComplete(r -> {
                busy = false;
                lastStepEnd = System.nanoTime();
                if (r.failed()) {
                    failure = "snapshot failed: " + r.cause().getMessage();
                }
                maybeStartStep();
            });
        }
    }

    // ---- test passes ----

    private void runTest(Runnable then) {
        TrainingData.Source test = ctx.data().test().orElseThrow();
        busy = true;
        afterTest = then;
        testBatches = schedule.testIter() > 0 ? Math.min(schedule.testIter(), test.batchesPerEpoch()) : test.batchesPerEpoch();
        testNext = 0;
        testSent = 0;
        testDone = 0;
        testSamples = 0;
        testSums.clear();
        testReady.clear();
        continueTest();
    }

    private void continueTest() {
        if (afterTest == null) { // dropped by a stop: late outputs of its batches are ignored
            return;
        }
        int prefetch = ctx.config().pipeline().prefetch();
        while (testNext < testBatches && testNext - testDone < prefetch) {
            requestTest(testNext++, 0);
        }
        while (testReady.containsKey(testSent) && testSent - testDone < 2) {
            TensorMessage b = testReady.remove(testSent);
            int n = b.longs("ids").length;
            JsonObject h = new JsonObject().put("phase", "TEST").put("step", iter).put("index", testSent).put("n", n);
            TensorMessage f = new TensorMessage("forward", h);
            f.put(ctx.data().dataBlob(), b.tensor("data")).put(ctx.data().labelBlob(), b.tensor("label"));
            vertx.eventBus().send(ctx.addresses().stageForward(0), f);
            testSent++;
        }
        if (testDone == testBatches && afterTest != null) {
            JsonObject line = pendingLine != null ? pendingLine : new JsonObject().put("step", iter);
            for (var e : testSums.entrySet()) {
                line.put("test_" + e.getKey(), e.getValue() / Math.max(1, testSamples));
            }
            line.put("test_samples", testSamples);
            pendingLine = line;
            busy = false;
            lastStepEnd = System.nanoTime(); // the next step's time leaves the test pass out
            Runnable then = afterTest;
            afterTest = null;
            then.run();
        }
    }

    private void requestTest(int index, int attempt) {
        TrainingData.Source test = ctx.data().test().orElseThrow();
        TensorMessage req = new TensorMessage("request", new JsonObject().put("phase", "TEST").put("epoch", 0)
                .put("index", index).put("attempt", attempt));
        req.putLongs("ids", test.sampler().batch(0, index));
        testOutstanding.put(index, new long[] {attempt, deadline()});
        vertx.eventBus().send(ctx.addresses().loaderRequests(), req);
    }

    private void onTestBatch(TensorMessage b) {
        int index = b.header().getInteger("index");
        long[] o = testOutstanding.remove(index);
        if (o == null) {
            duplicates++;
            return;
        }
        served(b);
        testReady.put(index, b);
        continueTest();
    }

    // ---- control, failures, snapshots, the end ----

    private void onControl(Message<JsonObject> m) {
        String action = m.body().getString("action", "");
        switch (action) {
            case "pause" -> paused = true;
            case "resume" -> {
                if (paused) {
                    lastStepEnd = System.nanoTime();
                }
                paused = false;
                maybeStartStep();
            }
            case "stop" -> {
                stopRequested = true;
                paused = false;
                if (afterTest != null) { // a test pass (perhaps waiting for data no loader serves) is dropped: the run stops now
                    afterTest = null;
                    busy = false;
                    testOutstanding.clear();
                    testReady.clear();
                }
                maybeStartStep();
            }
            case "snapshot" -> {
                snapshotRequested = true;
                maybeStartStep();
            }
            case "lr" -> {
                vertx.eventBus().<JsonObject>request(ctx.addresses().optimizerRate(), new JsonObject().put("lr", m.body().getValue("lr")))
                        .onSuccess(r -> {
                            // control.jsonl keeps the change, so that a resumed run goes on with it
                            record(r.body().copy().put("action", action));
                            m.reply(r.body().copy().put("ok", true).put("action", action).put("iter", iter));
                        })
                        .onFailure(e -> m.fail(400, e.getMessage()));
                return;
            }
            default -> {
                m.fail(400, "unknown action \"" + action + "\"; known: pause, resume, stop, snapshot, lr");
                return;
            }
        }
        record(new JsonObject().put("action", action).put("iter", iter));
        m.reply(new JsonObject().put("ok", true).put("action", action).put("iter", iter));
    }

    /** Appends a control action to the run folder's control.jsonl, with the time. */
    private void record(JsonObject action) {
        if (ctx.folder() != null) {
            ctx.folder().appendControl(action.put("time", System.currentTimeMillis()).encode());
        }
    }

    private void onFailure(JsonObject f) {
        String component = f.getString("component", "");
        if (component.startsWith("replica ")) { // a replica's error costs the run that replica, not the run
            String id = component.substring("replica ".length());
            if (failedReplicas.add(id)) {
                replicas.remove(id);
                joining.remove(id);
                dropped(List.of(id));
                ctx.log().accept("cluster: " + f.getString("message") + "; its share of the step runs here, and it is not used"
                        + " again in this run");
            }
            return;
        }
        if (failure == null) {
            failure = f.getString("message");
        }
        if (running == 0 && !busy) {
            maybeStartStep();
        } else if (!f.getString("component", "").equals("loader") && !f.getString("component", "").equals("augmenter")) {
            // A stage or the optimizer failed mid-step: the step will not complete. The optimizer hands
            // back the params it holds, unchanged, so the snapshot has the last applied step's weights
            // (forward and backward do not change them).
            if (f.containsKey("iter")) {
                iter = f.getLong("iter");
            }
            running = 0;
            busy = false;
            vertx.eventBus().request(ctx.addresses().optimizerAbort(), new JsonObject())
                    .onComplete(r -> finish("failed", failure));
        }
    }

    /** Gathers the stages' weights and the solver state, and writes a snapshot of iteration {@code iter}. */
    private Future<java.nio.file.Path> snapshot() {
        if (ctx.folder() == null) {
            return Future.succeededFuture(null);
        }
        DeliveryOptions opts = new DeliveryOptions().setSendTimeout(60_000);
        List<Future<Message<TensorMessage>>> parts = new ArrayList<>();
        for (int s = 0; s < ctx.stages(); s++) {
            parts.add(vertx.eventBus().request(ctx.addresses().stageWeights(s), new JsonObject(), opts));
        }
        Future<Message<TensorMessage>> state = vertx.eventBus().request(ctx.addresses().optimizerState(), new JsonObject(), opts);
        long at = iter;
        return Future.all(parts).compose(all -> state).map(st -> {
            SequencedMap<String, List<Tensor>> weights = new LinkedHashMap<>();
            for (var p : parts) {
                weights.putAll(StageVerticle.weightsOf(p.result().body()));
            }
            TensorMessage sm = st.body();
            List<Tensor> history = new ArrayList<>();
            for (int i = 0; i < sm.header().getJsonArray("names").size(); i++) {
                history.add(sm.tensor("h:" + i));
            }
            lastSnapshot = ctx.folder().writeSnapshot(at, weights, history, ctx.config().pipeline().snapshotKeep());
            lastWeights = weights;
            return lastSnapshot;
        });
    }

    private void finish(String status, String message) {
        if (finished) {
            return;
        }
        finished = true;
        vertx.cancelTimer(sweepTimer);
        flushLine();
        boolean diverged = message != null && message.startsWith("loss is ");
        if (diverged || ctx.folder() == null) {
            done.complete(new Result(status, iter, message, lastSnapshot));
            return;
        }
        snapshot().onComplete(r -> {
            String msg = message;
            if (r.succeeded() && lastWeights != null && status.equals("finished")) {
                ctx.folder().writeFinalWeights(lastWeights);
            }
            if (r.failed()) {
                msg = (msg == null ? "" : msg + "; ") + "the final snapshot could not be written: " + r.cause().getMessage();
            }
            done.complete(new Result(r.failed() && status.equals("finished") ? "failed" : status, iter, msg, lastSnapshot));
        });
    }
}
