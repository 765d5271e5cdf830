package org.cortado.engine.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.cortado.engine.ConfigException;
import org.junit.jupiter.api.Test;

class ClusterConfigTest {

    private static ClusterConfig parse(String cluster) {
        return ClusterConfig.parse(Json.parse("{\"cluster\": " + cluster + "}", "test"));
    }

    @Test
    void defaultsAreLoopbackWithAShortFailureTimeout() {
        ClusterConfig c = ClusterConfig.parse(Json.parse("{}", "test"));
        assertEquals(ClusterConfig.DEFAULT, c);
        assertEquals("127.0.0.1", c.host());
        assertEquals(List.of("127.0.0.1"), c.members());
        assertTrue(c.failureTimeoutSeconds() < 60, "well under Hazelcast's 60 s");
        ClusterConfig set = parse("{\"name\": \"lab\", \"host\": \"10.0.0.5\", \"port\": 6000, \"members\": [\"10.0.0.5\", \"10.0.0.6:6000\"],"
                + " \"heartbeat_seconds\": 2, \"failure_timeout_seconds\": 10}");
        assertEquals(new ClusterConfig("lab", "10.0.0.5", 6000, List.of("10.0.0.5", "10.0.0.6:6000"), 2, 10), set);
        assertEquals(List.of("h:1"), set.joining("h:1").members());
    }

    @Test
    void badValuesNameTheirPath() {
        assertTrue(assertThrows(ConfigException.class, () -> parse("{\"port\": 70000}")).getMessage().contains("cluster.port"));
        assertTrue(assertThrows(ConfigException.class, () -> parse("{\"members\": []}")).getMessage().contains("cluster.members"));
        assertTrue(assertThrows(ConfigException.class, () -> parse("{\"heartbeat_seconds\": 5, \"failure_timeout_seconds\": 5}"))
                .getMessage().contains("cluster.failure_timeout_seconds"));
        assertTrue(assertThrows(ConfigException.class, () -> parse("{\"multicast\": true}")).getMessage().contains("multicast"));
        assertTrue(assertThrows(ConfigException.class, () -> parse("{\"name\": \"\"}")).getMessage().contains("cluster.name"));
    }

    @Test
    void theExampleConfigValidates() {
        Path file = Path.of("..", "conf", "lenet-fashion-mnist-cluster.json");
        CortadoConfig c = org.cortado.engine.train.ConfigCheck.validate(Json.read(file), file.toString(), "x", file.getParent());
        assertEquals("cortado", c.cluster().name());
        assertEquals(8, c.cluster().failureTimeoutSeconds());
    }
}
