package org.cortado.engine.config;

import java.nio.file.Path;
import org.cortado.engine.ConfigException;

/**
 * One pipeline config file ({@code conf/*.json}), its sections kept as {@link Json} for the parts of
 * the system that own them: {@code net} (the {@code Net}), {@code solver} (the {@code Solver} and the
 * {@link Schedule}), {@code data} and {@code augment} (loaders), {@code pipeline}, {@code dashboard},
 * {@code cluster}.
 *
 * <p>Top-level fields: {@code "version": 1} (required), {@code name} (default: the file name),
 * {@code description}, {@code seed} (default 1; every random choice derives from it), {@code net}
 * (required), {@code solver} (required), and the optional sections above; {@code pipeline} and
 * {@code snapshot} are read into {@link PipelineConfig}.
 */
public record CortadoConfig(String source, String name, long seed, int threads, Json root, Json net, Json solver,
                            Schedule schedule, PipelineConfig pipeline) {

    public static final int VERSION = 1;

    public static CortadoConfig load(Path file) {
        return from(Json.read(file), file.toString(), stripJson(file.getFileName().toString()));
    }

    /** Reads an already-parsed config; {@code source} names it in errors. */
    public static CortadoConfig from(Json root, String source, String defaultName) {
        int version = root.getInt("version", -1);
        if (version != VERSION) {
            throw root.error("version", version == -1 ? "required (the config format version, " + VERSION + ")"
                    : "unsupported config version " + version + "; this Cortado reads version " + VERSION);
        }
        String name = root.getString("name", defaultName);
        root.getString("description", "");
        long seed = root.getLong("seed", 1);
        Json net = root.object("net");
        Json solver = root.object("solver");
        Schedule schedule = Schedule.parse(solver);
        PipelineConfig pipeline = PipelineConfig.parse(root, schedule.snapshot());
        // Sections owned by the data loaders, the dashboard and the cluster: read there.
        root.markUsed("data", "augment", "dashboard", "cluster");
        root.rejectUnknown();
        return new CortadoConfig(source, name, seed, pipeline.threads(), root, net, solver, schedule, pipeline);
    }

    private static String stripJson(String fileName) {
        return fileName.endsWith(".json") ? fileName.substring(0, fileName.length() - 5) : fileName;
    }

    /** Returns a copy with {@code threads} replaced (the CLI's {@code --threads}). */
    public CortadoConfig withThreads(int t) {
        if (t < 1) {
            throw new ConfigException("--threads: must be >= 1, got " + t);
        }
        return new CortadoConfig(source, name, seed, t, root, net, solver, schedule, pipeline.withThreads(t));
    }
}
