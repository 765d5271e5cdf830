package org.cortado.pipeline;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.cortado.engine.augment.Augmenter;
import org.cortado.engine.data.RawBatch;
import org.cortado.engine.net.Phase;
import org.cortado.engine.tensor.Tensor;

/**
 * Turns raw batches into the net's float input ({@code Augmenter.apply}, on this verticle's worker
 * thread) and hands them to the coordinator. Deployed as a worker verticle, M instances.
 */
public final class AugmenterVerticle extends VerticleBase {
    private final RunContext ctx;

    public AugmenterVerticle(RunContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Future<?> start() {
        return vertx.eventBus().<TensorMessage>consumer(ctx.addresses().augmentBatches(), this::onRaw).completion();
    }

    private void onRaw(Message<TensorMessage> m) {
        TensorMessage in = m.body();
        JsonObject h = in.header();
        try {
            Phase phase = Phase.valueOf(h.getString("phase"));
            int[] sample = h.getJsonArray("sample_shape").stream().mapToInt(o -> ((Number) o).intValue()).toArray();
            long[] ids = in.longs("ids");
            RawBatch raw = in.arrays().get("pixels").dtype() == TensorMessage.DType.U8
                    ? new RawBatch(h.getLong("epoch"), h.getInteger("index"), ids, in.ints("labels"), sample, in.bytes("pixels"), null)
                    : new RawBatch(h.getLong("epoch"), h.getInteger("index"), ids, in.ints("labels"), sample, null,
                    in.tensor("pixels").data());
            Augmenter a = ctx.data().source(phase).augmenter();
            Map<String, Tensor> batch = ctx.data().feed(raw, a);
            TensorMessage out = new TensorMessage("batch", h.copy().put("n", ids.length).put("node", Addresses.NODE));
            out.put("data", batch.get(ctx.data().dataBlob())).put("label", batch.get(ctx.data().labelBlob()));
            out.putLongs("ids", ids);
            vertx.eventBus().send(ctx.addresses().coordinatorBatches(), out);
        } catch (RuntimeException e) {
            vertx.eventBus().send(ctx.addresses().coordinatorFailures(), new JsonObject().put("component", "augmenter")
                    .put("message", "augmenting batch " + h.getInteger("index") + " of epoch " + h.getLong("epoch") + ": " + e));
        }
    }
}
