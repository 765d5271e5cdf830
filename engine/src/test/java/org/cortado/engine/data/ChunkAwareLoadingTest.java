package org.cortado.engine.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import org.cortado.engine.config.Json;
import org.cortado.engine.net.Phase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The loader's whole path over compressed shards: config, shard set, chunk-aware sampler, chunk caches. */
class ChunkAwareLoadingTest {

    @Test
    void everyGzipChunkIsDecompressedOncePerEpoch(@TempDir Path tmp) {
        int shards = 4;
        int rows = 1024;
        int chunkRows = 64;
        for (int s = 0; s < shards; s++) {
            byte[] px = new byte[rows * 32 * 32];
            long[] labels = new long[rows];
            for (int r = 0; r < rows; r++) {
                px[r * 1024] = (byte) s; // first pixel: the shard, to check samples land right
                px[r * 1024 + 1] = (byte) (r & 0xff);
                labels[r] = r % 10;
            }
            var arrays = new LinkedHashMap<String, NdArray>();
            arrays.put("data", NdArray.ofBytes("d", px, rows, 1, 32, 32));
            arrays.put("label", NdArray.ofLongs("l", labels, rows));
            Hdf5Writer.write(tmp.resolve("part-" + s + ".h5"), arrays, Hdf5Writer.Options.chunked(chunkRows).gzip(1));
        }
        // 4 MiB of budget: shuffle windows (and chunk caches) of 1 MiB, a quarter of the 4 MiB set.
        Json data = Json.parse("{\"train\": {\"source\": \"" + tmp.toString().replace("\\", "\\\\")
                + "\", \"memory_mb\": 4, \"drop_last\": true}}", "test");
        SourceConfig src = SourceConfig.parse(data, Phase.TRAIN).orElseThrow();
        try (ShardSet set = ShardSet.open(src)) {
            assertTrue(set.chunked());
            Sampler sampler = src.sampler(set, 100, 7);
            int chunks = shards * rows / chunkRows;
            for (int epoch = 0; epoch < 2; epoch++) {
                long before = Hdf5ChunkedArray.DECOMPRESSED_TOTAL.get();
                int seen = 0;
                for (int b = 0; b < sampler.batchesPerEpoch(); b++) {
                    long[] ids = sampler.batch(epoch, b);
                    RawBatch batch = set.read(epoch, b, ids);
                    for (int i = 0; i < ids.length; i++) {
                        assertEquals(ids[i] / rows, batch.bytes()[i * 1024]);
                        assertEquals((byte) (ids[i] % rows), batch.bytes()[i * 1024 + 1]);
                        assertEquals(ids[i] % rows % 10, batch.labels()[i]);
                    }
                    seen += ids.length;
                }
                long decompressed = Hdf5ChunkedArray.DECOMPRESSED_TOTAL.get() - before;
                assertEquals(shards * rows / 100 * 100, seen);
                assertTrue(decompressed <= chunks, "epoch " + epoch + ": " + decompressed + " decompressions of "
                        + chunks + " chunks");
                if (epoch == 0) {
                    assertTrue(decompressed >= chunks - 1, "every chunk is read (drop_last may skip one)");
                }
            }
            assertTrue(set.resident() <= src.memoryBytes(), "resident " + set.resident());
        }
    }

    @Test
    void aDeflatedNpzMemberIsOneChunkAStoredOneIsNot(@TempDir Path tmp) {
        for (boolean compressed : new boolean[] {true, false}) {
            Path dir = tmp.resolve(compressed ? "deflated" : "stored");
            var arrays = new LinkedHashMap<String, NdArray>();
            arrays.put("data", NdArray.ofBytes("d", new byte[6 * 4], 6, 2, 2));
            arrays.put("label", NdArray.ofLongs("l", new long[6], 6));
            try {
                java.nio.file.Files.createDirectories(dir);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            NpzFile.write(dir.resolve("a.npz"), arrays, compressed);
            NpzFile.write(dir.resolve("b.npz"), arrays, compressed);
            try (ShardSet set = ShardSet.open(SourceConfig.of(dir.toString(), "data", "label"))) {
                assertEquals(compressed, set.chunked());
                assertEquals(compressed ? 2 : 12, set.chunkStarts().length);
            }
        }
    }
}
