package org.cortado.engine.io;

import static org.cortado.engine.io.NpyTest.fixture;
import static org.cortado.engine.io.NpyTest.python;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.cortado.engine.DataFormatException;
import org.cortado.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Npz against np.savez / np.savez_compressed archives, and numpy reading what we write. */
class NpzTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"stored.npz", "compressed.npz"})
    void readsNumpyArchives(String name) {
        LinkedHashMap<String, Tensor> arrays = Npz.read(fixture(name));
        assertEquals(List.of("weights", "labels", "scale"), List.copyOf(arrays.keySet()));

        Tensor weights = arrays.get("weights");
        assertArrayEquals(new int[] {3, 4}, weights.shape());
        assertArrayEquals(new float[] {-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6}, weights.toArray());
        assertArrayEquals(new float[] {3, 1, 4, 1, 5}, arrays.get("labels").toArray()); // uint8
        assertArrayEquals(new int[0], arrays.get("scale").shape());
        assertEquals(0.125f, arrays.get("scale").get(0)); // float64 scalar
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void roundTrips(boolean compressed) throws IOException {
        Path file = tmp.resolve("arrays.npz");
        LinkedHashMap<String, Tensor> arrays = sample();
        Npz.write(file, arrays, compressed);

        LinkedHashMap<String, Tensor> back = Npz.read(file);
        assertEquals(List.copyOf(arrays.keySet()), List.copyOf(back.keySet()));
        for (String key : arrays.keySet()) {
            assertArrayEquals(arrays.get(key).shape(), back.get(key).shape(), key);
            assertArrayEquals(arrays.get(key).toArray(), back.get(key).toArray(), key);
        }
        try (ZipFile zip = new ZipFile(file.toFile())) {
            int method = compressed ? ZipEntry.DEFLATED : ZipEntry.STORED;
            for (ZipEntry e : Collections.list(zip.entries())) {
                assertEquals(method, e.getMethod(), e.getName());
            }
        }
    }

    @Test
    void defaultIsStoredLikeNpSavez() throws IOException {
        Path file = tmp.resolve("default.npz");
        Npz.write(file, sample());
        try (ZipFile zip = new ZipFile(file.toFile())) {
            assertEquals(ZipEntry.STORED, zip.getEntry("w.npy").getMethod());
        }
    }

    @Test
    void numpyReadsWhatJavaWrites() {
        Path stored = tmp.resolve("stored.npz");
        Path compressed = tmp.resolve("compressed.npz");
        Npz.write(stored, sample(), false);
        Npz.write(compressed, sample(), true);
        python("""
                import sys, numpy as np
                for path in sys.argv[1:3]:
                    with np.load(path) as z:
                        assert z.files == ["w", "b", "s"], z.files
                        assert z["w"].dtype == np.float32 and z["w"].shape == (2, 3)
                        assert (z["w"] == np.arange(6).reshape(2, 3) - 2.5).all(), z["w"]
                        assert (z["b"] == np.float32([0.5, -0.5])).all(), z["b"]
                        assert z["s"].shape == () and z["s"] == 42, z["s"]
                """, stored, compressed);
    }

    // ---- bad input --------------------------------------------------------------------------

    @Test
    void rejectsMissingFile() {
        assertFails(tmp.resolve("missing.npz"), "does not exist");
    }

    @Test
    void rejectsFileThatIsNotAZip() throws IOException {
        assertFails(Files.writeString(tmp.resolve("text.npz"), "not a zip archive"), "not a valid zip");
    }

    @Test
    void rejectsMemberThatIsNotNpy() throws IOException {
        Path file = zip("readme.npz", "readme.txt", "hello".getBytes(StandardCharsets.UTF_8));
        assertFails(file, "'readme.txt'");
    }

    @Test
    void rejectsMalformedMemberNamingIt() throws IOException {
        ByteArrayOutputStream npy = new ByteArrayOutputStream();
        Npy.write(npy, new Tensor(2, 3));
        byte[] bytes = npy.toByteArray();
        Path file = zip("truncated.npz", "x.npy", java.util.Arrays.copyOf(bytes, bytes.length - 4));
        assertFails(file, "member x.npy", "truncated");
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static LinkedHashMap<String, Tensor> sample() {
        LinkedHashMap<String, Tensor> arrays = new LinkedHashMap<>();
        arrays.put("w", new Tensor(new float[] {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f}, 2, 3));
        arrays.put("b", new Tensor(new float[] {0.5f, -0.5f}, 2));
        arrays.put("s", Tensor.scalar(42));
        return arrays;
    }

    private Path zip(String name, String member, byte[] content) throws IOException {
        Path file = tmp.resolve(name);
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(out)) {
            zip.putNextEntry(new ZipEntry(member));
            zip.write(content);
            zip.closeEntry();
        }
        return file;
    }

    private static void assertFails(Path file, String... what) {
        DataFormatException e = assertThrows(DataFormatException.class, () -> Npz.read(file));
        assertTrue(e.getMessage().contains(file.toString()), "message should name the file: " + e.getMessage());
        for (String w : what) {
            assertTrue(e.getMessage().contains(w), "message should say '" + w + "': " + e.getMessage());
        }
    }
}
