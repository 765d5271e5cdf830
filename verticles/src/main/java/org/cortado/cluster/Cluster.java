package org.cortado.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.concurrent.TimeUnit;
import org.cortado.engine.ConfigException;
import org.cortado.engine.config.ClusterConfig;

/**
 * Joins (or starts) a Cortado cluster: a clustered Vert.x whose cluster manager is Hazelcast, joined
 * by TCP/IP to an explicit member list (multicast and auto-detection off), bound with its event bus
 * to {@code cluster.host}. Failure detection follows {@code heartbeat_seconds} and
 * {@code failure_timeout_seconds}, so a member that dies is dropped in seconds, not Hazelcast's 60.
 */
public final class Cluster {
    private Cluster() {}

    /** The Hazelcast config of {@code c}: Vert.x's own (its maps and semaphores), with our network and timeouts. */
    static Config hazelcast(ClusterConfig c) {
        Config hz = ConfigUtil.loadConfig();
        hz.setClusterName(c.name());
        hz.setProperty("hazelcast.wait.seconds.before.join", "0");
        hz.setProperty("hazelcast.heartbeat.interval.seconds", String.valueOf(c.heartbeatSeconds()));
        hz.setProperty("hazelcast.max.no.heartbeat.seconds", String.valueOf(c.failureTimeoutSeconds()));
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

    /** A clustered Vert.x in the cluster of {@code c} (blocks until joined, at most a minute). */
    public static Vertx join(ClusterConfig c) {
        VertxOptions options = new VertxOptions().setEventBusOptions(new EventBusOptions().setHost(c.host()));
        try {
            return Vertx.builder().with(options).withClusterManager(new HazelcastClusterManager(hazelcast(c)))
                    .buildClustered().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new ConfigException("cluster: cannot join \"" + c.name() + "\" at " + c.members() + " from " + c.host()
                    + ":" + c.port() + ": " + e.getCause().getMessage());
        } catch (InterruptedException | java.util.concurrent.TimeoutException e) {
            throw new ConfigException("cluster: no answer joining \"" + c.name() + "\" at " + c.members() + " within 60 s");
        }
    }
}
