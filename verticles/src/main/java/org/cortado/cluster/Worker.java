package org.cortado.cluster;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.config.Json;
import org.cortado.engine.net.Net;
import org.cortado.engine.net.Phase;
import org.cortado.engine.ops.Parallel;
import org.cortado.engine.train.ConfigCheck;
import org.cortado.engine.train.TrainingData;
import org.cortado.pipeline.Addresses;
import org.cortado.pipeline.AugmenterVerticle;
import org.cortado.pipeline.LoaderGate;
import org.cortado.pipeline.ReplicaVerticle;
import org.cortado.pipeline.RunContext;
import org.cortado.pipeline.ShardLoaderVerticle;
import org.cortado.pipeline.TensorCodec;

/**
 * A cluster member that loads for whatever run the cluster trains ({@code cortado worker}): every
 * second it asks for the run ({@link ClusterRun}); for a new run it opens the run's data (relative
 * paths against {@code --data-root}, else the coordinator's folders: a shared path) and deploys its
 * Augmenters, ShardLoaders and the {@link LoaderGate} on the run's addresses, where the event bus
 * spreads the coordinator's batch requests evenly over the members' gates; when the run no longer
 * answers it lets go of it and waits for the next. A worker with {@code --replica} also deploys a
 * {@link ReplicaVerticle} and says every second that it is ready; the coordinator then gives it a share
 * of each step.
 */
public final class Worker {
    private final Vertx vertx;
    private final String address;
    private final int loaders;
    private final int augmenters;
    private final boolean replica;
    private final Path dataRoot;
    private final Consumer<String> log;
    private String current;
    private boolean busy;
    private boolean asking;
    /** Why this worker cannot load for the current run, or null. */
    private String refusal;
    private int misses;
    private int idle;
    private final List<String> deployments = new ArrayList<>();
    private TrainingData data;

    /** A worker on the member {@code cluster}. */
    public Worker(Cluster cluster, int loaders, int augmenters, boolean replica, Path dataRoot, Consumer<String> log) {
        this(cluster.vertx(), cluster.address(), loaders, augmenters, replica, dataRoot, log);
    }

    /** {@code address}: the member address it tells the coordinator it serves from. */
    Worker(Vertx vertx, String address, int loaders, int augmenters, boolean replica, Path dataRoot, Consumer<String> log) {
        this.vertx = vertx;
        this.address = address;
        this.loaders = loaders;
        this.augmenters = augmenters;
        this.replica = replica;
        this.dataRoot = dataRoot;
        this.log = log;
    }

    /** Starts asking for runs, once a second. */
    public void start() {
        try {
            TensorCodec.register(vertx.eventBus());
        } catch (IllegalStateException alreadyRegistered) {
            // one codec per event bus
        }
        vertx.setPeriodic(0, 1000, t -> poll());
    }

    private void poll() {
        // One question at a time: a second answer arriving while the first one's run is being opened
        // would open and deploy it twice.
        if (busy || asking) {
            return;
        }
        asking = true;
        vertx.eventBus().<JsonObject>request(ClusterRun.ADDRESS, new JsonObject(), new DeliveryOptions().setSendTimeout(1500))
                .onComplete(r -> asking = false)
                .onSuccess(m -> {
                    misses = 0;
                    idle = 0;
                    String run = m.body().getString("run");
                    if (run.equals(current) && !deployments.isEmpty()) {
                        // said every second: a coordinator that lost sight of this member (a split) learns of it again
                        hello(run);
                    } else if (run.equals(current) && refusal != null) {
                        // also said every second (the coordinator logs it once): the run is announced before its
                        // coordinator listens, so the first notice may have found no one
                        vertx.eventBus().send(new Addresses(run).coordinatorNotices(), new JsonObject().put("message", refusal));
                    }
                    if (!run.equals(current)) {
                        busy = true;
                        release().compose(v -> serve(m.body())).onComplete(r -> {
                            busy = false;
                            if (r.failed()) {
                                String why = "worker " + Addresses.NODE + " cannot load for run " + run + ": " + r.cause().getMessage();
                                log.accept(why);
                                // the coordinator logs it once; the run goes on with the other members' loaders
                                vertx.eventBus().send(new Addresses(run).coordinatorNotices(), new JsonObject().put("message", why));
                                current = run; // not opened again; tried again only for another run
                                refusal = why;
                            }
                        });
                    }
                })
                .onFailure(e -> {
                    if (current == null && ++idle == 10) {
                        log.accept("no coordinator has answered for 10 s; still waiting. A coordinator is `cortado train CONFIG"
                                + " --cluster`; one in a cluster of another name, or not among the members this worker joined, is never seen");
                    }
                    if (current != null && ++misses >= 3) {
                        log.accept("run " + current + " ended or its coordinator left; waiting for the next run");
                        busy = true;
                        release().onComplete(r -> busy = false);
                    }
                });
    }

