package org.cortado.engine.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.cortado.engine.config.Json;
import org.cortado.engine.data.RawBatch;
import org.cortado.engine.net.Phase;
import org.junit.jupiter.api.Assumptions;

/** Shared helpers of the augmentation tests: configs written inline, synthetic batches, a python runner. */
final class AugmentTesting {
    private AugmentTesting() {}

    static final ObjectMapper MAPPER = new ObjectMapper();

    /** An {@code augment} section from inline JSON (single quotes allowed). */
    static Augmentation section(String json, Path dir) {
        return Augmentation.parse(Json.of(parseNode("{'augment': " + json + "}").get("augment"), "augment"), dir);
    }

    /** The TRAIN augmenter of a {@code train} list (inline JSON, single quotes allowed). */
    static Augmenter train(String steps, long seed, int... shape) {
        return section("{'train': " + steps + "}", null).augmenter(Phase.TRAIN, seed, shape);
    }

    static Augmenter test(String steps, long seed, int... shape) {
        return section("{'test': " + steps + "}", null).augmenter(Phase.TEST, seed, shape);
    }

    static JsonNode parseNode(String json) {
        try {
            return MAPPER.readTree(json.replace('\'', '"'));
        } catch (IOException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static byte[] randomBytes(long seed, int n) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    /** uint8 batch of {@code ids} in {@code epoch}; pixels of sample {@code i} are {@code pixels[i * per ..]}. */
    static RawBatch bytes(long epoch, long[] ids, int[] shape, byte[] pixels) {
        return new RawBatch(epoch, 0, ids, new int[ids.length], shape, pixels, null);
    }

    static RawBatch floats(long epoch, long[] ids, int[] shape, float[] pixels) {
        return new RawBatch(epoch, 0, ids, new int[ids.length], shape, null, pixels);
    }

    static float[] toFloats(byte[] b) {
        float[] f = new float[b.length];
        for (int i = 0; i < b.length; i++) {
            f[i] = b[i] & 0xff;
        }
        return f;
    }

    static long[] ids(long from, int n) {
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = from + i;
        }
        return ids;
    }

    /** Sample {@code b} of a (B, per) array. */
    static float[] sample(float[] all, int b, int per) {
        return java.util.Arrays.copyOfRange(all, b * per, (b + 1) * per);
    }

    /** One uint8 image through an augmenter as sample {@code id} of {@code epoch}. */
    static float[] one(Augmenter a, long epoch, long id, byte[] image) {
        float[] out = new float[a.outputElements()];
        a.apply(bytes(epoch, new long[] {id}, a.inputShape(), image), out);
        return out;
    }

    static float[] one(Augmenter a, long epoch, long id, float[] image) {
        float[] out = new float[a.outputElements()];
        a.apply(floats(epoch, new long[] {id}, a.inputShape(), image), out);
        return out;
    }

    private static final Path PYTHON = Path.of("/usr/bin/python3");

    /**
     * Runs {@code script} with the system python, {@code input} as JSON on stdin, and returns its stdout
     * as JSON. Skips the test when that python or torch is missing (the script exits 77 on ImportError).
     */
    static JsonNode python(String script, Object input) throws IOException {
        Assumptions.assumeTrue(Files.isExecutable(PYTHON), "skipped: " + PYTHON + " is not available for the cross-check");
        String header = """
                import json, sys
                try:
                    import numpy as np
                    import torch
                    import torch.nn.functional as F
                except ImportError:
                    sys.exit(77)
                inp = json.load(sys.stdin)
                """;
        Path err = Files.createTempFile("augment-test", ".stderr");
        try {
            Process p = new ProcessBuilder(List.of(PYTHON.toString(), "-c", header + script)).redirectError(err.toFile()).start();
            try (OutputStream os = p.getOutputStream()) {
                os.write(MAPPER.writeValueAsBytes(input));
            }
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("python timed out");
            }
            Assumptions.assumeTrue(p.exitValue() != 77, "skipped: " + PYTHON + " has no numpy or torch for the cross-check");
            assertEquals(0, p.exitValue(), "python failed:\n" + output + Files.readString(err));
            return MAPPER.readTree(output);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } finally {
            Files.deleteIfExists(err);
        }
    }

    static float[] floatArray(JsonNode a) {
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) a.get(i).asDouble();
        }
        return f;
    }

    /** Naive (C, H, W) read with bounds for test expectations. */
    static float at(float[] img, int[] shape, int c, int y, int x) {
        return img[(c * shape[1] + y) * shape[2] + x];
    }
}
