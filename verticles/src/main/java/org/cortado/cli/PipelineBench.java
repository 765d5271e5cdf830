package org.cortado.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Vertx;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.config.Json;
import org.cortado.engine.config.Overrides;
import org.cortado.engine.train.Benchmark;
import org.cortado.engine.train.ConfigCheck;
import org.cortado.pipeline.Pipeline;
import org.cortado.pipeline.RunContext;

/**
 * {@code cortado bench CONFIG --pipeline}: the verticle pipeline against the in-process engine on the
 * same data, in one JVM, alternating in short rounds. One JVM shares the JIT's compiled code and the
 * heap between the two, and short alternating rounds see the same state of a noisy machine, so the
 * per-round ratios are far steadier than those of separate processes.
 *
 * <p>A first untimed round (fewer steps) warms both up: the JIT, oneDNN's kernels. Each round then trains
 * {@code warmup + iters} steps of fresh nets each way: the engine as
 * {@code bench --data} does (each batch read and augmented on the training thread), the pipeline as
 * {@code cortado train} does (no run folder, no test passes between steps). Step times after the
 * first {@code warmup} steps are compared: the pipeline's {@code step_ms} from its metrics, the
 * engine's from {@link Benchmark.Result}.
 */
final class PipelineBench {
    private PipelineBench() {}

    /** Per-round mean and median ms/step of each side. */
    record Round(double engineMean, double engineMedian, double pipelineMean, double pipelineMedian, double dataWait) {
        double meanRatio() {
            return pipelineMean / engineMean;
        }

        double medianRatio() {
            return pipelineMedian / engineMedian;
        }
    }

