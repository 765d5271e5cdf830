package org.cortado.cli;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.cortado.dashboard.DashboardVerticle;
import org.cortado.dashboard.Runs;
import org.cortado.engine.ConfigException;
import org.cortado.engine.config.DashboardConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cortado dashboard RUNS_DIR}: serves the dashboard of the runs in a folder, without training, until Ctrl-C. */
@Command(name = "dashboard", mixinStandardHelpOptions = true,
        description = {"Serve the dashboard for the run folders in RUNS_DIR (finished runs, and runs that other",
                "processes are training: their charts follow metrics.jsonl as it grows), and start runs from it",
                "(into RUNS_DIR). Runs until Ctrl-C, which stops a run it started with a snapshot."})
final class DashboardCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "RUNS_DIR", defaultValue = "runs", description = "the runs folder (default: ${DEFAULT-VALUE})")
    Path runs;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind (default: ${DEFAULT-VALUE}; "
            + "any other needs the printed token for control)")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "port (default: ${DEFAULT-VALUE}; 0: any free port)")
    int port;

    @Option(names = "--token", description = "the token to require when not on loopback (default: a random one, printed)")
    String token;

    @Option(names = "--open-read", description = "when not on loopback, let anyone read without the token")
    boolean openRead;

    @Option(names = "--configs", defaultValue = "conf", paramLabel = "DIR",
            description = "the configs the launch form offers, and the folder launched configs resolve files against (default: ${DEFAULT-VALUE})")
    Path configs;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!Files.isDirectory(runs)) {
            throw new ConfigException(runs + ": no such folder (the runs folder `cortado train --runs` writes to)");
        }
        if (port < 0 || port > 65535) {
            throw new ConfigException("--port: must be a TCP port (0-65535), got " + port);
        }
        if (token != null && token.length() < 8) {
            throw new ConfigException("--token: must be at least 8 characters");
        }
        PrintWriter out = spec.commandLine().getOut();
        Vertx vertx = Vertx.vertx();
        DashboardVerticle dashboard;
        try {
            dashboard = PipelineRunner.startDashboard(vertx, new DashboardConfig(true, host, port, token, openRead, 0), runs,
                    configs, out);
        } catch (RuntimeException e) {
            vertx.close();
            throw e;
        }
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            // Runs launched from the browser stop as Ctrl-C stops `cortado train`: with a snapshot.
            for (Runs.LiveRun r : dashboard.runs().live()) {
                if (r.active()) {
                    out.println("stopping " + r.id() + ": writing a snapshot ...");
                    out.flush();
                    vertx.eventBus().send(r.addresses().control(), new JsonObject().put("action", "stop"));
                }
            }
            long end = System.nanoTime() + 120_000_000_000L;
            while (dashboard.runs().live().stream().anyMatch(Runs.LiveRun::active) && System.nanoTime() < end) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    break;
                }
            }
            vertx.close();
            stop.countDown();
        }, "cortado-dashboard-stop"));
        stop.await();
        return 0;
    }
}
