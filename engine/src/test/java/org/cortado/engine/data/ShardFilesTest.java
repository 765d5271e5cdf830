package org.cortado.engine.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.cortado.engine.DataFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardFilesTest {

    private static Path touch(Path p) throws IOException {
        Files.createDirectories(p.getParent());
        Files.write(p, new byte[] {1});
        return p;
    }

    @Test
    void folderListsDataFilesSortedAndPairsNpy(@TempDir Path tmp) throws IOException {
        touch(tmp.resolve("b.h5"));
        touch(tmp.resolve("a.npz"));
        touch(tmp.resolve("c_data.npy"));
        touch(tmp.resolve("c_label.npy"));
        touch(tmp.resolve("mean.npy")); // not a shard: skipped in a folder
        touch(tmp.resolve("notes.txt"));
        touch(tmp.resolve("sub/d.h5")); // folders are not searched
        List<ShardFiles.ShardFile> s = ShardFiles.resolve(tmp.toString(), "data", "label");
        assertEquals(3, s.size());
        assertEquals(tmp.resolve("a.npz"), s.get(0).data());
        assertNull(s.get(0).labels());
        assertEquals(tmp.resolve("b.h5"), s.get(1).data());
        assertEquals(tmp.resolve("c_data.npy"), s.get(2).data());
        assertEquals(tmp.resolve("c_label.npy"), s.get(2).labels());
    }

    @Test
    void npySuffixesFollowTheArrayNames(@TempDir Path tmp) throws IOException {
        touch(tmp.resolve("p0_x.npy"));
        touch(tmp.resolve("p0_y.npy"));
        List<ShardFiles.ShardFile> s = ShardFiles.resolve(tmp.resolve("p0_x.npy").toString(), "x", "y");
        assertEquals(tmp.resolve("p0_y.npy"), s.get(0).labels());
        var e = assertThrows(DataFormatException.class,
                () -> ShardFiles.resolve(tmp.resolve("p0_x.npy").toString(), "data", "label"));
        assertTrue(e.getMessage().contains("NAME_data.npy"), e.getMessage());
        Files.delete(tmp.resolve("p0_y.npy"));
        e = assertThrows(DataFormatException.class, () -> ShardFiles.resolve(tmp.toString(), "x", "y"));
        assertTrue(e.getMessage().contains("p0_x.npy") && e.getMessage().contains("p0_y.npy"), e.getMessage());
    }

    @Test
    void globsMatchAcrossFolders(@TempDir Path tmp) throws IOException {
        touch(tmp.resolve("train/part-1.h5"));
        touch(tmp.resolve("train/part-0.h5"));
        touch(tmp.resolve("test/part-0.h5"));
        touch(tmp.resolve("deep/x/part-9.h5"));
        List<ShardFiles.ShardFile> s = ShardFiles.resolve(tmp + "/train/part-*.h5", "data", "label");
        assertEquals(List.of(tmp.resolve("train/part-0.h5"), tmp.resolve("train/part-1.h5")),
                s.stream().map(ShardFiles.ShardFile::data).toList());
        assertEquals(2, ShardFiles.resolve(tmp + "/*/part-0.h5", "data", "label").size());
        assertEquals(4, ShardFiles.resolve(tmp + "/**.h5", "data", "label").size());
        touch(tmp.resolve("top.h5"));
        assertEquals(5, ShardFiles.resolve(tmp + "/**/*.h5", "data", "label").size(), "**/ matches no folder too");
        assertEquals(List.of(tmp.resolve("train/part-1.h5")), ShardFiles.resolve(tmp + "/**/part-1.h5", "data", "label")
                .stream().map(ShardFiles.ShardFile::data).toList());
        var e = assertThrows(DataFormatException.class, () -> ShardFiles.resolve(tmp + "/train/*.npz", "data", "label"));
        assertTrue(e.getMessage().contains("empty shard set"), e.getMessage());
    }

    @Test
    void listFilesResolveBesideThemselvesAndNameBadLines(@TempDir Path tmp) throws IOException {
        touch(tmp.resolve("shards/a.h5"));
        Path abs = touch(tmp.resolve("elsewhere/b.hdf5"));
        Path list = tmp.resolve("train.txt");
        Files.writeString(list, "# Caffe HDF5Data source\nshards/a.h5\n\n" + abs + "\n");
        List<ShardFiles.ShardFile> s = ShardFiles.resolve(list.toString(), "data", "label");
        assertEquals(List.of(tmp.resolve("shards/a.h5"), abs), s.stream().map(ShardFiles.ShardFile::data).toList());

        Files.writeString(list, "shards/a.h5\nshards/missing.h5\n");
        var e = assertThrows(DataFormatException.class, () -> ShardFiles.resolve(list.toString(), "data", "label"));
        assertTrue(e.getMessage().contains("train.txt line 2") && e.getMessage().contains("missing.h5"), e.getMessage());

        Files.writeString(list, "\n# nothing\n");
        e = assertThrows(DataFormatException.class, () -> ShardFiles.resolve(list.toString(), "data", "label"));
        assertTrue(e.getMessage().contains("empty shard set"), e.getMessage());

        e = assertThrows(DataFormatException.class,
                () -> ShardFiles.resolve(tmp.resolve("nope").toString(), "data", "label"));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        Files.createDirectories(tmp.resolve("empty"));
        e = assertThrows(DataFormatException.class, () -> ShardFiles.resolve(tmp.resolve("empty").toString(), "data", "label"));
        assertTrue(e.getMessage().contains("empty shard set"), e.getMessage());
    }
}
