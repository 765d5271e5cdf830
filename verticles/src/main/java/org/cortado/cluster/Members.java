package org.cortado.cluster;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.cortado.engine.config.PipelineConfig;
import org.cortado.pipeline.Addresses;

/**
 * The coordinator's view of its cluster: logs every member that joins or leaves and every worker
 * that starts serving the run, and publishes the members table on {@link Addresses#cluster} once a
 * second: per member its node ({@code pid@host}), address, role, loaders and augmenters, whether it is
 * a data-parallel replica, and the batches it has served (counted by the coordinator, {@link
 * Addresses#coordinatorNodes}) in all and per second. Members that left stay in the table, marked so.
 */
public final class Members extends VerticleBase {
    /** Left members kept in the table. */
    static final int KEEP_LEFT = 20;

    private final Cluster cluster;
    private final Addresses addresses;
    private final PipelineConfig pipeline;
    private final Consumer<String> log;
    private final Map<String, JsonObject> members = new LinkedHashMap<>(); // address -> row
    private final Map<String, Long> lastServed = new LinkedHashMap<>();
    private long lastNanos;
    private UUID listener;

    public Members(Cluster cluster, Addresses addresses, PipelineConfig pipeline, Consumer<String> log) {
        this.cluster = cluster;
        this.addresses = addresses;
        this.pipeline = pipeline;
        this.log = log;
    }

    @Override
    public Future<?> start() {
        long now = System.currentTimeMillis();
        for (var m : cluster.hazelcast().getCluster().getMembers()) {
            members.put(address(m), row(m, now));
        }
        members.get(cluster.address()).put("role", "coordinator").put("node", Addresses.NODE).put("loaders", pipeline.loaders())
                .put("augmenters", pipeline.augmenters());
        Context here = context;
        listener = cluster.hazelcast().getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent e) {
                here.runOnContext(v -> reconcile());
            }

            @Override
            public void memberRemoved(MembershipEvent e) {
                here.runOnContext(v -> reconcile());
            }
        });
        vertx.setPeriodic(1000, t -> publish());
        return vertx.eventBus().<JsonObject>consumer(addresses.members(), m -> serving(m.body())).completion();
    }

    @Override
    public Future<?> stop() {
        cluster.hazelcast().getCluster().removeMembershipListener(listener);
        return Future.succeededFuture();
    }

    private static String address(com.hazelcast.cluster.Member m) {
        return m.getAddress().getHost() + ":" + m.getAddress().getPort();
    }

    private static JsonObject row(com.hazelcast.cluster.Member m, long now) {
        return new JsonObject().put("member", m.getUuid().toString()).put("address", address(m))
                .put("role", "member").put("state", "up").put("since", now).put("batches", 0L).put("batches_per_sec", 0.0);
    }

    /**
     * Brings the table in line with Hazelcast's member list and logs what changed. Rows are keyed by
     * address: a member that merges back after a split comes back under a new member id.
     */
    private void reconcile() {
        long now = System.currentTimeMillis();
        Map<String, com.hazelcast.cluster.Member> current = new LinkedHashMap<>();
        cluster.hazelcast().getCluster().getMembers().forEach(m -> current.put(address(m), m));
        for (var e : current.entrySet()) {
            JsonObject row = members.get(e.getKey());
            if (row == null || !row.getString("state").equals("up")) {
                JsonObject fresh = row(e.getValue(), now);
                if (row != null && row.getString("role").equals("coordinator")) {
                    fresh = row.put("state", "up").put("since", now);
                }
                members.put(e.getKey(), fresh);
                log.accept("cluster: member " + e.getKey() + " joined (" + current.size() + " members)");
            }
            members.get(e.getKey()).put("member", e.getValue().getUuid().toString());
        }
        for (JsonObject row : members.values()) {
            if (row.getString("state").equals("up") && !current.containsKey(row.getString("address"))) {
                row.put("state", "left").put("since", now).put("batches_per_sec", 0.0);
                log.accept("cluster: " + describe(row) + " left (" + current.size() + " members)"
                        + (row.getString("role").equals("worker") ? "; the batches it had not sent are requested again after"
                        + " pipeline.request_timeout_ms (" + pipeline.requestTimeoutMs() + " ms)" : ""));
            }
        }
        var gone = members.values().stream().filter(r -> r.getString("state").equals("left")).toList();
        for (int i = 0; i < gone.size() - KEEP_LEFT; i++) {
            members.remove(gone.get(i).getString("address"));
        }
    }

    /** A worker's word that it serves the run (repeated every second, so a member that merged back after a split is known again). */
    private void serving(JsonObject w) {
        JsonObject row = members.get(w.getString("address", ""));
        if (row == null || !row.getString("state").equals("up")) {
            return; // its join has not reached us yet: its next word (a second later) will find it
        }
        boolean news = !row.getString("role").equals("worker") || !w.getString("node").equals(row.getString("node"));
        row.put("role", "worker").put("node", w.getString("node")).put("loaders", w.getInteger("loaders"))
                .put("augmenters", w.getInteger("augmenters")).put("replica", w.getBoolean("replica", false));
        if (!news) {
            return; // workers say it every second
        }
        log.accept("cluster: " + describe(row) + " serves this run with " + w.getInteger("loaders") + " loaders and "
                + w.getInteger("augmenters") + " augmenters" + (w.getBoolean("replica", false) ? ", and a replica of the net" : ""));
    }

    private static String describe(JsonObject row) {
        return row.getString("role") + (row.containsKey("node") ? " " + row.getString("node") : "") + " at " + row.getString("address");
    }

    /** Asks the coordinator what each node has served, and publishes the table. */
    private void publish() {
        vertx.eventBus().<JsonObject>request(addresses.coordinatorNodes(), new JsonObject(), new DeliveryOptions().setSendTimeout(900))
                .onComplete(r -> {
                    if (r.succeeded()) {
                        long now = System.nanoTime(); // the rate over the time since the last answer, not the last question
                        double seconds = lastNanos == 0 ? 0 : (now - lastNanos) / 1e9;
                        lastNanos = now;
                        for (JsonObject row : members.values()) {
                            String node = row.getString("node");
                            if (node == null) {
                                continue;
                            }
                            long served = r.result().body().getLong(node, 0L);
                            long before = lastServed.getOrDefault(node, served);
                            lastServed.put(node, served);
                            row.put("batches", served);
                            if (row.getString("state").equals("up")) {
                                row.put("batches_per_sec", seconds > 0 ? Math.round((served - before) / seconds * 10) / 10.0 : 0.0);
                            }
                        }
                    }
                    JsonArray rows = new JsonArray();
                    members.values().forEach(m -> rows.add(m.copy()));
                    vertx.eventBus().publish(addresses.cluster(), new JsonObject().put("time", System.currentTimeMillis())
                            .put("name", cluster.config().name()).put("members", rows), new DeliveryOptions().setLocalOnly(true));
                });
    }
}
