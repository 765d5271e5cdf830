package org.cortado.cluster;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.cortado.engine.ConfigException;
import org.cortado.engine.config.ClusterConfig;

/**
 * How workers learn of the run a coordinator trains: they ask {@value #ADDRESS} (any member may ask,
 * the one coordinator answers) and get {@code {"run", "config", "cwd", "config_dir", "fingerprint", "data"}}:
 * (and {@code "node"}, the coordinator's {@code pid@host}): the run id (its event-bus addresses are {@code cortado.<run>.*}), the resolved config as JSON text, the
 * folders its relative data and augmentation paths start from on the coordinator's machine, and what
 * identifies its data ({@code TrainingData.fingerprint}), which a worker's copy must match.
 */
public final class ClusterRun {
    public static final String ADDRESS = "cortado.cluster.run";

    private ClusterRun() {}

    /** Answers workers' questions for run {@code runId} until the returned consumer is unregistered. */
    public static Future<MessageConsumer<JsonObject>> announce(Vertx vertx, String runId, String configJson, Path configDir,
                                                               org.cortado.engine.train.TrainingData data) {
        JsonObject info = new JsonObject().put("run", runId).put("node", org.cortado.pipeline.Addresses.NODE).put("config", configJson)
                .put("fingerprint", data.fingerprint()).put("data", data.description())
                .put("cwd", Path.of("").toAbsolutePath().toString())
                .put("config_dir", configDir == null ? Path.of("").toAbsolutePath().toString() : configDir.toAbsolutePath().toString());
        MessageConsumer<JsonObject> c = vertx.eventBus().consumer(ADDRESS, m -> m.reply(info));
        return c.completion().map(v -> c);
    }

    /**
     * Throws a {@code ConfigException} when the cluster of {@code c} already trains a run: a cluster
     * trains one run at a time (its workers serve whichever coordinator answers), so a second
     * coordinator would take workers from the first. Blocks for up to two seconds.
     */
    public static void refuseSecondRun(Vertx vertx, ClusterConfig c) {
        JsonObject other;
        try {
            other = vertx.eventBus().<JsonObject>request(ADDRESS, new JsonObject(), new DeliveryOptions().setSendTimeout(2000))
                    .toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS).body();
        } catch (Exception none) {
            return; // no run answers: this is the one
        }
        throw new ConfigException("cluster \"" + c.name() + "\" already trains run " + other.getString("run") + " (coordinator "
                + other.getString("node", "?") + "); a cluster trains one run at a time: give this run a cluster of its own"
                + " (--set cluster.name=... and --set cluster.port=...), or wait for that run to end");
    }
}
