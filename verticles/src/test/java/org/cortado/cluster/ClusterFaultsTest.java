package org.cortado.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.cortado.engine.ConfigException;
import org.cortado.engine.config.ClusterConfig;
import org.cortado.engine.config.Json;
import org.cortado.engine.config.PipelineConfig;
import org.cortado.pipeline.Addresses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What a user hears when the cluster is not what they meant: a second run on a busy cluster, a
 * cluster of another name, a port in use (by a member, or by another program at a member address),
 * and a member cut off from the others (a split) that merges back.
 */
class ClusterFaultsTest {
    private final List<Cluster> members = new ArrayList<>();
    private final int port = 20000 + new java.util.Random().nextInt(20000);

    @AfterEach
    void leave() throws Exception {
        for (Cluster c : members) {
            c.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    private Cluster join(String name, int port, int memberPort, List<String> said) {
        Cluster c = Cluster.join(new ClusterConfig(name, "127.0.0.1", port, List.of("127.0.0.1:" + memberPort), 1, 4), said::add);
        members.add(c);
        return c;
    }

    /** Bound to every interface, a member still tells the others an address they can reach its event bus at. */
    @Test
    void onEveryInterfaceTheEventBusSaysARealAddress() {
        Cluster c = Cluster.join(new ClusterConfig("any-" + port, "0.0.0.0", port, List.of("127.0.0.1:" + port), 1, 4), s -> { });
        members.add(c);
        String host = c.eventBusAddress().substring(0, c.eventBusAddress().lastIndexOf(':'));
        assertNotEquals("0.0.0.0", host, c.eventBusAddress());
        assertEquals(c.address().substring(0, c.address().lastIndexOf(':')), host, "the Hazelcast member's host");
    }

    @Test
    void aSecondRunOnABusyClusterIsRefused() throws Exception {
        String name = "busy-" + port;
        Cluster first = join(name, port, port, new ArrayList<>());
        ClusterRun.refuseSecondRun(first.vertx(), first.config()); // no run yet: fine
        first.vertx().eventBus().<JsonObject>consumer(ClusterRun.ADDRESS, m -> m.reply(new JsonObject().put("run", "r1")
                .put("node", "123@there"))).completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        Cluster second = join(name, port + 1, port, new ArrayList<>());
        assertEquals(2, second.size());
        ConfigException e = assertThrows(ConfigException.class, () -> ClusterRun.refuseSecondRun(second.vertx(), second.config()));
        assertTrue(e.getMessage().startsWith("cluster \"" + name + "\" already trains run r1 (coordinator 123@there);"), e.getMessage());
        assertTrue(e.getMessage().contains("cluster.name"), "says what to change: " + e.getMessage());
    }

    @Test
    void aMemberOfAnotherClusterNameIsNamedAsSuch() {
        join("a-" + port, port, port, new ArrayList<>());
        Cluster b = join("b-" + port, port + 1, port, new ArrayList<>());
        assertEquals(1, b.size(), "not joined");
        String notice = b.notice(true);
        assertTrue(notice != null && notice.startsWith("cluster: joined no one: 127.0.0.1:" + port
                + " listens but is not a member of cluster \"b-" + port + "\" (a cluster of another name"), notice);
    }

    @Test
    void nothingAtTheMemberAddressIsSaid() {
        Cluster alone = join("alone-" + port, port, port + 7, new ArrayList<>());
        assertEquals("cluster: joined no one: nothing listens at [127.0.0.1:" + (port + 7) + "] (not started yet, or another host or"
                + " port); this member waits for one to join it.", alone.notice(true));
        assertNull(alone.notice(false), "a coordinator expects no one");
    }

    @Test
    void aPortInUseMovesToTheNextAndSaysSo() throws Exception {
        try (ServerSocket taken = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
            Cluster c = join("moved-" + port, port, port + 1, new ArrayList<>());
            assertEquals(port + 1, c.port());
            assertEquals("cluster: port " + port + " on 127.0.0.1 is in use (by another cluster member or program), so this member"
                    + " listens on " + (port + 1) + ".", c.notice(false));
        }
    }

    @Test
    void anotherProgramAtTheMemberAddressIsNamed() throws Exception {
        try (ServerSocket foreign = new ServerSocket(port, 5, InetAddress.getByName("127.0.0.1"))) {
            ConfigException e = assertThrows(ConfigException.class, () -> join("foreign-" + port, port + 3, port, new ArrayList<>()));
            assertTrue(e.getMessage().contains("127.0.0.1:" + port + " accepts connections but did not answer as a member of cluster"
                    + " \"foreign-" + port + "\" within " + Cluster.MAX_JOIN_SECONDS + " s: the port is in use by another program"),
                    e.getMessage());
        }
    }

    @Test
    void aMemberCutOffFromTheOthersSaysSoAndMergesBack() throws Exception {
        String name = "split-" + port;
        List<String> coordinator = new CopyOnWriteArrayList<>();
        Cluster c = join(name, port, port, coordinator);
        c.vertx().deployVerticle(new Members(c, new Addresses("split"), PipelineConfig.parse(Json.parse("{}", "test"), 0),
                coordinator::add)).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        var w = ClusterExactlyOnceTest.worker(name, port, port + 1);
        try {
            ClusterExactlyOnceTest.await(60, "the worker to join", () -> w.said("waiting for a run"), List.of(w));
            ClusterExactlyOnceTest.await(10, "the coordinator to see it", () -> coordinator.stream()
                    .anyMatch(l -> l.equals("cluster: member 127.0.0.1:" + (port + 1) + " joined (2 members)")), List.of(w));
            // A pause longer than the failure timeout (4 s here) is a split: the coordinator drops the worker ...
            new ProcessBuilder("kill", "-STOP", String.valueOf(w.process().pid())).start().waitFor();
            try {
                ClusterExactlyOnceTest.await(30, "the coordinator to drop the paused worker", () -> coordinator.stream()
                        .anyMatch(l -> l.equals("cluster: member at 127.0.0.1:" + (port + 1) + " left (1 members)")), List.of(w));
            } finally {
                new ProcessBuilder("kill", "-CONT", String.valueOf(w.process().pid())).start().waitFor();
            }
            // ... and the worker, back, hears it was cut off and merges back in.
            ClusterExactlyOnceTest.await(60, "the worker to merge back", () -> w.said("worker: cluster: merged back into cluster \""
                    + name + "\" after a split"), List.of(w));
            assertTrue(w.said("worker: cluster: this member was cut off from the rest of cluster \"" + name + "\" (a split: the network,"
                    + " or a pause longer than failure_timeout_seconds"), String.join("\n", w.lines()));
            ClusterExactlyOnceTest.await(10, "the coordinator to see it again", () -> coordinator.stream()
                    .filter(l -> l.equals("cluster: member 127.0.0.1:" + (port + 1) + " joined (2 members)")).count() == 2, List.of(w));
        } finally {
            w.process().destroyForcibly();
        }
    }
}
