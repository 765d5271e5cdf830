package org.cortado.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.cortado.pipeline.PipelineTesting;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cortado train}, {@code test} and {@code resume} from the command line, and their bad inputs. */
class TrainCliTest {
    @TempDir
    static Path dir;
    static Path config;

    static final String SOLVER = """
        {"type": "SGD", "base_lr": 0.05, "momentum": 0.9, "lr_policy": "fixed", "max_iter": 40,
         "test_interval": 20, "snapshot": 10, "snapshot_prefix": "tiny"}""";

    @BeforeAll
    static void setUp() throws Exception {
        PipelineTesting.writeData(dir.resolve("data"));
        config = dir.resolve("tiny.json");
        Files.writeString(config, PipelineTesting.configJson(dir.resolve("data"), SOLVER, "{\"threads\": 2}", false));
    }

    private static Path runFolder(CliTest.Run r) {
        String line = r.out().lines().filter(l -> l.startsWith("run folder: ")).findFirst().orElseThrow();
        return Path.of(line.substring("run folder: ".length()));
    }

    @Test
    void trainWritesARunFolderThatTestScoresAndResumeContinues() throws Exception {
        Path runs = dir.resolve("runs");
        CliTest.Run r = CliTest.cli("train", config.toString(), "--runs", runs.toString(), "--set", "solver.max_iter=20");
        assertEquals(0, r.code(), r.out() + r.err());
        Path run = runFolder(r);
        assertTrue(run.startsWith(runs));
        JsonNode resolved = new ObjectMapper().readTree(Files.readString(run.resolve("config.json")));
        assertEquals(20, resolved.path("solver").path("max_iter").asInt(), "the resolved config has the --set value");
        List<String> metrics = Files.readAllLines(run.resolve("metrics.jsonl"));
        assertEquals(21, metrics.size(), "a test pass before step 1, then one line per step");
        try (Stream<Path> s = Files.list(run.resolve("snapshots"))) {
            assertEquals(List.of("tiny_iter_10.caffemodel.h5", "tiny_iter_10.solverstate.h5", "tiny_iter_20.caffemodel.h5",
                    "tiny_iter_20.solverstate.h5"), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertTrue(r.out().contains("run finished at iteration 20"), r.out());
        JsonNode last = new ObjectMapper().readTree(metrics.getLast());
        double trainedAccuracy = last.path("test_accuracy").asDouble();

        // cortado test scores the final weights as the last test pass did
        CliTest.Run t = CliTest.cli("test", config.toString(), "--weights", run.resolve("weights.caffemodel.h5").toString(), "--json");
        assertEquals(0, t.code(), t.err());
        JsonNode score = new ObjectMapper().readTree(t.lastLine());
        assertEquals(70, score.path("samples").asInt());
        assertEquals(trainedAccuracy, score.path("accuracy").asDouble(), 1e-9);
        assertTrue(t.out().contains("accuracy = "), t.out());

        // resume continues from the newest snapshot to max_iter of the run's config (raised here by hand)
        Files.writeString(run.resolve("config.json"), Files.readString(run.resolve("config.json"))
                .replace("\"max_iter\" : 20", "\"max_iter\" : 30"));
        CliTest.Run again = CliTest.cli("resume", run.toString());
        assertEquals(0, again.code(), again.out() + again.err());
        assertTrue(again.out().contains("from tiny_iter_20.solverstate.h5"), again.out());
        assertTrue(again.out().contains("run finished at iteration 30"), again.out());
        assertEquals(31, Files.readAllLines(run.resolve("metrics.jsonl")).size());
    }

    @Test
    void fineTuningCopiesByLayerNameAndReportsWhatItSkipped() throws Exception {
        Path runs = dir.resolve("runs-ft");
        CliTest.Run first = CliTest.cli("train", config.toString(), "--runs", runs.toString(), "--set", "solver.max_iter=5");
        assertEquals(0, first.code(), first.err());
        Path weights = runFolder(first).resolve("weights.caffemodel.h5");
        // a net whose last layer has another name and size: it keeps its fillers
        Path other = dir.resolve("other.json");
        Files.writeString(other, Files.readString(config).replace("\"name\": \"ip2\"", "\"name\": \"ip2_new\"")
                .replace("\"bottom\": [\"ip2\", \"label\"]", "\"bottom\": [\"ip2_new\", \"label\"]")
                .replace("\"top\": \"ip2\"", "\"top\": \"ip2_new\"")
                .replace("\"max_iter\": 40", "\"max_iter\": 3"));
        CliTest.Run r = CliTest.cli("train", other.toString(), "--runs", runs.toString(), "--weights", weights.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("copied [conv1, ip1]"), r.err());
        assertTrue(r.err().contains("skipped (not in the net) [ip2]"), r.err());
        assertTrue(r.err().contains("not in the file) [ip2_new]"), r.err());
    }

    @Test
    void anInvalidConfigListsEveryProblemAndStartsNothing() throws Exception {
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, Files.readString(config)
                .replace("\"seed\": 7", "\"seed\": \"seven\", \"colour\": 1")
                .replace("\"num_output\": 4, \"kernel_size\": 3", "\"num_output\": 0, \"kernel_size\": 3")
                .replace("\"base_lr\": 0.05", "\"base_lr\": -1")
                .replace("{\"type\": \"flip\"}", "{\"type\": \"flipp\"}")
                .replace("{\"threads\": 2}", "{\"threads\": 2, \"micro_batches\": 0}"));
        Path runs = dir.resolve("runs-bad");
        CliTest.Run r = CliTest.cli("train", bad.toString(), "--runs", runs.toString());
        assertEquals(2, r.code());
        for (String problem : List.of("seed: expected an integer", "colour: unknown field", "net.layers[1].num_output: must be > 0",
                "solver.base_lr: must be >= 0", "augment.train[0].type: unknown augmentation step \"flipp\"",
                "pipeline.micro_batches: must be > 0")) {
            assertTrue(r.err().contains(problem), "missing \"" + problem + "\" in:\n" + r.err());
        }
        assertFalse(Files.exists(runs), "nothing was started");
    }

    @Test
    void aMissingDataPathIsNamedAndLeavesNoRunFolder() throws Exception {
        Path runs = dir.resolve("runs-missing");
        CliTest.Run r = CliTest.cli("train", config.toString(), "--runs", runs.toString(),
                "--set", "data.train.source=" + dir.resolve("nowhere/train"));
        assertEquals(2, r.code(), r.out());
        assertTrue(r.err().contains(dir.resolve("nowhere/train").toString()), r.err());
        try (Stream<Path> s = Files.list(runs)) {
            assertEquals(0, s.count(), "the run folder is removed again");
        }
    }

    @Test
    void benchWithDataTrainsOnTheConfigsBatches() throws Exception {
        CliTest.Run r = CliTest.cli("bench", config.toString(), "--data", "--iters", "6", "--warmup", "1", "--json");
        assertEquals(0, r.code(), r.out() + r.err());
        JsonNode j = new ObjectMapper().readTree(r.lastLine());
        assertEquals(16, j.path("batch").asInt(), "the config's batch");
        assertTrue(j.path("median_ms_per_iter").asDouble() > 0, r.lastLine());
        assertTrue(r.out().contains("update + loading + other"), r.out());

        // the batches really come from the config's data: a missing source is named
        Path moved = dir.resolve("bench-missing.json");
        Files.writeString(moved, Files.readString(config).replace(dir.resolve("data").toString(), dir.resolve("gone").toString()));
        CliTest.Run missing = CliTest.cli("bench", moved.toString(), "--data", "--iters", "1");
        assertEquals(2, missing.code(), missing.out() + missing.err());
        assertTrue(missing.err().contains(dir.resolve("gone").toString()), missing.err());

        CliTest.Run both = CliTest.cli("bench", config.toString(), "--data", "--batch", "8");
        assertEquals(2, both.code());
        assertTrue(both.err().contains("--batch cannot be combined with --data"), both.err());
    }

    @Test
    void benchPipelineComparesThePipelineWithTheEngineRoundByRound() throws Exception {
        CliTest.Run r = CliTest.cli("bench", config.toString(), "--pipeline", "--rounds", "2", "--iters", "4", "--warmup", "2",
                "--json");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("round 2: ms/step engine"), r.out());
        JsonNode j = new ObjectMapper().readTree(r.lastLine());
        assertEquals(2, j.path("rounds").asInt());
        assertEquals(2, j.path("per_round").size());
        for (JsonNode round : j.path("per_round")) {
            for (String k : List.of("engine_ms", "engine_median_ms", "pipeline_ms", "pipeline_median_ms")) {
                assertTrue(round.path(k).asDouble() > 0, k + " in " + round);
            }
            double wait = round.path("data_wait").asDouble(-1);
            assertTrue(wait >= 0 && wait <= 1, "data_wait is a share of the step time: " + round);
        }
        // the overhead is the median (upper, with 2) of the rounds' pipeline/engine ratios, minus 1
        double[] ratios = new double[2];
        for (int i = 0; i < 2; i++) {
            JsonNode round = j.path("per_round").get(i);
            ratios[i] = round.path("pipeline_ms").asDouble() / round.path("engine_ms").asDouble();
        }
        java.util.Arrays.sort(ratios);
        assertEquals(ratios[1] - 1, j.path("overhead").asDouble(), 1e-12, r.lastLine());

        CliTest.Run bad = CliTest.cli("bench", config.toString(), "--pipeline", "--rounds", "0");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--rounds >= 1"), bad.err());
    }

