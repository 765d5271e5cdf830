package org.cortado.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.io.CaffeWeights;
import org.cortado.engine.io.Npy;
import org.cortado.engine.io.Npz;
import org.cortado.engine.net.Net;
import org.cortado.engine.net.Phase;
import org.cortado.engine.ops.Parallel;
import org.cortado.engine.tensor.Tensor;
import org.cortado.engine.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTest {
    private static final Path LENET = Path.of("..", "conf", "lenet-fashion-mnist.json");

    /** Runs the CLI in-process, capturing stdout and stderr. */
    record Run(int code, String out, String err) {
        String lastLine() {
            String[] lines = out.strip().split("\n");
            return lines[lines.length - 1];
        }
    }

    static Run cli(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true));
            System.setErr(new PrintStream(err, true));
            int code = Main.run(args);
            return new Run(code, out.toString(), err.toString());
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void benchPrintsOneJsonObjectLast() throws Exception {
        Run r = cli("bench", LENET.toString(), "--iters", "2", "--warmup", "1", "--batch", "8", "--threads", "1", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.lastLine());
        assertEquals(8, j.get("batch").asInt());
        assertEquals(1, j.get("threads").asInt());
        assertTrue(j.get("images_per_sec").asDouble() > 0);
        assertEquals(431_080, j.get("params").asLong());
        assertEquals(4_616_450, j.get("flops").asLong()); // LeNet's forward FLOPs per image (ClassicNetsTest counts them)
        assertTrue(j.get("gflops_per_sec").asDouble() > 0);
        assertEquals(3_203_200, j.get("per_layer").get(3).get("flops").asLong()); // conv2: 50x8x8 x (2*20*25 + 1)
        List<String> layers = new java.util.ArrayList<>();
        j.get("per_layer").forEach(l -> layers.add(l.get("name").asText()));
        assertEquals(List.of("data", "conv1", "pool1", "conv2", "pool2", "ip1", "relu1", "ip2", "loss"), layers);
        assertTrue(j.get("per_layer").get(3).get("forward_ms").asDouble() > 0, "conv2 took time");
    }

    /** extract = the TEST net's forward with the saved weights, for any number of rows. */
    @Test
    void extractWritesTheBlobsTheEngineComputes(@TempDir Path dir) throws Exception {
        CortadoConfig cfg = CortadoConfig.load(LENET).withThreads(2);
        Path weights = dir.resolve("lenet.caffemodel.h5");
        try (Trainer t = new Trainer(cfg)) {
            var batch = org.cortado.engine.train.Benchmark.synthetic(t.trainNet(), 3);
            t.step(batch);
            CaffeWeights.write(weights, t.trainNet().weights());
        }
        int rows = 70; // not a multiple of the batch: the last pass is partial
        Tensor x = new Tensor(rows, 1, 28, 28);
        SplittableRandom r = new SplittableRandom(8);
        for (int i = 0; i < x.count(); i++) {
            x.data()[i] = (float) r.nextDouble();
        }
        Path input = dir.resolve("x.npy");
        Npy.write(input, x);
        Path out = dir.resolve("features.npz");
        Run run = cli("extract", LENET.toString(), "--weights", weights.toString(), "--input", input.toString(),
                "--blobs", "ip2,pool1", "--out", out.toString(), "--batch", "32");
        assertEquals(0, run.code(), run.err());
        Map<String, Tensor> got = Npz.read(out);
        assertEquals(List.of("ip2", "pool1"), List.copyOf(got.keySet()));
        assertArrayEquals(new int[] {rows, 10}, got.get("ip2").shape());
        assertArrayEquals(new int[] {rows, 20, 12, 12}, got.get("pool1").shape());
        // The same rows through a TEST net built here, one pass.
        try (Parallel par = new Parallel(1)) {
            Net net = Net.build(cfg.net(), Phase.TEST, par, 99);
            net.copyWeights(CaffeWeights.read(weights), weights.toString());
            net.setBatchSize(rows);
            System.arraycopy(x.data(), 0, net.blob("data").x(), 0, x.count());
            net.forwardFor(java.util.Set.of("ip2"));
            assertArrayEquals(net.blob("ip2").data().toArray(), got.get("ip2").toArray(), 1e-5f);
        }
    }

    @Test
    void userErrorsAreOneLineAndExitCode2(@TempDir Path dir) throws Exception {
        Run r = cli("bench", dir.resolve("missing.json").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("error: ") && r.err().contains("missing.json"), r.err());
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, Files.readString(LENET).replace("\"kernel_size\": 5, \"stride\": 1,\n       \"weight_filler\": {\"type\": \"xavier\"}, \"bias_filler\": {\"type\": \"constant\"}},\n      {\"name\": \"pool1\"",
                "\"kernel_size\": 0, \"stride\": 1,\n       \"weight_filler\": {\"type\": \"xavier\"}, \"bias_filler\": {\"type\": \"constant\"}},\n      {\"name\": \"pool1\""));
        r = cli("bench", bad.toString());
        assertEquals(2, r.code());
        assertEquals("error: net.layers[1].kernel_size: must be >= 1, got 0 (layer 'conv1', Convolution)", r.err().strip());
        Path x = dir.resolve("x.npy");
        Npy.write(x, new Tensor(2, 3, 28, 28));
        Path w = dir.resolve("w.h5");
        try (Trainer t = new Trainer(CortadoConfig.load(LENET))) {
            CaffeWeights.write(w, t.trainNet().weights());
        }
        r = cli("extract", LENET.toString(), "--weights", w.toString(), "--input", x.toString(), "--blobs", "ip2",
                "--out", dir.resolve("o.npz").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("x.npy: input shape [2,3,28,28] does not fit blob \"data\" of shape [64,1,28,28]"), r.err());
        Path x1 = dir.resolve("x1.npy");
        Npy.write(x1, new Tensor(2, 1, 28, 28));
        r = cli("extract", LENET.toString(), "--weights", w.toString(), "--input", x1.toString(),
                "--blobs", "nope", "--out", dir.resolve("o.npz").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("has no blob \"nope\""), r.err());
    }
}
