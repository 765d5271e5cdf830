package org.cortado.engine.config;

import java.util.List;

/**
 * The {@code cluster} section: how {@code cortado train --cluster} and {@code cortado worker} find each
 * other (Hazelcast, TCP/IP join with an explicit member list; never multicast).
 *
 * <pre>{@code
 * "cluster": {
 *   "name": "cortado",             // members of another cluster name are never joined
 *   "host": "127.0.0.1",           // the interface this member binds (Hazelcast and the event bus)
 *   "port": 5701,                  // Hazelcast's first port; the next free one is taken when it is in use
 *   "members": ["127.0.0.1"],      // where to look for other members ("host" or "host:port")
 *   "heartbeat_seconds": 1,        // how often members tell each other they are alive
 *   "failure_timeout_seconds": 8   // a member silent this long is dropped (Hazelcast's default: 60)
 * }
 * }</pre>
 */
public record ClusterConfig(String name, String host, int port, List<String> members, int heartbeatSeconds,
                            int failureTimeoutSeconds) {

    public static final ClusterConfig DEFAULT = new ClusterConfig("cortado", "127.0.0.1", 5701, List.of("127.0.0.1"), 1, 8);

    public ClusterConfig {
        members = List.copyOf(members);
    }

    /** Reads the {@code cluster} section of {@code root} (defaults when absent). */
    public static ClusterConfig parse(Json root) {
        var c = root.optObject("cluster");
        if (c.isEmpty()) {
            return DEFAULT;
        }
        Json j = c.get();
        String name = j.getString("name", DEFAULT.name());
        if (name.isBlank()) {
            throw j.error("name", "must not be empty");
        }
        String host = j.getString("host", DEFAULT.host());
        int port = j.getInt("port", DEFAULT.port());
        if (port < 1 || port > 65535) {
            throw j.error("port", "must be a TCP port (1-65535), got " + port);
        }
        List<String> members = j.has("members") ? j.strings("members") : DEFAULT.members();
        if (members.isEmpty()) {
            throw j.error("members", "must name at least one address to look for members at, e.g. [\"127.0.0.1\"]");
        }
        int heartbeat = j.positive("heartbeat_seconds", j.getInt("heartbeat_seconds", DEFAULT.heartbeatSeconds()));
        int timeout = j.positive("failure_timeout_seconds", j.getInt("failure_timeout_seconds", DEFAULT.failureTimeoutSeconds()));
        if (timeout <= heartbeat) {
            throw j.error("failure_timeout_seconds", "must be longer than heartbeat_seconds (" + heartbeat + "), got " + timeout);
        }
        j.rejectUnknown();
        return new ClusterConfig(name, host, port, members, heartbeat, timeout);
    }

    /** This config joining {@code member} ("host" or "host:port"), the CLI's {@code --join}. */
    public ClusterConfig joining(String member) {
        return new ClusterConfig(name, host, port, List.of(member), heartbeatSeconds, failureTimeoutSeconds);
    }
}
