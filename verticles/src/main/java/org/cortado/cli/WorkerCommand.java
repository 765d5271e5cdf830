package org.cortado.cli;

import io.vertx.core.Vertx;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.cortado.cluster.Cluster;
import org.cortado.cluster.Worker;
import org.cortado.engine.ConfigException;
import org.cortado.engine.config.ClusterConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cortado worker}: joins a cluster and loads and augments batches for the run it trains, until Ctrl-C. */
@Command(name = "worker", mixinStandardHelpOptions = true,
        description = {"Join a Cortado cluster and load and augment batches for the run its coordinator",
                "(`cortado train CONFIG --cluster`) trains; then for the next run, until Ctrl-C. Workers may come and go",
                "during a run: a request a worker that left did not answer is made again elsewhere. With --replica it also",
                "computes a share of every training step (synchronous data-parallel training)."})
final class WorkerCommand implements Callable<Integer> {
    @Option(names = "--join", required = true, paramLabel = "HOST[:PORT]", description = "a member of the cluster (the coordinator)")
    String join;

    @Option(names = "--loaders", defaultValue = "1", description = "ShardLoader verticles (default: ${DEFAULT-VALUE})")
    int loaders;

    @Option(names = "--augmenters", defaultValue = "1", description = "Augmenter verticles (default: ${DEFAULT-VALUE})")
    int augmenters;

    @Option(names = "--replica", description = "also compute: a replica of the net that runs a share of each step's"
            + " micro-batches and sends its gradients to the coordinator (data-parallel training; CPU)")
    boolean replica;

    @Option(names = "--data-root", paramLabel = "DIR", description = "where the run's relative data paths start on this"
            + " machine (default: the coordinator's folders, for a shared path)")
    Path dataRoot;

    @Option(names = "--cluster-name", defaultValue = "cortado", description = "the cluster's name (default: ${DEFAULT-VALUE})")
    String name;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "the interface this member binds (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "5701", description = "the first Hazelcast port to try (default: ${DEFAULT-VALUE})")
    int port;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (loaders < 1 || augmenters < 1) {
            throw new ConfigException("--loaders and --augmenters: must be >= 1");
        }
        if (dataRoot != null && !Files.isDirectory(dataRoot)) {
            throw new ConfigException("--data-root: " + dataRoot + " is not a folder");
        }
        ClusterConfig c = new ClusterConfig(name, host, port, List.of(join), ClusterConfig.DEFAULT.heartbeatSeconds(),
                ClusterConfig.DEFAULT.failureTimeoutSeconds());
        PrintWriter out = spec.commandLine().getOut();
        java.util.function.Consumer<String> log = line -> {
            synchronized (out) {
                out.println("worker: " + line);
                out.flush();
            }
        };
        Cluster member = Cluster.join(c, log);
        Vertx vertx = member.vertx();
        String notice = member.notice(true);
        log.accept("joined \"" + name + "\" at " + member.address() + " (" + member.size() + " members); waiting for a run");
        if (notice != null) {
            log.accept(notice);
        }
        new Worker(member, loaders, augmenters, replica, dataRoot, log).start();
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            vertx.close().toCompletionStage().toCompletableFuture().join();
            stop.countDown();
        }, "cortado-worker-stop"));
        stop.await();
        return 0;
    }
}
