package org.cortado.cli;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.cortado.dashboard.Runs;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.train.RunFolder;
import org.cortado.pipeline.CoordinatorVerticle;
import org.cortado.pipeline.Pipeline;
import org.cortado.pipeline.RunContext;

/**
 * One run on a Vert.x, in two steps: {@link #prepare} (data opened, stages placed, shown by the
 * dashboard when there is one; a bad config or unreadable data fails here, before anything runs)
 * and {@link #run} (the pipeline, to its end). {@code train}, {@code resume} and runs launched from
 * the dashboard all go through it; {@code status.json} follows the run.
 */
final class PreparedRun {
    final CortadoConfig config;
    final RunContext ctx;
    final RunFolder folder;
    final Runs.LiveRun live;
    private final Runs runs;
    private JsonObject members; // the last members table of a clustered run (on the data thread until the run ends)

    private PreparedRun(CortadoConfig config, RunContext ctx, RunFolder folder, Runs runs, Runs.LiveRun live) {
        this.runs = runs;
        this.config = config;
        this.ctx = ctx;
        this.folder = folder;
        this.live = live;
    }

    /** {@code runs}: the dashboard's runs, to show it there; null without a dashboard. */
    static PreparedRun prepare(Runs runs, CortadoConfig config, Path configDir, RunFolder folder, Pipeline.Start start) {
        String runId = folder.dir().getFileName().toString().replaceAll("[^A-Za-z0-9_-]", "_");
        RunContext ctx = Pipeline.prepare(config, configDir, folder, runId, start);
        Runs.LiveRun live = runs == null ? null : runs.addLive(folder.dir(), ctx.addresses());
        folder.writeStatus(new JsonObject().put("status", "running").put("iter", ctx.startIter()).encode());
        return new PreparedRun(config, ctx, folder, runs, live);
    }

    /**
     * Runs the pipeline to its end on {@code vertx}, handing each metrics line to {@code onLine} (on the
     * run's data thread); then releases the data and the folder and writes the final {@code status.json}.
     */
    CoordinatorVerticle.Result run(Vertx vertx, Consumer<JsonObject> onLine) throws Exception {
        CoordinatorVerticle.Result result = null;
        String failure = "interrupted";
        try {
            Future<String> cluster = Pipeline.listen(vertx, ctx, ctx.addresses().cluster(), this::onCluster);
            Future<String> layers = cluster.compose(c -> live == null ? Future.succeededFuture()
                    : Pipeline.listen(vertx, ctx, ctx.addresses().layers(), live.layers()::append));
            Future<String> metrics = layers.compose(l -> Pipeline.listen(vertx, ctx, line -> {
                onLine.accept(line);
                if (live != null) {
                    live.history().append(line);
                }
            }));
            result = metrics.compose(id -> Pipeline.run(vertx, ctx)
                            .eventually(() -> Future.join(vertx.undeploy(id), cluster.compose(vertx::undeploy),
                                    live == null ? Future.succeededFuture() : layers.compose(vertx::undeploy))))
                    .toCompletionStage().toCompletableFuture().get();
            return result;
        } catch (Exception e) {
            failure = String.valueOf(e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
            throw e;
        } finally {
            String status = result == null ? "failed" : result.status();
            String message = result == null ? failure : result.message();
            if (live != null) {
                live.setStatus(status, message);
            }
            Pipeline.close(ctx);
            folder.close();
            JsonObject s = new JsonObject().put("status", status).put("iter", result == null ? ctx.startIter() : result.iter());
            if (message != null) {
                s.put("message", message);
            }
            if (members != null) {
                s.put("cluster", members);
            }
            folder.writeStatus(s.encode());
            if (runs != null && live != null) {
                runs.retire(live);
            }
        }
    }

    /**
     * A clustered run's members table ({@code cluster.Members}, once a second): shown live by the
     * dashboard and kept in {@code status.json}, for a dashboard of another process and after the run.
     */
    private void onCluster(JsonObject table) {
        members = table;
        if (live != null) {
            live.setCluster(table);
        }
        folder.writeStatus(new JsonObject().put("status", "running").put("iter", ctx.startIter()).put("cluster", table).encode());
    }

    /** Asks the run to stop (it snapshots first). */
    void stop(Vertx vertx) {
        vertx.eventBus().send(ctx.addresses().control(), new JsonObject().put("action", "stop"));
    }
}
