package org.cortado.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.nio.file.Path;
import org.cortado.dashboard.DashboardVerticle;
import org.cortado.dashboard.Runs;
import org.cortado.engine.ConfigException;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.config.Json;
import org.cortado.engine.train.ConfigCheck;
import org.cortado.engine.train.RunFolder;
import org.cortado.pipeline.CoordinatorVerticle;
import org.cortado.pipeline.Pipeline;
import org.cortado.pipeline.RunContext;

/**
 * Runs launched from the dashboard: the config is validated as {@code cortado train} validates a file
 * (every problem, with its JSON path), prepared (data opened: a missing shard is reported to the
 * browser too), and then trained on a thread of its own in this process, in the dashboard's runs
 * folder. One run trains at a time: on a small machine a second would only halve both.
 */
final class Launches {
    private Launches() {}

    static DashboardVerticle.Launcher launcher(Vertx vertx, Runs runs, Path configsDir, PrintWriter log) {
        return json -> {
            JsonNode node;
            try {
                node = new ObjectMapper().readTree(json.encode());
            } catch (java.io.IOException e) {
                throw new ConfigException("the config: not JSON: " + e.getMessage());
            }
            if (!(node instanceof ObjectNode root)) {
                throw new ConfigException("the config: expected a JSON object");
            }
            Path dir = configsDir != null ? configsDir.toAbsolutePath() : Path.of("").toAbsolutePath();
            String name = root.path("name").isTextual() ? root.path("name").asText() : "launched";
            CortadoConfig cfg = ConfigCheck.validate(Json.of(root, ""), "the config", name, dir);
            for (Runs.LiveRun r : runs.live()) {
                if (r.active()) {
                    throw new DashboardVerticle.Refused(409, "run \"" + r.id() + "\" is training in this process; stop it first");
                }
            }
            RunFolder folder = RunFolder.create(runs.dir(), cfg.name(), TrainCommand.prefix(cfg));
            PreparedRun run;
            try {
                folder.writeConfig(TrainCommand.forRunFolder(root, dir));
                run = PreparedRun.prepare(runs, cfg, dir, folder, new Pipeline.Start(null, null, RunContext.Hooks.NONE,
                        line -> log(log, folder, line)));
            } catch (RuntimeException e) {
                TrainCommand.deleteIfEmpty(folder);
                throw e;
            }
            String id = folder.dir().getFileName().toString();
            log(log, folder, "launched from the dashboard: " + folder.dir());
            Thread t = new Thread(() -> {
                try {
                    CoordinatorVerticle.Result r = run.run(vertx, line -> { });
                    log(log, folder, "run " + r.status() + " at iteration " + r.iter() + (r.message() == null ? "" : ": " + r.message()));
                } catch (Exception e) {
                    log(log, folder, "run failed: " + e);
                }
            }, "cortado-run-" + id);
            t.start();
            return new JsonObject().put("id", id);
        };
    }

    private static void log(PrintWriter log, RunFolder folder, String line) {
        synchronized (log) {
            log.println("[" + folder.dir().getFileName() + "] " + line);
            log.flush();
        }
    }
}
