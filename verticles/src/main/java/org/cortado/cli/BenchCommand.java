package org.cortado.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.train.Benchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cortado bench CONFIG}: training throughput on synthetic data and per-layer times. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure training throughput (forward + backward + update) on synthetic data, "
                + "with Caffe-time-style per-layer forward/backward times, the parameter count, forward FLOPs "
                + "per image (a multiply-add is 2) and the achieved training GFLOP/s (training = 3x forward).")
final class BenchCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CONFIG", description = "pipeline config (JSON)")
    Path config;

    @Option(names = "--iters", defaultValue = "50", description = "timed iterations (default: ${DEFAULT-VALUE})")
    int iters;

    @Option(names = "--warmup", defaultValue = "10", description = "untimed iterations first (default: ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--batch", defaultValue = "0", description = "batch size (default: the config's input shape)")
    int batch;

    @Option(names = "--threads", defaultValue = "0", description = "compute threads (default: the config's, else all cores)")
    int threads;

    @Option(names = "--conv", defaultValue = "onednn",
            description = "convolution backend: onednn (where its natives load, else im2col) or im2col "
                    + "(default: ${DEFAULT-VALUE})")
    String conv;

    @Option(names = "--data", description = "train on the config's training data, read and augmented on the "
            + "training thread (the in-process engine's loop), instead of one synthetic batch")
    boolean data;

    @Option(names = "--pipeline", description = "compare the verticle pipeline with the in-process engine on the "
            + "config's data, in this JVM, alternating over --rounds rounds of --warmup + --iters steps each")
    boolean pipeline;

    @Option(names = "--rounds", defaultValue = "5", description = "rounds with --pipeline or --dashboard (default: ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--dashboard", description = "what watching costs: the pipeline unwatched against the pipeline served by "
            + "the dashboard (with its per-layer stats) to --clients websocket clients, alternating over --rounds rounds")
    boolean dashboard;

    @Option(names = "--cluster-transport", description = "the clustered event bus between two JVMs against a raw TCP socket"
            + " copying the same bytes: --warmup-rounds untimed, then --rounds rounds of --iters batches of --mib MiB (CONFIG is not read)")
    boolean clusterTransport;

    @Option(names = "--cluster-workers", description = "what a second worker process adds to the input rate of a coordinator that"
            + " loads nothing itself (an augmentation-heavy config such as conf/fashion-mnist-heavy-augment-cluster.json)")
    boolean clusterWorkers;

    @Option(names = "--seconds", defaultValue = "10", description = "seconds per measured window with --cluster-workers (default: ${DEFAULT-VALUE})")
    int seconds;

    @Option(names = "--warmup-rounds", defaultValue = "3", description = "untimed rounds first with --cluster-transport"
            + " (default: ${DEFAULT-VALUE})")
    int warmupRounds;

    @Option(names = "--mib", defaultValue = "1", description = "MiB per batch with --cluster-transport (default: ${DEFAULT-VALUE})")
    int mib;

    @Option(names = "--clients", defaultValue = "10", description = "websocket clients with --dashboard (default: ${DEFAULT-VALUE})")
    int clients;

    @Option(names = "--json", description = "print one JSON object as the last line")
    boolean json;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** {@code {coordinator, worker...}} cores busy as a JSON array. */
    private static ArrayNode json(double[] busy) {
        ArrayNode a = new ObjectMapper().createArrayNode();
        for (double b : busy) {
            a.add(b);
        }
        return a;
    }

    private static String convBackend() {
        if (!org.cortado.engine.ops.Conv.dnnlEnabled()) {
            return "im2col";
        }
        return org.cortado.engine.ops.Conv.dnnlUnavailableReason() == null ? "onednn" : "im2col";
    }

    @Override
    public Integer call() {
        if (iters < 1) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--iters must be >= 1");
        }
        switch (conv) {
            case "onednn" -> org.cortado.engine.ops.Conv.setDnnlEnabled(true);
            case "im2col" -> org.cortado.engine.ops.Conv.setDnnlEnabled(false);
            default -> throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--conv must be onednn or im2col, got '" + conv + "'");
        }
        if (clusterTransport) {
            if (mib < 1 || rounds < 1 || warmupRounds < 0) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                        "--cluster-transport takes --mib >= 1, --rounds >= 1 and --warmup-rounds >= 0");
            }
            try {
                PrintWriter out = spec.commandLine().getOut();
                var r = org.cortado.cluster.TransportBench.run(mib, iters, warmupRounds, rounds, out);
                out.printf("clustered event bus / raw TCP for %d MiB batches, median over %d rounds: %.2f (best: event bus %.0f MB/s,"
                        + " TCP %.0f MB/s)%n", mib, rounds, r.medianRatio(), r.busMBps(), r.tcpMBps());
                if (json) {
                    var o = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("mib", mib).put("batches", iters)
                            .put("rounds", rounds).put("warmup_rounds", warmupRounds).put("ratio", r.medianRatio()).put("bus_mb_per_sec", r.busMBps())
                            .put("tcp_mb_per_sec", r.tcpMBps());
                    r.ratios().forEach(o.putArray("per_round")::add);
                    out.println(o);
                }
                out.flush();
                return 0;
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new org.cortado.engine.CortadoException("bench --cluster-transport: " + e.getMessage(), e);
            }
        }
        if (clusterWorkers) {
            if (batch > 0 || rounds < 1 || seconds < 1 || pipeline || dashboard) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                        "--cluster-workers takes the config's batch size, --rounds >= 1, --seconds >= 1, and not --pipeline or --dashboard");
            }
            try {
                PrintWriter out = spec.commandLine().getOut();
                CortadoConfig cfg = PipelineBench.config(config, 100_000_000, threads, "pipeline.loaders=0");
                var r = org.cortado.cluster.ScaleBench.run(cfg, config.toAbsolutePath().getParent(), rounds, seconds, out);
                out.printf("input rate with two workers / one, median over %d rounds: %.2fx on %d cores%n", rounds, r.medianRatio(),
                        Runtime.getRuntime().availableProcessors());
                if (json) {
                    var o = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("rounds", rounds)
                            .put("seconds", seconds).put("ratio", r.medianRatio()).put("cores", Runtime.getRuntime().availableProcessors());
                    var arr = o.putArray("per_round");
                    for (int i = 0; i < r.one().size(); i++) {
                        var round = arr.addObject();
                        round.set("two_workers_cores_busy", json(r.busyTwo().get(i)));
                        round.put("one_worker_steps_per_sec", r.one().get(i)).put("two_workers_steps_per_sec", r.two().get(i))
                                .put("one_worker_data_wait", r.waitOne().get(i)).put("two_workers_data_wait", r.waitTwo().get(i))
                                .set("one_worker_cores_busy", json(r.busyOne().get(i)));
                    }
                    out.println(o);
                }
                out.flush();
                return 0;
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new org.cortado.engine.CortadoException("bench --cluster-workers: " + e.getMessage(), e);
            }
        }
        if (dashboard) {
            if (batch > 0 || rounds < 1 || clients < 0 || pipeline) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                        "--dashboard takes the config's batch size, --rounds >= 1, --clients >= 0, and not --pipeline");
            }
            try {
                return DashboardBench.run(config, threads, iters, Math.max(0, warmup), rounds, clients, json,
                        spec.commandLine().getOut());
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new org.cortado.engine.CortadoException("bench --dashboard: " + e.getMessage(), e);
            }
        }
        if (pipeline) {
            if (batch > 0 || rounds < 1) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                        "--pipeline takes the config's batch size and --rounds >= 1");
            }
            try {
                return PipelineBench.run(config, threads, iters, Math.max(0, warmup), rounds, json, spec.commandLine().getOut());
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new org.cortado.engine.CortadoException("bench --pipeline: " + e.getMessage(), e);
            }
        }
        CortadoConfig cfg = CortadoConfig.load(config);
        if (threads > 0) {
            cfg = cfg.withThreads(threads);
        }
        if (data && batch > 0) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--batch cannot be combined with --data "
                    + "(real batches have the config's size)");
        }
        Benchmark.Result r = Benchmark.run(cfg, batch, iters, Math.max(0, warmup),
                data ? config.toAbsolutePath().getParent() : null);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("%s: batch %d, %d threads, %d iterations, convolutions: %s%n", r.net(), r.batch(), r.threads(),
                r.iters(), convBackend());
        int w = 16;
        for (Benchmark.LayerTime t : r.perLayer()) {
            w = Math.max(w, t.name().length());
        }
        out.printf("%-" + w + "s %-18s %12s %12s %12s%n", "layer", "type", "forward ms", "backward ms", "MFLOPs/img");
        for (Benchmark.LayerTime t : r.perLayer()) {
            out.printf("%-" + w + "s %-18s %12.3f %12.3f %12.3f%n", t.name(), t.type(), t.forwardMs(), t.backwardMs(),
                    t.flops() / 1e6);
        }
        out.printf(data ? "update + loading + other: %.3f ms%n" : "update + other: %.3f ms%n", r.updateMs());
        out.printf("%.3f ms/iter, %.1f images/s, %,d params, %.3f GFLOPs/image forward, %.1f GFLOP/s training"
                        + " (%dx forward)%n", r.msPerIter(), r.imagesPerSec(), r.params(), r.flops() / 1e9,
                r.gflopsPerSec(), Benchmark.TRAINING_FLOPS_FACTOR);
        if (json) {
            ObjectMapper m = new ObjectMapper();
            ObjectNode o = m.createObjectNode();
            o.put("net", r.net());
            o.put("batch", r.batch());
            o.put("threads", r.threads());
            o.put("iters", r.iters());
            o.put("conv", convBackend());
            o.put("images_per_sec", r.imagesPerSec());
            o.put("ms_per_iter", r.msPerIter());
            o.put("median_ms_per_iter", r.medianMsPerIter());
            o.put("update_ms", r.updateMs());
            o.put("params", r.params());
            o.put("flops", r.flops());
            o.put("gflops_per_sec", r.gflopsPerSec());
            ArrayNode layers = o.putArray("per_layer");
            for (Benchmark.LayerTime t : r.perLayer()) {
                layers.addObject().put("name", t.name()).put("type", t.type())
                        .put("forward_ms", t.forwardMs()).put("backward_ms", t.backwardMs()).put("flops", t.flops());
            }
            out.println(o.toString());
        }
        out.flush();
        return 0;
    }
}
