package org.cortado.engine;

import java.nio.file.Files;
import java.nio.file.Path;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.config.Json;

/** Test access to the configs in the repo's conf/ folder and to small configs written inline. */
public final class Configs {
    private Configs() {}

    /** The repo's conf/ folder (tests run with the module folder as working directory). */
    public static Path conf(String file) {
        Path p = Path.of("..", "conf", file);
        if (!Files.exists(p)) {
            throw new IllegalStateException("conf/" + file + " not found from " + Path.of("").toAbsolutePath());
        }
        return p;
    }

    public static CortadoConfig load(String confFile) {
        return CortadoConfig.load(conf(confFile));
    }

    /** A config from inline JSON text (single quotes allowed for readability). */
    public static CortadoConfig parse(String json) {
        return CortadoConfig.from(Json.parse(json.replace('\'', '"'), "test.json"), "test.json", "test");
    }

    /** A config around a {@code layers} array and solver fields, version 1. */
    public static CortadoConfig net(String layers, String solver) {
        return parse("{'version':1,'seed':3,'net':{'name':'t','layers':[" + layers + "]},'solver':{'max_iter':10"
                + (solver.isEmpty() ? "" : "," + solver) + "},'pipeline':{'threads':2}}");
    }
}
