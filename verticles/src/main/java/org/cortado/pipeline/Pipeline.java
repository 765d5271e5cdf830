package org.cortado.pipeline;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.cortado.engine.ConfigException;
import org.cortado.engine.WeightsException;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.io.CaffeWeights;
import org.cortado.engine.io.SolverStateFile;
import org.cortado.engine.net.Net;
import org.cortado.engine.net.NetGraph;
import org.cortado.engine.net.Phase;
import org.cortado.engine.net.StagePlan;
import org.cortado.engine.ops.Parallel;
import org.cortado.engine.solver.Param;
import org.cortado.engine.tensor.Tensor;
import org.cortado.engine.train.RunFolder;
import org.cortado.engine.train.Trainer;
import org.cortado.engine.train.TrainingData;
import org.cortado.kernels.Cuda;
import org.cortado.kernels.CudaPlacement;

/**
 * Launches one training run in this process: {@link #prepare} works out everything the verticles
 * share (opens the data, places the stage cuts, decides {@code pipeline.device}, reads a snapshot or
 * fine-tuning weights), and {@link #run} deploys the GPU verticle (on a GPU), the optimizer, the
 * stages, the loaders, the augmenters and finally the coordinator, and completes with the
 * coordinator's result once everything is undeployed again.
 */
public final class Pipeline {
    private Pipeline() {}

    /** Where a run starts from. */
    public record Start(Path snapshot, Path weights, RunContext.Hooks hooks, Consumer<String> log) {
        public static Start fresh() {
            return new Start(null, null, RunContext.Hooks.NONE, s -> { });
        }
    }

    /**
     * Opens the data and places the stages. Throws a {@code CortadoException} naming the file, JSON
     * path or layer when something does not fit; nothing is deployed then.
     */
    public static RunContext prepare(CortadoConfig config, Path configDir, RunFolder folder, String runId, Start start) {
        Parallel parallel = new Parallel(config.threads());
        TrainingData data = null;
        try {
            Net net = Net.build(config.net(), Phase.TRAIN, parallel, config.seed());
            data = TrainingData.open(config, net, configDir, start.log());
            List<String> order = new ArrayList<>();
            for (var layer : config.net().node().get("layers")) {
                order.add(layer.path("name").asText());
            }
            Map<String, List<Tensor>> initial = null;
            List<Tensor> history = null;
            long startIter = 0;
            if (start.snapshot() != null) {
                var state = SolverStateFile.read(start.snapshot());
                Path w = start.snapshot().resolveSibling(state.learnedNet());
                initial = CaffeWeights.read(w);
                var report = net.copyWeights(initial, w.toString());
                if (!report.notInFile().isEmpty()) {
                    throw new WeightsException(w + ": no weights for layers " + report.notInFile() + "; cannot resume");
                }
                history = state.history();
                startIter = state.iter();
            } else if (start.weights() != null) {
                initial = CaffeWeights.read(start.weights());
                var report = net.copyWeights(initial, start.weights().toString());
                start.log().accept("fine-tuning from " + start.weights() + ": copied " + report.copied()
                        + (report.notInNet().isEmpty() ? "" : "; skipped (not in the net) " + report.notInNet())
                        + (report.notInFile().isEmpty() ? "" : "; left to their fillers (not in the file) " + report.notInFile()));
            }
            if (folder != null) {
                folder.writeNet(NetGraph.of(net).toJson());
            }
            List<String> cuts = cuts(config, net, order, data, parallel);
            StagePlan plan = cuts.isEmpty() ? StagePlan.single(net) : StagePlan.at(net, order, cuts, "pipeline.stages");
            plan.requireOwnedParams("pipeline.stages");
            List<Net> nets = new ArrayList<>(List.of(net));
            if (data.test().isPresent()) { // the same cuts must fit the TEST net
                Net test = Net.build(config.net(), Phase.TEST, parallel, config.seed());
                if (!cuts.isEmpty()) {
                    StagePlan.at(test, order, cuts, "pipeline.stages");
                }
                nets.add(test);
            }
            CudaPlacement.Decision device = CudaPlacement.decide(config.pipeline().device(), Cuda.availability(), nets);
            if (device.note() != null) {
                start.log().accept(device.note());
            }
            return new RunContext(new Addresses(runId), config, data, parallel, List.copyOf(order), cuts,
                    net.paramNames(), net.inputs().get(0).dim(0), folder, startIter, initial, history, start.hooks(), configDir,
                    start.snapshot() != null && folder != null ? folder.rateScaleAt(startIter) : 1, start.log(), device.gpu());
        } catch (RuntimeException e) {
            if (data != null) {
                data.close();
            }
            parallel.close();
            throw e;
        }
    }

    /** The cut points: the configured ones, or balanced over per-layer times measured on a real batch. */
    private static List<String> cuts(CortadoConfig config, Net net, List<String> order, TrainingData data, Parallel parallel) {
        var p = config.pipeline();
        if (!p.autoStages()) {
            return p.stages();
        }
        if (p.stageCount() == 1) {
            return List.of();
        }
        Trainer.feed(net, data.batch(Phase.TRAIN, 0, 0));
        for (int i = 0; i < 4; i++) {
            net.profile(i == 1); // one warm-up pass, then three measured
            net.beginPass(i);
            net.forward();
            net.backward();
        }
        long[] cost = new long[net.layers().size()];
        for (int l = 0; l < cost.length; l++) {
            cost[l] = net.forwardNanos(l) + net.backwardNanos(l);
        }
        net.profile(false);
        for (Param q : net.params()) {
            q.blob().zeroDiff();
        }
        List<String> cuts = StagePlan.balanced(net, p.stageCount(), cost).cutNames();
        if (cuts.stream().anyMatch(c -> !order.contains(c))) {
            throw new ConfigException("pipeline.stages: \"auto\" placed a cut at an implicit Split layer; name the cuts instead");
        }
        return cuts;
    }