    @Test
    void benchDashboardComparesAWatchedRunWithAnUnwatchedOne() throws Exception {
        CliTest.Run r = CliTest.cli("bench", config.toString(), "--dashboard", "--clients", "3", "--rounds", "2", "--iters", "30",
                "--warmup", "2", "--json");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("round 2: ms/step unwatched"), r.out());
        JsonNode j = new ObjectMapper().readTree(r.lastLine());
        assertEquals(3, j.path("clients").asInt());
        assertEquals(2, j.path("per_round").size());
        assertTrue(j.path("messages").asLong() >= 3, "the clients were streamed to: " + r.lastLine());
        double[] ratios = new double[2];
        for (int k = 0; k < 2; k++) {
            JsonNode round = j.path("per_round").get(k);
            ratios[k] = round.path("watched_ms").asDouble() / round.path("unwatched_ms").asDouble();
            assertTrue(ratios[k] > 0, round.toString());
        }
        java.util.Arrays.sort(ratios);
        assertEquals(ratios[1] - 1, j.path("cost").asDouble(), 1e-12, r.lastLine());
        CliTest.Run bad = CliTest.cli("bench", config.toString(), "--dashboard", "--pipeline");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("not --pipeline"), bad.err());
    }

    @Test
    void benchClusterTransportComparesTheEventBusWithARawSocketBetweenTwoJvms() throws Exception {
        CliTest.Run r = CliTest.cli("bench", config.toString(), "--cluster-transport", "--mib", "1", "--iters", "8", "--rounds", "2",
                "--warmup-rounds", "2", "--json");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("round 2: event bus"), r.out());
        assertEquals(2, r.out().split("warm-up: event bus", -1).length - 1, r.out());
        JsonNode j = new ObjectMapper().readTree(r.lastLine());
        assertEquals(2, j.path("per_round").size());
        assertEquals(2, j.path("warmup_rounds").asInt());
        assertTrue(j.path("bus_mb_per_sec").asDouble() > 0 && j.path("tcp_mb_per_sec").asDouble() > 0, r.lastLine());
        double a = j.path("per_round").get(0).asDouble();
        double b = j.path("per_round").get(1).asDouble();
        assertEquals(Math.max(a, b), j.path("ratio").asDouble(), 1e-12, "the median (upper, of 2)");
        CliTest.Run bad = CliTest.cli("bench", config.toString(), "--cluster-transport", "--warmup-rounds", "-1");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--warmup-rounds >= 0"), bad.err());
    }

    @Test
    void benchClusterWorkersMeasuresOneWorkerThenTwo() throws Exception {
        CliTest.Run r = CliTest.cli("bench", config.toString(), "--cluster-workers", "--rounds", "1", "--seconds", "1", "--json");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("round 1: steps/s with one worker"), r.out());
        JsonNode round = new ObjectMapper().readTree(r.lastLine()).path("per_round").get(0);
        assertTrue(round.path("one_worker_steps_per_sec").asDouble() > 0 && round.path("two_workers_steps_per_sec").asDouble() > 0,
                r.lastLine());
        assertEquals(2, round.path("one_worker_cores_busy").size(), "the coordinator and the worker");
        assertEquals(3, round.path("two_workers_cores_busy").size(), "the coordinator and both workers");
        assertTrue(round.path("one_worker_cores_busy").get(1).asDouble() > 0, "the worker worked: " + r.lastLine());
        assertEquals(round.path("two_workers_steps_per_sec").asDouble() / round.path("one_worker_steps_per_sec").asDouble(),
                new ObjectMapper().readTree(r.lastLine()).path("ratio").asDouble(), 1e-9);
    }

    @Test
    void resumeFindsAMeanFileGivenRelativeToTheConfig() throws Exception {
        Path confDir = dir.resolve("with-mean");
        java.nio.file.Files.createDirectories(confDir);
        org.cortado.engine.io.Npy.write(confDir.resolve("mean.npy"), new org.cortado.engine.tensor.Tensor(
                new float[144], 1, 12, 12));
        ObjectMapper m = new ObjectMapper();
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) m.readTree(Files.readString(config));
        var step = m.createObjectNode().put("type", "caffe").put("mean_file", "mean.npy").put("scale", 0.01);
        var augment = root.putObject("augment");
        augment.putArray("train").add(step);
        augment.putArray("test").add(step.deepCopy());
        Path withMean = confDir.resolve("tiny-mean.json");
        Files.writeString(withMean, root.toPrettyString());

        Path runs = dir.resolve("runs-mean");
        CliTest.Run r = CliTest.cli("train", withMean.toString(), "--runs", runs.toString(), "--set", "solver.max_iter=10");
        assertEquals(0, r.code(), r.out() + r.err());
        Path run = runFolder(r);
        JsonNode kept = m.readTree(Files.readString(run.resolve("config.json")));
        assertEquals(confDir.resolve("mean.npy").toString(), kept.path("augment").path("train").get(0).path("mean_file").asText(),
                "the run folder's config names the mean file absolutely");
        Files.writeString(run.resolve("config.json"), Files.readString(run.resolve("config.json"))
                .replace("\"max_iter\" : 10", "\"max_iter\" : 15"));
        CliTest.Run again = CliTest.cli("resume", run.toString());
        assertEquals(0, again.code(), again.out() + again.err());
        assertTrue(again.out().contains("run finished at iteration 15"), again.out());
    }

    @Test
    void resumeOfAFolderThatIsNotARunSaysSo() throws Exception {
        Path notARun = Files.createDirectories(dir.resolve("not-a-run"));
        CliTest.Run r = CliTest.cli("resume", notARun.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("is not a run folder"), r.err());
        CliTest.Run missing = CliTest.cli("resume", dir.resolve("no-such-dir").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("no such run folder"), missing.err());
    }
}
