package org.cortado.pipeline;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.cortado.engine.data.RawBatch;
import org.cortado.engine.net.Phase;

/**
 * Answers batch requests: reads the named samples from the shard set ({@code ShardSet.read}) and
 * sends the raw batch on to the augmenters. Deployed as a worker verticle, N instances, with one
 * {@link LoaderGate} per node that takes the requests and spreads them over them. A read error is
 * reported to the coordinator with the file named.
 */
public final class ShardLoaderVerticle extends VerticleBase {
    private static final java.util.concurrent.atomic.AtomicInteger INSTANCES = new java.util.concurrent.atomic.AtomicInteger();
    /**
     * A raw batch goes to an augmenter of this node (every node that loads also augments): augmenting
     * where it was read spreads the augmentation over the nodes, and the raw batch never crosses the wire.
     */
    private static final io.vertx.core.eventbus.DeliveryOptions LOCAL = new io.vertx.core.eventbus.DeliveryOptions().setLocalOnly(true);
    private final RunContext ctx;
    private final int instance = INSTANCES.getAndIncrement();

    public ShardLoaderVerticle(RunContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Future<?> start() {
        return vertx.eventBus().<TensorMessage>localConsumer(ctx.addresses().loaderRequestsHere(), this::onRequest).completion();
    }

    private void onRequest(Message<TensorMessage> m) {
        TensorMessage req = m.body();
        JsonObject h = req.header();
        String phase = h.getString("phase");
        long epoch = h.getLong("epoch");
        int index = h.getInteger("index");
        int attempt = h.getInteger("attempt", 0);
        RawBatch raw;
        try {
            raw = ctx.data().source(Phase.valueOf(phase)).set().read(epoch, index, req.longs("ids"));
        } catch (RuntimeException e) {
            vertx.eventBus().send(ctx.addresses().coordinatorFailures(), new JsonObject().put("component", "loader")
                    .put("phase", phase).put("epoch", epoch).put("index", index)
                    .put("message", "reading batch " + index + " of epoch " + epoch + " (" + phase + "): " + e.getMessage()));
            return;
        }
        if (ctx.hooks().drop(instance, phase, epoch, index, attempt)) {
            return;
        }
        TensorMessage out = new TensorMessage("raw", h.copy().put("sample_shape", new JsonArray(
                java.util.Arrays.stream(raw.sampleShape()).boxed().toList())));
        int[] shape = {raw.size(), raw.sampleShape()[0], raw.sampleShape()[1], raw.sampleShape()[2]};
        if (raw.bytes() != null) {
            out.putBytes("pixels", raw.bytes(), shape);
        } else {
            out.put("pixels", new org.cortado.engine.tensor.Tensor(raw.floats(), shape));
        }
        out.putInts("labels", raw.labels()).putLongs("ids", raw.ids());
        long delay = ctx.hooks().delayMs(instance, phase, epoch, index, attempt);
        if (delay > 0) {
            vertx.setTimer(delay, t -> vertx.eventBus().send(ctx.addresses().augmentBatches(), out, LOCAL));
        } else {
            vertx.eventBus().send(ctx.addresses().augmentBatches(), out, LOCAL);
        }
    }
}
