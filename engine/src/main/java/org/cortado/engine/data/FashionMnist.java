package org.cortado.engine.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.cortado.engine.DataFormatException;

/**
 * Prepares Fashion-MNIST shards on first use, as torchvision's {@code FashionMNIST(download=True)}
 * does: the four IDX files are taken from the first place that has them all,
 * <ol>
 *   <li>Debian's {@code dataset-fashion-mnist} package ({@code /usr/share/datasets/fashion-mnist}),</li>
 *   <li>the user cache ({@code $XDG_CACHE_HOME/cortado/fashion-mnist}, else {@code ~/.cache/cortado/fashion-mnist}),</li>
 *   <li>the dataset's official location (Zalando's, as torchvision downloads it), each file's MD5
 *       checked against the published one before it is kept in the cache,</li>
 * </ol>
 * then converted into {@code out/train} and {@code out/test} shards ({@link DatasetImport}). The
 * shards are written into a temporary folder next to {@code out} and moved into place at the end, so
 * an interrupted preparation leaves nothing half-written. When every place fails, one error says
 * what was tried and how to get the four files.
 */
public final class FashionMnist {
    /** The four files, as the dataset publishes them (gzipped IDX). */
    public static final List<String> FILES = List.of("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz");

    /** The published MD5 of each file (the same list torchvision checks). */
    public static final Map<String, String> MD5 = Map.of(
            "train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310");

    /** The dataset's official download location. */
    public static final String OFFICIAL_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";

    /** Where to look, in order; tests point these elsewhere. */
    public record Sources(Path packageDir, Path cacheDir, String baseUrl, Map<String, String> md5) {
        public static Sources defaults() {
            String xdg = System.getenv("XDG_CACHE_HOME");
            Path cache = (xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache"))
                    .resolve("cortado").resolve("fashion-mnist");
            return new Sources(DatasetImport.FASHION_MNIST_DIR, cache, OFFICIAL_URL, MD5);
        }
    }

    private FashionMnist() {}

    /** True when {@code out/train} and {@code out/test} both hold data files. */
    public static boolean prepared(Path out) {
        return hasFiles(out.resolve("train")) && hasFiles(out.resolve("test"));
    }

    /**
     * Makes sure {@code out/train} and {@code out/test} exist, importing them when they do not.
     * Returns the folder the IDX files came from, or null when the shards were already there.
     *
     * @param log one line per thing done (where the files came from, what was written)
     */
    public static Path prepare(Path out, Sources sources, java.util.function.Consumer<String> log) {
        if (prepared(out)) {
            return null;
        }
        Path from = locate(sources, log);
        Path tmp;
        try {
            Path parent = out.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            tmp = Files.createTempDirectory(parent, "." + out.getFileName() + ".preparing-");
        } catch (IOException e) {
            throw new DataFormatException("cannot create " + out + ": " + e.getMessage());
        }
        try {
            log.accept("preparing Fashion-MNIST shards in " + out + " from " + from);
            DatasetImport.fashionMnist(from, tmp, DatasetImport.Options.DEFAULT, (done, total) -> { });
            Files.createDirectories(out);
            for (String split : List.of("train", "test")) {
                Path dst = out.resolve(split);
                if (!hasFiles(dst)) {
                    deleteTree(dst);
                    Files.move(tmp.resolve(split), dst, StandardCopyOption.ATOMIC_MOVE);
                }
            }
            return from;
        } catch (IOException e) {
            throw new DataFormatException("cannot write Fashion-MNIST shards into " + out + ": " + e.getMessage());
        } finally {
            deleteTree(tmp);
        }
    }

    /** The first folder holding all four files; downloads into the cache when none does. */
    static Path locate(Sources sources, java.util.function.Consumer<String> log) {
        List<String> tried = new ArrayList<>();
        for (Path dir : new Path[] {sources.packageDir(), sources.cacheDir()}) {
            if (dir != null && hasAll(dir)) {
                return dir;
            }
            if (dir != null) {
                tried.add(dir + " (" + (Files.isDirectory(dir) ? "incomplete" : "absent") + ")");
            }
        }
        if (sources.baseUrl() != null && !sources.baseUrl().isBlank()) {
            try {
                download(sources, log);
                return sources.cacheDir();
            } catch (DataFormatException e) {
                tried.add(sources.baseUrl() + " (" + e.getMessage() + ")");
            }
        }
        throw new DataFormatException("Fashion-MNIST: no copy of the four files " + String.join(", ", FILES)
                + " was found. Tried: " + String.join("; ", tried) + ". Get them with `sudo apt-get install"
                + " dataset-fashion-mnist` (Debian/Ubuntu), or download them from " + OFFICIAL_URL + " (or"
                + " https://github.com/zalandoresearch/fashion-mnist) into " + sources.cacheDir());
    }

    private static void download(Sources sources, java.util.function.Consumer<String> log) {
        Path cache = sources.cacheDir();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(15))
                .followRedirects(HttpClient.Redirect.NORMAL).build();
        try {
            Files.createDirectories(cache);
            for (String f : FILES) {
                Path dst = cache.resolve(f);
                if (Files.isRegularFile(dst) && md5(dst).equals(sources.md5().get(f))) {
                    continue;
                }
                String url = sources.baseUrl().endsWith("/") ? sources.baseUrl() + f : sources.baseUrl() + "/" + f;
                log.accept("downloading " + url);
                Path part = cache.resolve(f + ".part");
                HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofMinutes(5)).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
                try (InputStream in = r.body()) {
                    if (r.statusCode() != 200) {
                        throw new DataFormatException(url + ": HTTP " + r.statusCode());
                    }
                    Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
                }
                String sum = md5(part);
                if (!sum.equals(sources.md5().get(f))) {
                    Files.deleteIfExists(part);
                    throw new DataFormatException(url + ": MD5 " + sum + ", expected " + sources.md5().get(f)
                            + " (file discarded)");
                }
                Files.move(part, dst, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException e) {
            throw new DataFormatException("download failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DataFormatException("download interrupted");
        }
    }

    static String md5(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("MD5");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean hasAll(Path dir) {
        return FILES.stream().allMatch(f -> Files.isRegularFile(dir.resolve(f)));
    }

    private static boolean hasFiles(Path dir) {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.anyMatch(p -> {
                String n = p.getFileName().toString();
                return n.endsWith(".h5") || n.endsWith(".npy") || n.endsWith(".npz");
            });
        } catch (IOException e) {
            return false;
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // best effort: a leftover temporary folder is harmless and named as such
        }
    }

    /** The MD5s of {@code files} in {@code dir}, for tests that serve their own copies. */
    public static Map<String, String> md5s(Path dir) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String f : FILES) {
            out.put(f, md5(dir.resolve(f)));
        }
        return out;
    }
}