    /** Tells the coordinator this member serves {@code run} ({@link Members} logs it and shows it). */
    private void hello(String run) {
        vertx.eventBus().send(new Addresses(run).members(), new JsonObject().put("node", Addresses.NODE).put("address", address)
                .put("loaders", loaders).put("augmenters", augmenters).put("replica", replica));
        if (replica) {
            vertx.eventBus().send(new Addresses(run).replicas(), new JsonObject().put("id", Addresses.NODE));
        }
    }

    /** Opens the run's data and deploys the loaders and augmenters on its addresses. */
    private Future<Void> serve(JsonObject info) {
        String run = info.getString("run");
        return vertx.executeBlocking(() -> open(info)).compose(ctx -> {
            DeploymentOptions threads = new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)
                    .setWorkerPoolName("cortado-worker-" + run + "-data").setWorkerPoolSize(Math.max(loaders, augmenters));
            // augmenters, loaders, then the gate: no request is taken before what answers it is there
            Future<String> f = vertx.deployVerticle(() -> new AugmenterVerticle(ctx), new DeploymentOptions(threads).setInstances(augmenters))
                    .onSuccess(deployments::add)
                    .compose(x -> vertx.deployVerticle(() -> new ShardLoaderVerticle(ctx), new DeploymentOptions(threads).setInstances(loaders)))
                    .onSuccess(deployments::add)
                    .compose(x -> vertx.deployVerticle(new LoaderGate(ctx.addresses()), threads))
                    .onSuccess(deployments::add);
            if (replica) {
                f = f.compose(x -> vertx.deployVerticle(new ReplicaVerticle(ctx.addresses(), ctx.config(), Addresses.NODE),
                        new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER).setWorkerPoolName("cortado-worker-" + run
                                + "-replica").setWorkerPoolSize(1).setMaxWorkerExecuteTime(1)
                                .setMaxWorkerExecuteTimeUnit(java.util.concurrent.TimeUnit.HOURS))).onSuccess(deployments::add);
            }
            return f.map(x -> {
                current = run;
                log.accept("serving run " + run + ": " + loaders + " loaders, " + augmenters + " augmenters"
                        + (replica ? ", and a replica of the net" : ""));
                hello(run);
                return (Void) null;
            });
        });
    }

    private RunContext open(JsonObject info) {
        ObjectNode root = Json.parse(info.getString("config"), "the run's config").copyNode();
        Path cwd = dataRoot != null ? dataRoot : Path.of(info.getString("cwd"));
        Path configDir = dataRoot != null ? dataRoot : Path.of(info.getString("config_dir"));
        var dataNode = root.path("data");
        if (dataNode instanceof ObjectNode d) {
            d.remove("prepare"); // the coordinator prepared it; a worker reads what is there
            for (String phase : List.of("train", "test")) {
                if (d.path(phase) instanceof ObjectNode src && src.path("source").isTextual()) {
                    Path p = Path.of(src.path("source").asText());
                    if (!p.isAbsolute()) {
                        src.put("source", cwd.resolve(p).normalize().toString());
                    }
                }
            }
        }
        CortadoConfig config = ConfigCheck.validate(Json.of(root, ""), "run " + info.getString("run"), "run", configDir);
        Net net = Net.build(config.net(), Phase.TRAIN, new Parallel(1), config.seed());
        TrainingData opened = TrainingData.open(config, net, configDir, log);
        if (info.containsKey("fingerprint") && !opened.fingerprint().equals(info.getString("fingerprint"))) {
            String here = opened.description();
            opened.close();
            throw new org.cortado.engine.ConfigException("refused: this worker's data differs from the coordinator's."
                    + " Here " + here + "; there " + info.getString("data"));
        }
        data = opened;
        return new RunContext(new Addresses(info.getString("run")), config, opened, null, List.of(), List.of(), List.of(),
                net.inputs().get(0).dim(0), null, 0, null, null, RunContext.Hooks.NONE, configDir, 1, log, -1);
    }

    /** Undeploys what serves the current run and closes its data. */
    private Future<Void> release() {
        Future<?> f = Future.succeededFuture();
        for (String id : List.copyOf(deployments).reversed()) { // the gate first: no request taken that no loader answers
            f = f.eventually(() -> vertx.undeploy(id).otherwiseEmpty());
        }
        deployments.clear();
        return f.map(x -> {
            if (data != null) {
                data.close();
                data = null;
            }
            current = null;
            refusal = null;
            misses = 0;
            return (Void) null;
        });
    }
}
