package org.cortado.engine.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
 * {@code snapshot} are read into {@link PipelineConfig}, {@code dashboard} into {@link DashboardConfig}, {@code cluster} into {@link ClusterConfig}.
 */
public record CortadoConfig(String source, String name, long seed, int threads, Json root, Json net, Json solver,
                            Schedule schedule, PipelineConfig pipeline, DashboardConfig dashboard,
                            ClusterConfig cluster) {

    public static final int VERSION = 1;

    public static CortadoConfig load(Path file) {
        return from(Json.read(file), file.toString(), stripJson(file.getFileName().toString()));
    }

    /**
     * Reads an already-parsed config; {@code source} names it in errors. The top-level fields, the
     * schedule and the pipeline are checked independently: every problem found is reported at once
     * (see {@link org.cortado.engine.ConfigException#problems()}).
     */
    public static CortadoConfig from(Json root, String source, String defaultName) {
        List<String> problems = new ArrayList<>();
        int version = collect(problems, () -> root.getInt("version", -1), -1);
        if (version != VERSION && problems.isEmpty()) {
            problems.add(root.error("version", version == -1 ? "required (the config format version, " + VERSION + ")"
                    : "unsupported config version " + version + "; this Cortado reads version " + VERSION).getMessage());
        }
        String name = collect(problems, () -> root.getString("name", defaultName), defaultName);
        collect(problems, () -> root.getString("description", ""), "");
        long seed = collect(problems, () -> root.getLong("seed", 1), 1L);
        Json net = collect(problems, () -> root.object("net"), null);
        Json solver = collect(problems, () -> root.object("solver"), null);
        Schedule schedule = solver == null ? null : collect(problems, () -> Schedule.parse(solver), null);
        PipelineConfig pipeline = collect(problems, () -> PipelineConfig.parse(root, schedule == null ? 0 : schedule.snapshot()), null);
        DashboardConfig dashboard = collect(problems, () -> DashboardConfig.parse(root), DashboardConfig.DEFAULT);
        ClusterConfig cluster = collect(problems, () -> ClusterConfig.parse(root), ClusterConfig.DEFAULT);
        // Sections owned by the data loaders and augmenters: read there.
        root.markUsed("data", "augment");
        collect(problems, () -> {
            root.rejectUnknown();
            return null;
        }, null);
        if (!problems.isEmpty()) {
            throw new ConfigException(problems.stream().map(p -> source + ": " + p).toList());
        }
        return new CortadoConfig(source, name, seed, pipeline.threads(), root, net, solver, schedule, pipeline, dashboard, cluster);
    }

    /** Runs one check; a {@link ConfigException} adds its problems and gives {@code fallback}. */
    public static <T> T collect(List<String> problems, java.util.function.Supplier<T> check, T fallback) {
        try {
            return check.get();
        } catch (ConfigException e) {
            problems.addAll(e.problems());
            return fallback;
        }
    }

    private static String stripJson(String fileName) {
        return fileName.endsWith(".json") ? fileName.substring(0, fileName.length() - 5) : fileName;
    }

    /** Returns a copy with {@code threads} replaced (the CLI's {@code --threads}). */
    public CortadoConfig withThreads(int t) {
        if (t < 1) {
            throw new ConfigException("--threads: must be >= 1, got " + t);
        }
        return new CortadoConfig(source, name, seed, t, root, net, solver, schedule, pipeline.withThreads(t), dashboard, cluster);
    }
}
