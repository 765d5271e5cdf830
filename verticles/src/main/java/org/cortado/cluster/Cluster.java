package org.cortado.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.cortado.engine.ConfigException;
import org.cortado.engine.config.ClusterConfig;

/**
 * This process as a member of a Cortado cluster: a clustered Vert.x whose cluster manager is
 * Hazelcast, joined by TCP/IP to an explicit member list (multicast and auto-detection off), bound
 * with its event bus to {@code cluster.host}. Failure detection follows {@code heartbeat_seconds} and
 * {@code failure_timeout_seconds}, so a member that dies is dropped in seconds, not Hazelcast's 60; a
 * member cut off from the others (a split) merges back within seconds once it can reach them again.
 */
public final class Cluster {
    /** Seconds between Hazelcast's checks for a split to merge (its default waits 300 s, then 120 s). */
    static final int MERGE_CHECK_SECONDS = 5;
    /** Seconds a join tries the member list before this member starts a cluster of its own. */
    static final int MAX_JOIN_SECONDS = 15;

    private final ClusterConfig config;
    private final Vertx vertx;
    private final HazelcastClusterManager manager;
    private final FramedBusTransport transport;

    private Cluster(ClusterConfig config, Vertx vertx, HazelcastClusterManager manager, FramedBusTransport transport) {
        this.config = config;
        this.vertx = vertx;
        this.manager = manager;
        this.transport = transport;
    }

    /** The Hazelcast config of {@code c}: Vert.x's own (its maps and semaphores), with our network and timeouts. */
    static Config hazelcast(ClusterConfig c) {
        Config hz = ConfigUtil.loadConfig();
        hz.setClusterName(c.name());
        hz.setProperty("hazelcast.wait.seconds.before.join", "0");
        // A member address where another program listens (a port in use) is given up after this, not Hazelcast's 300 s.
        hz.setProperty("hazelcast.max.join.seconds", String.valueOf(MAX_JOIN_SECONDS));
        hz.setProperty("hazelcast.heartbeat.interval.seconds", String.valueOf(c.heartbeatSeconds()));
        hz.setProperty("hazelcast.max.no.heartbeat.seconds", String.valueOf(c.failureTimeoutSeconds()));
        hz.setProperty("hazelcast.merge.first.run.delay.seconds", String.valueOf(MERGE_CHECK_SECONDS));
        hz.setProperty("hazelcast.merge.next.run.delay.seconds", String.valueOf(MERGE_CHECK_SECONDS));
        hz.setProperty("hazelcast.phone.home.enabled", "false");
        hz.setProperty("hazelcast.logging.type", "slf4j");
        var net = hz.getNetworkConfig();
        net.setPort(c.port()).setPortAutoIncrement(true).setPortCount(100);
        if (!c.host().equals("0.0.0.0")) {
            net.getInterfaces().setEnabled(true).addInterface(c.host());
            hz.setProperty("hazelcast.local.localAddress", c.host());
        }
        JoinConfig join = net.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(true).setMembers(c.members());
        return hz;
    }

    /**
     * Joins the cluster of {@code c} (blocks until joined, at most a minute). {@code log} hears of
     * splits: when this member was cut off from the others and when it merged back.
     */
    public static Cluster join(ClusterConfig c, Consumer<String> log) {
        // On 0.0.0.0 the event bus takes the Hazelcast member's own address: the host it is given is also
        // the one it tells the other members to connect to, and 0.0.0.0 there is their own machine.
        EventBusOptions bus = new EventBusOptions();
        if (!c.host().equals("0.0.0.0")) {
            bus.setHost(c.host());
        }
        VertxOptions options = new VertxOptions().setEventBusOptions(bus);
        Config hz = hazelcast(c);
        hz.addListenerConfig(new com.hazelcast.config.ListenerConfig((com.hazelcast.core.LifecycleListener) e -> {
            if (e.getState() == LifecycleEvent.LifecycleState.MERGING) {
                log.accept("cluster: this member was cut off from the rest of cluster \"" + c.name() + "\" (a split: the network,"
                        + " or a pause longer than failure_timeout_seconds = " + c.failureTimeoutSeconds()
                        + ") and is merging back into it");
            } else if (e.getState() == LifecycleEvent.LifecycleState.MERGED) {
                log.accept("cluster: merged back into cluster \"" + c.name() + "\" after a split");
            } else if (e.getState() == LifecycleEvent.LifecycleState.MERGE_FAILED) {
                log.accept("cluster: could not merge back into cluster \"" + c.name() + "\" after a split; restart this member");
            }
        }));
        HazelcastClusterManager manager = new HazelcastClusterManager(hz);
        try {
            FramedBusTransport transport = new FramedBusTransport();
            Vertx vertx = Vertx.builder().with(options).withClusterManager(manager).withTransport(transport)
                    .buildClustered().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
            transport.eventBusPort(manager.getNodeInfo().port());
            return new Cluster(c, vertx, manager, transport);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new ConfigException("cluster: cannot join \"" + c.name() + "\" at " + c.members() + " from " + c.host()
                    + ":" + c.port() + ": " + e.getCause().getMessage() + foreign(c));
        } catch (InterruptedException | java.util.concurrent.TimeoutException e) {
            throw new ConfigException("cluster: no answer joining \"" + c.name() + "\" at " + c.members() + " within 60 s");
        }
    }

