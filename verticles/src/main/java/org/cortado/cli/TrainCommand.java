package org.cortado.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.config.Json;
import org.cortado.engine.config.Overrides;
import org.cortado.engine.train.ConfigCheck;
import org.cortado.engine.train.RunFolder;
import org.cortado.pipeline.Pipeline;
import org.cortado.pipeline.RunContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cortado train}: runs the pipeline of a config and writes a run folder. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a net from a config as a pipeline of verticles, writing a run folder:",
                "the resolved config, metrics.jsonl, snapshots and the final weights."})
final class TrainCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CONFIG", description = "pipeline config (JSON)")
    Path config;

    @Option(names = "--set", paramLabel = "path=value",
            description = "override a config value, e.g. --set solver.max_iter=100 --set pipeline.stages='[\"conv2\"]'")
    List<String> sets = List.of();

    @Option(names = "--runs", defaultValue = "runs", paramLabel = "DIR", description = "where run folders go (default: ${DEFAULT-VALUE})")
    Path runs;

    @Option(names = "--weights", paramLabel = "W.caffemodel.h5",
            description = "fine-tune: start from these Caffe-layout HDF5 weights, copied by layer name")
    Path weights;

    @Option(names = "--cluster", description = "train as a member of the config's cluster (section \"cluster\"):"
            + " `cortado worker` processes that join it load and augment batches too")
    boolean cluster;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CortadoConfig cfg = resolve(config, sets);
        RunFolder folder = RunFolder.create(runs, cfg.name(), prefix(cfg));
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        out.println("run folder: " + folder.dir());
        out.flush();
        folder.writeConfig(forRunFolder(cfg.root().node(), config.toAbsolutePath().getParent()));
        try {
            return PipelineRunner.run(cfg, config.toAbsolutePath().getParent(), folder,
                    new Pipeline.Start(null, weights, RunContext.Hooks.NONE, line -> {
                        err.println(line);
                        err.flush();
                    }), cluster, out, err);
        } catch (RuntimeException e) {
            deleteIfEmpty(folder);
            throw e;
        }
    }

    /** Snapshot file names start with the solver's {@code snapshot_prefix}, else the run's name (Caffe's naming). */
    static String prefix(CortadoConfig cfg) {
        String p = cfg.schedule().snapshotPrefix();
        return p.isBlank() ? cfg.name() : Path.of(p).getFileName().toString();
    }

    /** The config file with the overrides applied, validated. */
    static CortadoConfig resolve(Path file, List<String> sets) {
        Json raw = Json.read(file);
        ObjectNode root = raw.copyNode();
        Overrides.apply(root, sets);
        String name = file.getFileName().toString().replaceFirst("\\.json$", "");
        return ConfigCheck.validate(Json.of(root, ""), file.toString(), name, file.toAbsolutePath().getParent());
    }

    /**
     * The config as the run folder keeps it: file paths that the config resolves against its own folder
     * ({@code augment}'s {@code mean_file}) made absolute, so that {@code resume}, which reads the copy
     * in the run folder, finds the same files.
     */
    static String forRunFolder(com.fasterxml.jackson.databind.JsonNode root, Path configDir) {
        var copy = root.deepCopy();
        for (String phase : List.of("train", "test")) {
            for (var step : copy.path("augment").path(phase)) {
                var file = step.get("mean_file");
                if (step instanceof ObjectNode o && file != null && file.isTextual() && !Path.of(file.asText()).isAbsolute()) {
                    o.put("mean_file", configDir.resolve(file.asText()).normalize().toString());
                }
            }
        }
        return copy.toPrettyString();
    }

    /** A run that failed before its first step leaves no folder behind. */
    static void deleteIfEmpty(RunFolder folder) {
        try (var s = java.nio.file.Files.list(folder.dir().resolve("snapshots"))) {
            if (s.findAny().isPresent() || java.nio.file.Files.exists(folder.metricsFile())) {
                return;
            }
        } catch (java.io.IOException e) {
            return;
        }
        try {
            java.nio.file.Files.deleteIfExists(folder.dir().resolve("snapshots"));
            java.nio.file.Files.deleteIfExists(folder.dir().resolve("net.json"));
            java.nio.file.Files.deleteIfExists(folder.statusFile());
            java.nio.file.Files.deleteIfExists(folder.configFile());
            java.nio.file.Files.deleteIfExists(folder.dir());
        } catch (java.io.IOException ignored) {
            // leave it: it only holds the config
        }
    }
}
