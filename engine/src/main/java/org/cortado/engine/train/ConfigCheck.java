package org.cortado.engine.train;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.cortado.engine.ConfigException;
import org.cortado.engine.CortadoException;
import org.cortado.engine.augment.Augmentation;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.config.Json;
import org.cortado.engine.data.SourceConfig;
import org.cortado.engine.layers.LayerConfig;
import org.cortado.engine.net.Net;
import org.cortado.engine.net.Phase;
import org.cortado.engine.ops.Parallel;
import org.cortado.engine.solver.Solver;

/**
 * Checks a whole config before anything starts, and reports every problem at once, each with its
 * JSON path: the top level, schedule and pipeline ({@link CortadoConfig#from}), the solver, each
 * layer's generic fields, the net built for TRAIN and for TEST (a layer's own fields, wiring,
 * shapes), the {@code data} sources and the {@code augment} steps. Sections are checked
 * independently; within one layer or step the first problem is reported.
 */
public final class ConfigCheck {
    private ConfigCheck() {}

    /** The validated config of {@code root}, or a {@link ConfigException} listing every problem. */
    public static CortadoConfig validate(Json root, String source, String defaultName, Path configDir) {
        List<String> problems = new ArrayList<>();
        CortadoConfig cfg = null;
        try {
            cfg = CortadoConfig.from(root, source, defaultName);
        } catch (ConfigException e) {
            problems.addAll(e.problems());
        }
        Json net = root.node().has("net") && root.node().get("net").isObject() ? Json.of(root.node().get("net"), "net") : null;
        Json solver = root.node().has("solver") && root.node().get("solver").isObject()
                ? Json.of(root.node().get("solver"), "solver") : null;
        if (solver != null) {
            CortadoConfig.collect(problems, () -> Solver.create(solver), null);
            solver.markUsed(Solver.KEYS.toArray(String[]::new));
            solver.markUsed("max_iter", "test_interval", "test_iter", "test_initialization", "display", "snapshot",
                    "snapshot_prefix");
            CortadoConfig.collect(problems, () -> {
                solver.rejectUnknown();
                return null;
            }, null);
        }
        boolean layersOk = net != null;
        if (net != null && net.node().path("layers").isArray()) {
            int i = 0;
            for (var layer : net.node().get("layers")) {
                Json lj = Json.of(layer, "net.layers[" + i++ + "]");
                if (CortadoConfig.collect(problems, () -> LayerConfig.parse(lj), null) == null) {
                    layersOk = false;
                }
            }
        }
        if (layersOk) {
            try (Parallel p = new Parallel(1)) {
                List<String> netProblems = new ArrayList<>();
                for (Phase phase : Phase.values()) {
                    List<String> mine = new ArrayList<>();
                    buildQuietly(mine, net, phase, p);
                    for (String m : mine) {
                        if (!netProblems.contains(m)) {
                            netProblems.add(m);
                        }
                    }
                }
                problems.addAll(netProblems);
            }
        }
        root.optObject("data").ifPresent(d -> CortadoConfig.collect(problems, () -> {
            Json data = Json.of(d.node(), "data");
            data.getString("prepare", "");
            return SourceConfig.parseAll(data);
        }, null));
        CortadoConfig.collect(problems, () -> Augmentation.fromConfig(root, configDir), null);
        if (!problems.isEmpty()) {
            throw new ConfigException(problems.stream().distinct().map(p -> p.startsWith(source) ? p : source + ": " + p).toList());
        }
        return cfg;
    }

    private static void buildQuietly(List<String> problems, Json net, Phase phase, Parallel p) {
        try {
            Net.build(Json.of(net.node(), "net"), phase, p, 1);
        } catch (ConfigException e) {
            problems.addAll(e.problems());
        } catch (CortadoException e) {
            problems.add("net (" + phase + " phase): " + e.getMessage());
        }
    }

    /** Loads and validates a config file (see {@link #validate}). */
    public static CortadoConfig load(Path file) {
        String name = file.getFileName().toString().replaceFirst("\\.json$", "");
        return validate(Json.read(file), file.toString(), name, file.toAbsolutePath().getParent());
    }
}
