package org.cortado.cli;

import static org.cortado.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cortado data …} end to end, on the engine's small IDX and image fixtures. */
class DataCliTest {
    private static final Path FIXTURES = Path.of("..", "engine", "src", "test", "resources", "fixtures", "data");

    @Test
    void importThenStatsAndBench(@TempDir Path tmp) throws Exception {
        Path from = tmp.resolve("fm");
        Files.createDirectories(from);
        for (String split : List.of("train", "t10k")) {
            Files.copy(FIXTURES.resolve("idx/images-idx3-ubyte.gz"), from.resolve(split + "-images-idx3-ubyte.gz"));
            Files.copy(FIXTURES.resolve("idx/labels-idx1-ubyte.gz"), from.resolve(split + "-labels-idx1-ubyte.gz"));
        }
        for (String format : List.of("h5", "npy")) {
            Path out = tmp.resolve(format);
            CliTest.Run r = cli("data", "import", "fashion-mnist", "--from", from.toString(), "--out", out.toString(),
                    "--format", format, "--shard-size", "2");
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("train: 5 samples"), r.out());
            assertTrue(r.err().contains("100%"), "progress on stderr: " + r.err());

            r = cli("data", "stats", out.resolve("train").toString(), "--json");
            assertEquals(0, r.code(), r.err());
            JsonNode j = new ObjectMapper().readTree(r.lastLine());
            assertEquals(5, j.get("samples").asInt());
            assertEquals("[1,4,3]", j.get("shape").toString());
            assertEquals("uint8", j.get("dtype").asText());
            assertEquals(2, j.get("label_counts").get("1").asInt());
            assertEquals(1, j.get("label_counts").get("5").asInt());
            // Pixels are (i * 7) % 256 for i < 60: mean and population std computed here directly.
            double sum = 0;
            double sq = 0;
            for (int i = 0; i < 60; i++) {
                sum += i * 7 % 256;
                sq += Math.pow(i * 7 % 256, 2);
            }
            double mean = sum / 60;
            assertEquals(mean, j.get("mean").get(0).asDouble(), 1e-9);
            assertEquals(Math.sqrt(sq / 60 - mean * mean), j.get("std").get(0).asDouble(), 1e-9);

            r = cli("data", "bench", out.resolve("train").toString(), "--batch", "2", "--passes", "1", "--threads", "1",
                    "--json");
            assertEquals(0, r.code(), r.err());
            j = new ObjectMapper().readTree(r.lastLine());
            assertEquals(5, j.get("samples").asInt());
            assertTrue(j.get("full_read_samples_per_sec").asDouble() > 0);
            assertTrue(j.get("loader_samples_per_sec").asDouble() > 0);
        }
    }

    @Test
    void importImagesAndErrors(@TempDir Path tmp) throws Exception {
        CliTest.Run r = cli("data", "import", "images", FIXTURES.resolve("images").toString(), "--size", "6x5",
                "--out", tmp.resolve("o").toString(), "--format", "npy");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("4 samples of [3, 6, 5]"), r.out());

        r = cli("data", "stats", tmp.resolve("missing").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("error: data source") && r.err().contains("does not exist"), r.err());

        r = cli("data", "import", "images", FIXTURES.resolve("images").toString(), "--size", "0",
                "--out", tmp.resolve("o2").toString());
        assertTrue(r.code() != 0 && r.err().contains("--size"), r.err());
    }

    @Test
    void progressDrawsABarOnATerminalAndLinesElsewhere() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        PrintWriter w = new PrintWriter(b, true);
        try (ProgressBar bar = new ProgressBar(w, "import", "samples", false)) {
            for (int i = 0; i <= 100; i++) {
                bar.update(i, 100);
            }
        }
        String plain = b.toString();
        assertEquals(11, plain.strip().split("\n").length, "a line per 10%: " + plain);
        assertTrue(plain.contains("100% 100/100 samples"), plain);

        b.reset();
        try (ProgressBar bar = new ProgressBar(w, "import", "samples", true)) {
            bar.update(50, 100);
            bar.update(100, 100);
        }
        String term = b.toString();
        assertTrue(term.startsWith("\rimport [") && term.contains("#".repeat(30)) && term.endsWith("\n"), term);
    }
}