    /** Deploys the run's verticles and completes with its result, after undeploying them again. */
    public static Future<CoordinatorVerticle.Result> run(Vertx vertx, RunContext ctx) {
        try {
            TensorCodec.register(vertx.eventBus());
        } catch (IllegalStateException alreadyRegistered) {
            // one codec per event bus; an earlier run in this Vert.x registered it
        }
        DeploymentOptions worker = new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)
                .setMaxWorkerExecuteTime(1).setMaxWorkerExecuteTimeUnit(TimeUnit.HOURS);
        List<String> ids = new ArrayList<>();
        Promise<CoordinatorVerticle.Result> done = Promise.promise();
        var p = ctx.config().pipeline();
        // The stages and the optimizer of this process compute on one thread: each of their loops
        // already spreads over every core (ctx.parallel()), and the native compute libraries keep
        // per-thread state (an OpenMP team belongs to the thread that starts it), so a second compute
        // thread would start a second team of spinning threads competing for the same cores. On one
        // thread, handing gradients to the optimizer and params back to a stage is a queued task, not
        // a thread wake-up. (Stages on other devices or nodes run concurrently.)
        DeploymentOptions compute = new DeploymentOptions(worker)
                .setWorkerPoolName("cortado-" + ctx.addresses().run() + "-compute").setWorkerPoolSize(1);
        // On a GPU, the GPU verticle opens the device first (and closes it last); the stages and the
        // optimizer then compute through it.
        GpuVerticle gpu = ctx.gpu() >= 0 ? new GpuVerticle(ctx) : null;
        // (The chain starts with a deployment, whose future runs the callbacks on this caller's context:
        // a deployment made on a verticle's context would become that verticle's child.)
        Future<String> chain = gpu == null ? vertx.deployVerticle(new OptimizerVerticle(ctx, null), compute)
                : vertx.deployVerticle(gpu, new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)).onSuccess(ids::add)
                        .compose(x -> vertx.deployVerticle(new OptimizerVerticle(ctx, gpu), compute));
        chain = chain.onSuccess(ids::add);
        for (int s = 0; s < ctx.stages(); s++) {
            int stage = s;
            chain = chain.compose(x -> vertx.deployVerticle(new StageVerticle(ctx, stage, gpu), compute)).onSuccess(ids::add);
        }
        // The loaders, the augmenters and the coordinator share the data pool (pipeline.data_threads,
        // default 1): on one thread a batch goes from request to loader to augmenter to coordinator as
        // queued tasks, not thread wake-ups, which on a small machine take the cores from the compute.
        DeploymentOptions data = dataThreads(ctx);
        if (p.loaders() > 0) { // 0: only the cluster's workers load
            chain = chain.compose(x -> vertx.deployVerticle(() -> new ShardLoaderVerticle(ctx),
                    new DeploymentOptions(data).setInstances(p.loaders()))).onSuccess(ids::add)
                    .compose(x -> vertx.deployVerticle(new LoaderGate(ctx.addresses()), data)).onSuccess(ids::add);
        }
        chain = chain.compose(x -> vertx.deployVerticle(() -> new AugmenterVerticle(ctx),
                        new DeploymentOptions(data).setInstances(p.augmenters()))).onSuccess(ids::add)
                .compose(x -> vertx.deployVerticle(new CoordinatorVerticle(ctx, done), data)).onSuccess(ids::add);
        return chain.compose(x -> done.future())
                .eventually(() -> {
                    Future<?> f = Future.succeededFuture();
                    for (String id : ids.reversed()) {
                        f = f.eventually(() -> vertx.undeploy(id).otherwiseEmpty());
                    }
                    return f;
                });
    }

    /** Deployment on the run's data threads (shared by the loaders, the augmenters and the coordinator). */
    private static DeploymentOptions dataThreads(RunContext ctx) {
        return new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)
                .setWorkerPoolName("cortado-" + ctx.addresses().run() + "-data")
                .setWorkerPoolSize(ctx.config().pipeline().dataThreads());
    }

    /**
     * Deploys a consumer of the run's metrics (one object per step, see {@link Addresses#metrics}) on the
     * run's data threads, where the coordinator publishes them: a local listener such as the terminal
     * progress display then costs no thread wake-up per step.
     */
    public static Future<String> listen(Vertx vertx, RunContext ctx, io.vertx.core.Handler<JsonObject> handler) {
        return listen(vertx, ctx, ctx.addresses().metrics(), handler);
    }

    /** As {@link #listen(Vertx, RunContext, io.vertx.core.Handler)}, for any address the coordinator publishes on ({@link Addresses#layers}). */
    public static Future<String> listen(Vertx vertx, RunContext ctx, String address, io.vertx.core.Handler<JsonObject> handler) {
        return vertx.deployVerticle(new VerticleBase() {
            @Override
            public Future<?> start() {
                return vertx.eventBus().<JsonObject>consumer(address, m -> handler.handle(m.body())).completion();
            }
        }, dataThreads(ctx));
    }

    /** Releases what {@link #prepare} opened (data files, compute threads). */
    public static void close(RunContext ctx) {
        ctx.data().close();
        ctx.parallel().close();
    }
}
