package org.cortado.pipeline;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.net.GradientBuckets;
import org.cortado.engine.net.Net;
import org.cortado.engine.net.Phase;
import org.cortado.engine.ops.Parallel;
import org.cortado.engine.solver.Param;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Tensor;
import org.cortado.engine.train.Trainer;

/**
 * A data-parallel replica on a cluster worker ({@code cortado worker --replica}): a whole copy of the
 * TRAIN net that computes a share of each step's micro-batches. It starts from the weights the
 * coordinator sends ({@link Addresses#replicaWeights}) and runs each micro-batch it is given forward
 * and backward, the gradients adding up over them as in one process. The backward of its last
 * micro-batch of a step runs in {@link GradientBuckets} from the last layer, and each bucket leaves
 * for the coordinator's optimizer ({@link Addresses#optimizerReplicaGrads}) as soon as its gradients
 * are final, while the earlier layers' backward goes on. The optimizer adds the replicas' sums to its
 * own, applies one update and sends the new weights back: every replica computes step {@code s} on
 * the weights of step {@code s}. Micro-batches of a step whose weights have not come yet wait; those
 * of an older step (this replica was dropped and taken back) are discarded.
 *
 * <p>Worker verticle on a compute thread of its own; the layers spread over {@code threads} cores.
 */
public final class ReplicaVerticle extends VerticleBase {
    /** Floats per gradient bucket: 4 MiB, as PyTorch's DistributedDataParallel's first bucket. */
    static final long BUCKET_FLOATS = 1 << 20;

    private final Addresses addresses;
    private final CortadoConfig config;
    private final String id;
    private Parallel parallel;
    private Net net;
    private List<Param> params;
    private Map<String, Param> byName;
    private GradientBuckets buckets;
    private List<Blob> outputs;
    /** The step whose weights the net holds; -1 before the first weights. */
    private long weightsStep = -1;
    /** The last step whose gradients were sent. */
    private long sentStep = -1;
    private int done;
    private final Map<String, Double> stepOutputs = new LinkedHashMap<>();
    private final ArrayDeque<TensorMessage> waiting = new ArrayDeque<>();

    /** Replica {@code id} (its node name) of the run at {@code addresses}. */
    public ReplicaVerticle(Addresses addresses, CortadoConfig config, String id) {
        this.addresses = addresses;
        this.config = config;
        this.id = id;
    }

    @Override
    public Future<?> start() {
        parallel = new Parallel(config.threads());
        net = Net.build(config.net(), Phase.TRAIN, parallel, config.seed());
        params = net.params();
        byName = new HashMap<>();
        for (Param p : params) {
            byName.put(p.name(), p);
        }
        buckets = GradientBuckets.of(net, BUCKET_FLOATS);
        outputs = Trainer.outputs(net);
        var bus = vertx.eventBus();
        return Future.all(
                bus.<TensorMessage>consumer(addresses.replicaForward(id), this::onForward).completion(),
                bus.<TensorMessage>consumer(addresses.replicaWeights(id), this::onWeights).completion());
    }

    @Override
    public Future<?> stop() {
        if (parallel != null) {
            parallel.close();
        }
        return Future.succeededFuture();
    }

    /** Weights by param name, for step {@code header.step}: the net takes them and starts that step afresh. */
    private void onWeights(Message<TensorMessage> m) {
        TensorMessage w = m.body();
        long step = w.header().getLong("step");
        if (step < weightsStep) {
            return; // older than what it has
        }
        JsonArray names = w.header().getJsonArray("names");
        try {
            for (int i = 0; i < names.size(); i++) {
                Param p = byName.get(names.getString(i));
                if (p == null) {
                    throw new IllegalStateException("the coordinator sent weights for param " + names.getString(i)
                            + ", which this replica's net lacks");
                }
                Tensor t = w.tensor("w:" + i);
                if (t.count() != p.blob().count()) {
                    throw new IllegalStateException("param " + p.name() + ": " + p.blob().count() + " values here, "
                            + t.count() + " sent");
                }
                System.arraycopy(t.data(), 0, p.blob().x(), 0, t.count());
            }
        } catch (RuntimeException e) {
            fail(e);
            return;
        }
        for (Param p : params) {
            p.blob().zeroDiff();
        }
        weightsStep = step;
        sentStep = step - 1;
        done = 0;
        stepOutputs.clear();
        waiting.removeIf(f -> f.header().getLong("step") < step);
        drain();
    }

    private void onForward(Message<TensorMessage> m) {
        long step = m.body().header().getLong("step");
        if (step < weightsStep || step <= sentStep && step == weightsStep) {
            return; // a step this replica no longer computes
        }
        waiting.add(m.body());
        drain();
    }

    /** Runs the micro-batches of the step whose weights the net has. */
    private void drain() {
        while (weightsStep >= 0 && sentStep < weightsStep) {
            TensorMessage next = null;
            for (TensorMessage f : waiting) {
                if (f.header().getLong("step") == weightsStep) {
                    next = f;
                    break;
                }
            }
            if (next == null) {
                return;
            }
            waiting.remove(next);
            try {
                run(next);
            } catch (RuntimeException e) {
                fail(e);
                return;
            }
        }
    }

    private void run(TensorMessage f) {
        JsonObject h = f.header();
        double scale = h.getDouble("scale");
        Trainer.feed(net, f.tensors());
        net.beginPass(h.getLong("pass"));
        net.forward();
        for (Blob o : outputs) {
            stepOutputs.merge(o.name(), Trainer.outputValue(o.x(), o.count()) * scale, Double::sum);
        }
        if (++done < h.getInteger("units")) {
            net.backward(0, net.layers().size(), scale);
            return;
        }
        // The step's last micro-batch: each bucket leaves as soon as backward has finished its gradients.
        long step = h.getLong("step");
        List<GradientBuckets.Bucket> bs = buckets.buckets();
        for (int b = 0; b < bs.size(); b++) {
            GradientBuckets.Bucket bucket = bs.get(b);
            net.backward(bucket.from(), bucket.to(), scale);
            JsonArray names = new JsonArray();
            TensorMessage g = new TensorMessage("replica-grads", new JsonObject().put("step", step).put("replica", id)
                    .put("bucket", b).put("buckets", bs.size()).put("names", names));
            for (int i : bucket.params()) {
                Param p = params.get(i);
                g.put("g:" + names.size(), new Tensor(Arrays.copyOf(p.blob().dx(), p.blob().count()), p.blob().shape()));
                names.add(p.name());
            }
            if (b == bs.size() - 1) {
                g.header().put("outputs", new JsonObject(new LinkedHashMap<>(stepOutputs)));
            }
            vertx.eventBus().send(addresses.optimizerReplicaGrads(), g);
        }
        for (Param p : params) {
            p.blob().zeroDiff();
        }
        stepOutputs.clear();
        done = 0;
        sentStep = step;
    }

    private void fail(RuntimeException e) {
        vertx.eventBus().send(addresses.coordinatorFailures(), new JsonObject().put("component", "replica " + id)
                .put("message", "replica " + id + ": " + e));
    }
}
