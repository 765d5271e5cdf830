package org.cortado.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.cortado.engine.DataFormatException;
import org.cortado.engine.ops.Parallel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetImportTest {
    static final Path FIXTURES = Path.of("src/test/resources/fixtures/data");

    /** A Fashion-MNIST-shaped folder made of the small IDX fixtures (5 images of 4x3, labels 3 1 4 1 5). */
    private static Path fakeFashionMnist(Path tmp) throws IOException {
        Path dir = tmp.resolve("fm");
        Files.createDirectories(dir);
        for (String split : List.of("train", "t10k")) {
            Files.copy(FIXTURES.resolve("idx/images-idx3-ubyte.gz"), dir.resolve(split + "-images-idx3-ubyte.gz"));
            Files.copy(FIXTURES.resolve("idx/labels-idx1-ubyte.gz"), dir.resolve(split + "-labels-idx1-ubyte.gz"));
        }
        return dir;
    }

    @Test
    void idxImportRoundTripsThroughEveryFormat(@TempDir Path tmp) throws IOException {
        Path from = fakeFashionMnist(tmp);
        NdArray images = Idx.read(FIXTURES.resolve("idx/images-idx3-ubyte.gz"));
        int[] expectedLabels = {3, 1, 4, 1, 5};
        List<DatasetImport.Options> variants = List.of(new DatasetImport.Options(DatasetImport.Format.H5, 2, 1, 4),
                new DatasetImport.Options(DatasetImport.Format.H5, 2, 0, 0), // contiguous, for HDF5 1.8
                new DatasetImport.Options(DatasetImport.Format.NPY, 2, 1, 4));
        assertThrows(IllegalArgumentException.class, () -> new DatasetImport.Options(DatasetImport.Format.H5, 2, 0, 4));
        for (DatasetImport.Options opt : variants) {
            DatasetImport.Format f = opt.format();
            Path out = tmp.resolve("out-" + f + opt.chunkRows());
            List<Long> seen = new ArrayList<>();
            var splits = DatasetImport.fashionMnist(from, out, opt,
                    (done, total) -> seen.add(done));
            assertEquals(2, splits.size());
            assertEquals(out.resolve("train"), splits.get(0).dir());
            assertEquals(f == DatasetImport.Format.H5 ? 3 : 6, splits.get(0).files().size(), "5 samples in shards of 2");
            assertEquals(5L, seen.get(seen.size() - 1));
            try (ShardSet set = ShardSet.open(SourceConfig.of(out.resolve("test").toString(), "data", "label"))) {
                assertEquals(5, set.samples());
                assertEquals(3, set.shards());
                assertArrayEquals(new int[] {1, 4, 3}, set.sampleShape());
                assertEquals(DType.U1, set.dtype());
                RawBatch b = set.read(0, 0, new long[] {0, 1, 2, 3, 4});
                assertArrayEquals(expectedLabels, b.labels());
                byte[] raw = new byte[60];
                images.data().get(0, raw);
                assertArrayEquals(raw, b.bytes(), f + ": pixels survive the import unchanged");
            }
        }
    }

    @Test
    void importIntoAFolderWithShardsIsRefused(@TempDir Path tmp) throws IOException {
        Path from = fakeFashionMnist(tmp);
        Path out = tmp.resolve("out");
        DatasetImport.fashionMnist(from, out, new DatasetImport.Options(DatasetImport.Format.NPY, 2, 1, 0),
                Progress.NONE);
        // Again with another format: the old npy shards would stay beside the new h5 ones.
        var e = assertThrows(DataFormatException.class, () -> DatasetImport.fashionMnist(from, out,
                new DatasetImport.Options(DatasetImport.Format.H5, 4, 1, 4), Progress.NONE));
        assertTrue(e.getMessage().contains(out.resolve("train").toString())
                && e.getMessage().contains("already holds shards (part-"), e.getMessage());
        try (var files = Files.list(out.resolve("train"))) {
            assertTrue(files.noneMatch(f -> f.toString().endsWith(".h5")), "nothing written");
        }
    }

    @Test
    void shardTooLargeForOneArrayIsRefused(@TempDir Path tmp) {
        // 4 images of 3x30000x30000: 1.08e10 bytes in one shard, far past an int.
        try (Parallel par = new Parallel(1)) {
            var e = assertThrows(IllegalArgumentException.class, () -> DatasetImport.images(FIXTURES.resolve("images"),
                    tmp.resolve("big"), 3, 30_000, 30_000, 1, DatasetImport.Options.DEFAULT, par, Progress.NONE));
            assertTrue(e.getMessage().contains("4 samples of 3x30000x30000") && e.getMessage().contains("shard size"),
                    e.getMessage());
        }
    }

    @Test
    void missingFashionMnistSaysHowToGetIt(@TempDir Path tmp) throws IOException {
        var e = assertThrows(DataFormatException.class, () -> DatasetImport.fashionMnist(tmp.resolve("none"),
                tmp.resolve("out"), DatasetImport.Options.DEFAULT, Progress.NONE));
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
        Files.createDirectories(tmp.resolve("half"));
        Files.copy(FIXTURES.resolve("idx/images-idx3-ubyte.gz"), tmp.resolve("half/train-images-idx3-ubyte.gz"));
        e = assertThrows(DataFormatException.class, () -> DatasetImport.fashionMnist(tmp.resolve("half"),
                tmp.resolve("out"), DatasetImport.Options.DEFAULT, Progress.NONE));
        assertTrue(e.getMessage().contains("train-labels-idx1-ubyte"), e.getMessage());
    }

    @Test
    void idxWithMismatchedLabelsIsNamed(@TempDir Path tmp) {
        var e = assertThrows(DataFormatException.class, () -> DatasetImport.idx(
                FIXTURES.resolve("idx/images-idx3-ubyte.gz"), FIXTURES.resolve("idx/values-0c.idx"), tmp, "x",
                DatasetImport.Options.DEFAULT, Progress.NONE));
        assertTrue(e.getMessage().contains("values-0c.idx"), e.getMessage());
    }

    @Test
    void imageFolderBecomesAShuffledShardSetWithClassNames(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("imgs");
        try (Parallel par = new Parallel(2)) {
            var splits = DatasetImport.images(FIXTURES.resolve("images"), out, 3, 8, 8, 1,
                    new DatasetImport.Options(DatasetImport.Format.NPY, 3, 1, 0), par, Progress.NONE);
            assertEquals(1, splits.size());
            assertEquals(4, splits.get(0).samples());
        }
        assertEquals(List.of("cat", "dog"), Files.readAllLines(out.resolve("classes.txt")));
        // Every sample is one of the fixture images, decoded and resized as Images does, with the
        // label of its folder; together they are all four images.
        String[][] files = {{"cat/gray.png", "0"}, {"cat/rgb.png", "0"}, {"dog/rgba.png", "1"}, {"dog/smooth.jpg", "1"}};
        Set<String> found = new HashSet<>();
        try (ShardSet set = ShardSet.open(SourceConfig.of(out.toString(), "data", "label"))) {
            assertEquals(2, set.shards());
            assertArrayEquals(new int[] {3, 8, 8}, set.sampleShape());
            for (int id = 0; id < 4; id++) {
                RawBatch b = set.read(0, 0, new long[] {id});
                for (String[] f : files) {
                    if (java.util.Arrays.equals(Images.load(FIXTURES.resolve("images/" + f[0]), 3, 8, 8), b.bytes())) {
                        assertEquals(Integer.parseInt(f[1]), b.labels()[0], f[0]);
                        found.add(f[0]);
                    }
                }
            }
        }
        assertEquals(4, found.size(), "found " + found);
    }

    @Test
    void trainAndTestFoldersBecomeSplits(@TempDir Path tmp) throws IOException {
        Path root = tmp.resolve("root");
        for (String[] f : new String[][] {{"train/cat", "cat/rgb.png"}, {"train/dog", "dog/rgba.png"},
                {"test/dog", "dog/smooth.jpg"}}) {
            Files.createDirectories(root.resolve(f[0]));
            Files.copy(FIXTURES.resolve("images/" + f[1]), root.resolve(f[0]).resolve(Path.of(f[1]).getFileName()));
        }
        try (Parallel par = new Parallel(1)) {
            var splits = DatasetImport.images(root, tmp.resolve("out"), 1, 5, 7, 1, DatasetImport.Options.DEFAULT, par,
                    Progress.NONE);
            assertEquals(List.of("test", "train"), splits.stream().map(DatasetImport.Split::name).toList());
        }
        try (ShardSet test = ShardSet.open(SourceConfig.of(tmp.resolve("out/test").toString(), "data", "label"))) {
            assertEquals(1, test.samples());
            assertEquals(1, test.label(0), "classes are shared by the splits: dog is 1 in test too");
            assertArrayEquals(new int[] {1, 5, 7}, test.sampleShape());
        }
        Files.createDirectories(tmp.resolve("noclasses"));
        try (Parallel par = new Parallel(1)) {
            var e = assertThrows(DataFormatException.class, () -> DatasetImport.images(tmp.resolve("noclasses"),
                    tmp.resolve("o2"), 3, 8, 8, 1, DatasetImport.Options.DEFAULT, par, Progress.NONE));
            assertTrue(e.getMessage().contains("no class sub-folders"), e.getMessage());
        }
    }
}