    /** Why a join failed when a member address is held by a program that does not speak Hazelcast, else "". */
    private static String foreign(ClusterConfig c) {
        List<String> held = listening(c.members(), null);
        return held.isEmpty() ? "" : "; " + String.join(", ", held) + " accepts connections but did not answer as a member of"
                + " cluster \"" + c.name() + "\" within " + MAX_JOIN_SECONDS + " s: the port is in use by another program; choose"
                + " another port (cluster.port and cluster.members, or a worker's --join and --port)";
    }

    /** The addresses of {@code members} (other than {@code self}) where something accepts a TCP connection. */
    private static List<String> listening(List<String> members, String self) {
        List<String> held = new java.util.ArrayList<>();
        for (String m : members) {
            int colon = m.lastIndexOf(':');
            String host = colon < 0 ? m : m.substring(0, colon);
            int port = colon < 0 ? ClusterConfig.DEFAULT.port() : Integer.parseInt(m.substring(colon + 1));
            if ((host + ":" + port).equals(self)) {
                continue;
            }
            try (var socket = new java.net.Socket()) {
                socket.connect(new java.net.InetSocketAddress(host, port), 1000);
                held.add(host + ":" + port);
            } catch (java.io.IOException | RuntimeException nothingThere) {
                // nothing listens there
            }
        }
        return held;
    }

    public ClusterConfig config() {
        return config;
    }

    public Vertx vertx() {
        return vertx;
    }

    /** The transport under this member's Vert.x (how many event-bus connections it frames). */
    FramedBusTransport transport() {
        return transport;
    }

    HazelcastInstance hazelcast() {
        return manager.getHazelcastInstance();
    }

    /** The port this member listens on: {@code cluster.port}, or a later one when that was taken. */
    public int port() {
        return hazelcast().getCluster().getLocalMember().getAddress().getPort();
    }

    /** {@code host:port} of this member. */
    public String address() {
        var a = hazelcast().getCluster().getLocalMember().getAddress();
        return a.getHost() + ":" + a.getPort();
    }

    /** {@code host:port} where the other members reach this member's event bus. */
    public String eventBusAddress() {
        var info = manager.getNodeInfo();
        return info.host() + ":" + info.port();
    }

    /** How many members the cluster has, this one included. */
    public int size() {
        return hazelcast().getCluster().getMembers().size();
    }

    /**
     * What a user should know right after joining, or null: that {@code cluster.port} was taken (so
     * this member listens on another port), and, for a member that expected others, that it found none.
     */
    public String notice(boolean expectsOthers) {
        StringBuilder s = new StringBuilder();
        if (port() != config.port()) {
            s.append("cluster: port ").append(config.port()).append(" on ").append(config.host())
                    .append(" is in use (by another cluster member or program), so this member listens on ").append(port()).append(". ");
        }
        if (expectsOthers && size() == 1) {
            List<String> held = listening(config.members(), address());
            s.append("cluster: joined no one: ").append(held.isEmpty()
                    ? "nothing listens at " + config.members() + " (not started yet, or another host or port)"
                    : String.join(", ", held) + " listens but is not a member of cluster \"" + config.name()
                    + "\" (a cluster of another name: see its cluster.name, and --cluster-name here; or another program)")
                    .append("; this member waits for one to join it.");
        }
        return s.isEmpty() ? null : s.toString().trim();
    }

    /** Leaves the cluster. */
    public Future<Void> close() {
        return vertx.close();
    }
}