    static int run(Path configFile, int threads, int iters, int warmup, int rounds, boolean json, PrintWriter out)
            throws Exception {
        Path dir = configFile.toAbsolutePath().getParent();
        CortadoConfig cfg = config(configFile, warmup + iters, threads);
        int warmSteps = Math.min(warmup + iters, 100);
        CortadoConfig warm = config(configFile, warmSteps, threads);
        List<Round> all = new ArrayList<>();
        Vertx vertx = Vertx.vertx();
        try {
            engine(warm, 1, warmSteps - 1, dir);
            pipeline(vertx, warm, dir, Integer.MAX_VALUE, "bench-warmup");
            for (int r = 1; r <= rounds; r++) {
                Benchmark.Result e = engine(cfg, iters, warmup, dir);
                List<double[]> steps = pipeline(vertx, cfg, dir, warmup, "bench" + r);
                List<Double> ms = steps.stream().map(s -> s[0]).toList();
                double wait = steps.stream().mapToDouble(s -> s[1]).sum() / ms.stream().mapToDouble(Double::doubleValue).sum();
                Round round = new Round(e.msPerIter(), e.medianMsPerIter(), mean(ms), median(ms), wait);
                all.add(round);
                out.printf("round %d: ms/step engine %.2f (median %.2f), pipeline %.2f (median %.2f): %+.1f%% (median %+.1f%%);"
                                + " stages waited for data %.2f%% of the time%n",
                        r, round.engineMean(), round.engineMedian(), round.pipelineMean(), round.pipelineMedian(),
                        100 * (round.meanRatio() - 1), 100 * (round.medianRatio() - 1), 100 * round.dataWait());
                out.flush();
            }
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
        double meanOverhead = median(all.stream().map(Round::meanRatio).toList()) - 1;
        double medianOverhead = median(all.stream().map(Round::medianRatio).toList()) - 1;
        out.printf("pipeline overhead, median over %d rounds: %+.1f%% (mean step times), %+.1f%% (median step times)%n",
                rounds, 100 * meanOverhead, 100 * medianOverhead);
        if (json) {
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("rounds", rounds).put("iters", iters).put("warmup", warmup)
                    .put("overhead", meanOverhead).put("overhead_of_medians", medianOverhead);
            var arr = o.putArray("per_round");
            for (Round r : all) {
                arr.addObject().put("engine_ms", r.engineMean()).put("engine_median_ms", r.engineMedian())
                        .put("pipeline_ms", r.pipelineMean()).put("pipeline_median_ms", r.pipelineMedian())
                        .put("data_wait", r.dataWait());
            }
            out.println(o);
        }
        out.flush();
        return 0;
    }

    /** The config file trained for {@code steps} steps, with no test passes or snapshots on the way (and {@code more} overrides). */
    static CortadoConfig config(Path file, int steps, int threads, String... more) {
        var root = Json.read(file).copyNode();
        List<String> sets = new ArrayList<>(List.of("solver.max_iter=" + steps, "solver.test_interval=0", "solver.snapshot=0"));
        sets.addAll(List.of(more));
        Overrides.apply(root, sets);
        CortadoConfig cfg = ConfigCheck.validate(Json.of(root, ""), file.toString(),
                file.getFileName().toString().replaceFirst("\\.json$", ""), file.toAbsolutePath().getParent());
        return threads > 0 ? cfg.withThreads(threads) : cfg;
    }

    /**
     * The engine's side, on a thread that ends with it: an OpenMP team belongs to the thread that
     * started it and lives until that thread ends, and while two teams exist libgomp counts more
     * threads than cores and stops its workers spinning between parallel regions, which slows both.
     */
    private static Benchmark.Result engine(CortadoConfig cfg, int iters, int warmup, Path dir) throws Exception {
        var result = new java.util.concurrent.atomic.AtomicReference<Benchmark.Result>();
        var failure = new java.util.concurrent.atomic.AtomicReference<Throwable>();
        Thread t = new Thread(() -> {
            try {
                result.set(Benchmark.run(cfg, 0, iters, warmup, dir));
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "cortado-bench-engine");
        t.start();
        t.join();
        if (failure.get() instanceof RuntimeException re) {
            throw re;
        } else if (failure.get() != null) {
            throw new org.cortado.engine.CortadoException("engine benchmark failed: " + failure.get(), failure.get());
        }
        return result.get();
    }

    /** Trains through the pipeline and returns each step's {@code {step_ms, data_wait_ms}} after {@code warmup}. */
    private static List<double[]> pipeline(Vertx vertx, CortadoConfig cfg, Path dir, int warmup, String runId) throws Exception {
        return pipeline(vertx, cfg, dir, warmup, runId, ctx -> null);
    }

    /**
     * As {@link #pipeline(Vertx, CortadoConfig, Path, int, String)}; {@code watch} may register the prepared run
     * (with a dashboard) and return a listener for its metrics lines (null: none).
     */
    static List<double[]> pipeline(Vertx vertx, CortadoConfig cfg, Path dir, int warmup, String runId,
                                   java.util.function.Function<RunContext, io.vertx.core.Handler<io.vertx.core.json.JsonObject>> watch)
            throws Exception {
        List<double[]> steps = Collections.synchronizedList(new ArrayList<>());
        RunContext ctx = Pipeline.prepare(cfg, dir, null, runId, Pipeline.Start.fresh());
        try {
            var also = watch.apply(ctx);
            var result = Pipeline.listen(vertx, ctx, m -> {
                if (also != null) {
                    also.handle(m);
                }
                if (m.containsKey("step_ms") && m.getLong("step") > warmup && !m.containsKey("test_loss")) {
                    steps.add(new double[] {m.getDouble("step_ms"), m.getDouble("data_wait_ms")});
                }
            }).compose(id -> Pipeline.run(vertx, ctx).eventually(() -> vertx.undeploy(id)))
                    .toCompletionStage().toCompletableFuture().get();
            if (!result.ok()) {
                throw new org.cortado.engine.CortadoException("the pipeline run failed: " + result.message());
            }
        } finally {
            Pipeline.close(ctx);
        }
        return steps;
    }

    static double mean(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        Collections.sort(s);
        return s.isEmpty() ? Double.NaN : s.get(s.size() / 2);
    }
}
