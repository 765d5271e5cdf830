package org.cortado.cluster;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;

/**
 * How workers learn of the run a coordinator trains: they ask {@value #ADDRESS} (any member may ask,
 * the one coordinator answers) and get {@code {"run", "config", "cwd", "config_dir", "fingerprint", "data"}}:
 * the run id (its event-bus addresses are {@code cortado.<run>.*}), the resolved config as JSON text, the
 * folders its relative data and augmentation paths start from on the coordinator's machine, and what
 * identifies its data ({@code TrainingData.fingerprint}), which a worker's copy must match.
 */
public final class ClusterRun {
    public static final String ADDRESS = "cortado.cluster.run";

    private ClusterRun() {}

    /** Answers workers' questions for run {@code runId} until the returned consumer is unregistered. */
    public static Future<MessageConsumer<JsonObject>> announce(Vertx vertx, String runId, String configJson, Path configDir,
                                                               org.cortado.engine.train.TrainingData data) {
        JsonObject info = new JsonObject().put("run", runId).put("config", configJson)
                .put("fingerprint", data.fingerprint()).put("data", data.description())
                .put("cwd", Path.of("").toAbsolutePath().toString())
                .put("config_dir", configDir == null ? Path.of("").toAbsolutePath().toString() : configDir.toAbsolutePath().toString());
        MessageConsumer<JsonObject> c = vertx.eventBus().consumer(ADDRESS, m -> m.reply(info));
        return c.completion().map(v -> c);
    }
}
