package org.cortado.engine.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Preparing Fashion-MNIST on first use: package folder, cache, verified download, one clear error. */
class FashionMnistTest {
    @TempDir
    Path dir;

    /** Small gzipped IDX files with the dataset's names: 12 training and 5 test images. */
    static void writeIdx(Path to) throws Exception {
        Files.createDirectories(to);
        for (String[] s : new String[][] {{"train", "12"}, {"t10k", "5"}}) {
            int n = Integer.parseInt(s[1]);
            ByteArrayOutputStream img = new ByteArrayOutputStream();
            DataOutputStream d = new DataOutputStream(img);
            d.writeInt(0x00000803);
            d.writeInt(n);
            d.writeInt(28);
            d.writeInt(28);
            for (int i = 0; i < n * 784; i++) {
                d.writeByte(i * 7);
            }
            ByteArrayOutputStream lab = new ByteArrayOutputStream();
            DataOutputStream l = new DataOutputStream(lab);
            l.writeInt(0x00000801);
            l.writeInt(n);
            for (int i = 0; i < n; i++) {
                l.writeByte(i % 10);
            }
            gzip(to.resolve(s[0] + "-images-idx3-ubyte.gz"), img.toByteArray());
            gzip(to.resolve(s[0] + "-labels-idx1-ubyte.gz"), lab.toByteArray());
        }
    }

    static void gzip(Path file, byte[] bytes) throws Exception {
        try (GZIPOutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(bytes);
        }
    }

    private static int samples(Path split) {
        try (ShardSet set = ShardSet.open(SourceConfig.of(split.toString(), "data", "label"))) {
            return set.samples();
        }
    }

    @Test
    void takesThePackageFolderFirstAndPreparesOnce() throws Exception {
        Path pkg = dir.resolve("pkg");
        writeIdx(pkg);
        Path out = dir.resolve("data/fashion-mnist");
        List<String> log = new ArrayList<>();
        var sources = new FashionMnist.Sources(pkg, dir.resolve("cache"), null, FashionMnist.MD5);
        assertEquals(pkg, FashionMnist.prepare(out, sources, log::add));
        assertEquals(12, samples(out.resolve("train")));
        assertEquals(5, samples(out.resolve("test")));
        assertTrue(log.getFirst().contains(pkg.toString()), log.toString());
        assertNull(FashionMnist.prepare(out, sources, log::add), "already prepared: nothing to do");
        try (var s = Files.list(out.getParent())) {
            assertEquals(List.of("fashion-mnist"), s.map(p -> p.getFileName().toString()).toList(), "no temporary folder left");
        }
    }

    @Test
    void downloadsIntoTheCacheCheckingEveryFilesMd5() throws Exception {
        Path served = dir.resolve("served");
        writeIdx(served);
        Map<String, Integer> hits = new HashMap<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            String name = ex.getRequestURI().getPath().substring(1);
            hits.merge(name, 1, Integer::sum);
            Path f = served.resolve(name);
            if (!Files.isRegularFile(f)) {
                ex.sendResponseHeaders(404, -1);
            } else {
                byte[] b = Files.readAllBytes(f);
                ex.sendResponseHeaders(200, b.length);
                ex.getResponseBody().write(b);
            }
            ex.close();
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/";
            Path cache = dir.resolve("cache");
            // a wrong checksum: the file is discarded, nothing is prepared, the message says why
            Map<String, String> wrong = new HashMap<>(FashionMnist.md5s(served));
            wrong.put("train-images-idx3-ubyte.gz", "00000000000000000000000000000000");
            var bad = new FashionMnist.Sources(dir.resolve("no-package"), cache, url, wrong);
            var e = assertThrows(org.cortado.engine.DataFormatException.class,
                    () -> FashionMnist.prepare(dir.resolve("bad"), bad, s -> { }));
            assertTrue(e.getMessage().contains("MD5"), e.getMessage());
            assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
            assertFalse(Files.exists(cache.resolve("train-images-idx3-ubyte.gz")));
            assertFalse(FashionMnist.prepared(dir.resolve("bad")));

            var good = new FashionMnist.Sources(dir.resolve("no-package"), cache, url, FashionMnist.md5s(served));
            Path out = dir.resolve("out");
            assertEquals(cache, FashionMnist.prepare(out, good, s -> { }));
            assertEquals(12, samples(out.resolve("train")));
            assertEquals(FashionMnist.md5s(served), FashionMnist.md5s(cache));
            // the cache is used next time: no second download
            int before = hits.values().stream().mapToInt(Integer::intValue).sum();
            assertEquals(cache, FashionMnist.prepare(dir.resolve("out2"), good, s -> { }));
            assertEquals(before, hits.values().stream().mapToInt(Integer::intValue).sum());
        } finally {
            server.stop(0);
        }
    }

    @Test
    void whenEveryPlaceFailsOneMessageSaysWhatWasTriedAndHowToGetTheFiles() {
        var none = new FashionMnist.Sources(dir.resolve("no-package"), dir.resolve("no-cache"),
                "http://127.0.0.1:9/", FashionMnist.MD5);
        var e = assertThrows(org.cortado.engine.DataFormatException.class,
                () -> FashionMnist.prepare(dir.resolve("out"), none, s -> { }));
        String m = e.getMessage();
        for (String part : List.of(dir.resolve("no-package").toString(), dir.resolve("no-cache").toString(),
                "http://127.0.0.1:9/", "train-images-idx3-ubyte.gz", "apt-get install dataset-fashion-mnist")) {
            assertTrue(m.contains(part), "missing " + part + " in: " + m);
        }
    }
}
