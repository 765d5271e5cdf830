package org.cortado.engine.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.cortado.engine.DataFormatException;
import org.cortado.engine.layers.LayerContext;
import org.cortado.engine.ops.Parallel;

/**
 * Converts datasets into shard sets ({@code cortado data import}): Fashion-MNIST and any IDX pair,
 * and folders of class sub-folders of images (torchvision's {@code ImageFolder} layout).
 *
 * <p>Output: one folder per split ({@code OUT/train}, {@code OUT/test}), shards
 * {@code part-00000.h5} (datasets {@code data} (N, C, H, W) uint8 and {@code label} (N) int64,
 * chunked by rows, gzip) or {@code part-00000_data.npy} + {@code part-00000_label.npy}. Each split
 * folder is a ready {@code data.*.source}. Shards are written to a temporary name and renamed when
 * complete, so an interrupted import never leaves a half-written shard that looks whole.
 */
public final class DatasetImport {
    private DatasetImport() {}

    public enum Format { H5, NPY }

    /**
     * @param format    shard file format
     * @param shardSize samples per shard (the last shard holds the rest)
     * @param chunkRows HDF5 only: rows per chunk (the unit the loader decompresses); 0 writes
     *                  contiguous, uncompressed datasets, which HDF5 1.8 (Caffe's HDF5Data) reads
     * @param gzipLevel HDF5 only: deflate level 1-9, 0 for no compression
     */
    public record Options(Format format, int shardSize, int chunkRows, int gzipLevel) {
        public static final Options DEFAULT = new Options(Format.H5, 10_000, 64, 4);

        public Options {
            if (shardSize < 1) {
                throw new IllegalArgumentException("shard size must be >= 1, got " + shardSize);
            }
            if (chunkRows < 0) {
                throw new IllegalArgumentException("chunk rows must be >= 0 (0: contiguous), got " + chunkRows);
            }
            if (chunkRows == 0 && gzipLevel > 0) {
                throw new IllegalArgumentException("gzip needs chunked storage: chunk rows 0 (contiguous) with gzip level "
                        + gzipLevel + "; use gzip level 0");
            }
            if (gzipLevel < 0 || gzipLevel > 9) {
                throw new IllegalArgumentException("gzip level must be 0-9, got " + gzipLevel);
            }
        }
    }

    /** One imported split: where it went, how many samples, their shape, and the files written. */
    public record Split(String name, Path dir, int samples, int[] sampleShape, List<Path> files) {}

    /** The default place of Debian's {@code dataset-fashion-mnist} package. */
    public static final Path FASHION_MNIST_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    /**
     * Fashion-MNIST (or MNIST: same file names) from the four IDX files in {@code from}, gzipped or
     * not, into {@code out/train} (60,000) and {@code out/test} (10,000).
     */
    public static List<Split> fashionMnist(Path from, Path out, Options opt, Progress progress) {
        if (!Files.isDirectory(from)) {
            throw new DataFormatException("Fashion-MNIST folder " + from + " does not exist (on Debian/Ubuntu: "
                    + "sudo apt-get install dataset-fashion-mnist, or pass --from DIR with the four IDX files)");
        }
        List<Split> splits = new ArrayList<>();
        for (String[] s : new String[][] {{"train", "train"}, {"test", "t10k"}}) {
            Path images = idxFile(from, s[1] + "-images-idx3-ubyte");
            Path labels = idxFile(from, s[1] + "-labels-idx1-ubyte");
            splits.add(idx(images, labels, out.resolve(s[0]), s[0], opt, progress));
        }
        return splits;
    }

    private static Path idxFile(Path dir, String base) {
        for (String name : List.of(base + ".gz", base)) {
            if (Files.isRegularFile(dir.resolve(name))) {
                return dir.resolve(name);
            }
        }
        throw new DataFormatException(dir + ": no " + base + ".gz (or " + base + ")");
    }

    /** Any IDX pair: images (N, H, W) or (N, C, H, W), labels (N). */
    public static Split idx(Path images, Path labels, Path outDir, String name, Options opt, Progress progress) {
        NdArray x = Idx.read(images);
        NdArray y = Idx.read(labels);
        int[] xs = x.shape();
        if (xs.length != 3 && xs.length != 4) {
            throw new DataFormatException(images + ": IDX array of shape " + Arrays.toString(xs)
                    + " is not (N, H, W) or (N, C, H, W)");
        }
        if (y.shape().length != 1 || y.shape()[0] != xs[0]) {
            throw new DataFormatException(labels + ": " + Arrays.toString(y.shape()) + " labels for " + xs[0]
                    + " images in " + images);
        }
        int[] sample = xs.length == 4 ? new int[] {xs[1], xs[2], xs[3]} : new int[] {1, xs[1], xs[2]};
        long[] lab = new long[xs[0]];
        for (int i = 0; i < lab.length; i++) {
            double v = y.dtype().get(y.data(), i);
            if (v != Math.rint(v) || v < 0) {
                throw new DataFormatException(labels + ": label " + v + " at row " + i + " is not a class id");
            }
            lab[i] = (long) v;
        }
        return writeSplit(name, outDir, x, sample, lab, opt, progress);
    }

    /** Writes rows of {@code x} (any dtype) with their labels as shards of {@code opt.shardSize}. */
    private static Split writeSplit(String name, Path dir, NdArray x, int[] sample, long[] labels, Options opt,
                                    Progress progress) {
        prepare(dir);
        refuseOldShards(dir);
        int n = labels.length;
        checkShardBytes(Math.min(opt.shardSize(), n), sample, x.dtype().size);
        List<Path> files = new ArrayList<>();
        AtomicLong done = new AtomicLong();
        for (int start = 0, part = 0; start < n; start += opt.shardSize(), part++) {
            int count = Math.min(opt.shardSize(), n - start);
            ByteBuffer rows = x.rows(start, count);
            NdArray data = new NdArray(x.source(), x.dtype(), new int[] {count, sample[0], sample[1], sample[2]},
                    copy(rows));
            files.addAll(writeShard(dir, part, data, Arrays.copyOfRange(labels, start, start + count), opt));
            progress.update(done.addAndGet(count), n);
        }
        return new Split(name, dir, n, sample, files);
    }

    /**
     * A folder of class sub-folders of images: {@code ROOT/CLASS/*.png|jpg|jpeg|bmp|gif}, label =
     * index of CLASS among the sub-folder names sorted (torchvision's {@code ImageFolder}). If ROOT
     * holds {@code train}, {@code val} or {@code test} folders of class folders, each becomes a
     * split, sharing the classes found in all of them. Every image is converted to {@code channels}
     * and resized to {@code height x width} (see {@link Images}). Samples are written in an order
     * shuffled with {@code seed} (as Caffe's {@code convert_imageset --shuffle}), so each shard mixes
     * classes. {@code OUT/classes.txt} lists the class names, line i = class i.
     */
    public static List<Split> images(Path root, Path out, int channels, int height, int width, long seed, Options opt,
                                     Parallel par, Progress progress) {
        if (!Files.isDirectory(root)) {
            throw new DataFormatException("image folder " + root + " does not exist");
        }
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
        }
        List<String> splitNames = subfolders(root).stream()
                .filter(s -> List.of("train", "val", "test").contains(s)).toList();
        List<Path> splitRoots = splitNames.isEmpty() ? List.of(root) : splitNames.stream().map(root::resolve).toList();
        List<String> classes = splitRoots.stream().flatMap(r -> subfolders(r).stream()).distinct().sorted().toList();
        if (classes.isEmpty()) {
            throw new DataFormatException(root + ": no class sub-folders (expected ROOT/CLASS/image.png)");
        }
        prepare(out);
        try {
            Files.write(out.resolve("classes.txt"), classes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out.resolve("classes.txt"), e);
        }
        List<Split> splits = new ArrayList<>();
        for (int s = 0; s < splitRoots.size(); s++) {
            String name = splitNames.isEmpty() ? "all" : splitNames.get(s);
            Path dir = splitNames.isEmpty() ? out : out.resolve(name);
            splits.add(imageSplit(splitRoots.get(s), dir, name, classes, channels, height, width, seed, opt, par,
                    progress));
        }
        return splits;
    }

    private static Split imageSplit(Path root, Path dir, String name, List<String> classes, int channels, int h,
                                    int w, long seed, Options opt, Parallel par, Progress progress) {
        List<Path> files = new ArrayList<>();
        List<Long> labels = new ArrayList<>();
        for (int c = 0; c < classes.size(); c++) {
            Path cls = root.resolve(classes.get(c));
            if (!Files.isDirectory(cls)) {
                continue;
            }
            try (Stream<Path> s = Files.list(cls)) {
                for (Path f : s.filter(DatasetImport::isImage).sorted().toList()) {
                    files.add(f);
                    labels.add((long) c);
                }
            } catch (IOException e) {
                throw new DataFormatException("cannot list " + cls + ": " + e.getMessage(), e);
            }
        }
        if (files.isEmpty()) {
            throw new DataFormatException(root + ": no images (.png .jpg .jpeg .bmp .gif) in its class folders");
        }
        int n = files.size();
        int[] order = new int[n];
        Arrays.setAll(order, i -> i);
        SplittableRandom rng = new SplittableRandom(LayerContext.mix(seed, "import " + name));
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        prepare(dir);
        refuseOldShards(dir);
        checkShardBytes(Math.min(opt.shardSize(), n), new int[] {channels, h, w}, 1);
        int per = channels * h * w;
        List<Path> written = new ArrayList<>();
        AtomicLong done = new AtomicLong();
        for (int start = 0, part = 0; start < n; start += opt.shardSize(), part++) {
            int count = Math.min(opt.shardSize(), n - start);
            byte[] px = new byte[count * per];
            long[] lab = new long[count];
            int first = start;
            // Decoding dominates: spread it over the threads, one image per work item.
            par.forChunks(count, Parallel.MIN_WORK_PER_CHUNK, (chunk, from, to) -> {
                for (int i = from; i < to; i++) {
                    int src = order[first + i];
                    byte[] img = Images.load(files.get(src), channels, h, w);
                    System.arraycopy(img, 0, px, i * per, per);
                    progress.update(done.incrementAndGet(), n);
                }
            });
            for (int i = 0; i < count; i++) {
                lab[i] = labels.get(order[start + i]);
            }
            NdArray data = NdArray.ofBytes(dir.toString(), px, count, channels, h, w);
            written.addAll(writeShard(dir, part, data, lab, opt));
        }
        return new Split(name, dir, n, new int[] {channels, h, w}, written);
    }

    private static boolean isImage(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return Files.isRegularFile(p) && (n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg")
                || n.endsWith(".bmp") || n.endsWith(".gif"));
    }

    private static List<String> subfolders(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new DataFormatException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void prepare(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create output folder " + dir + ": " + e.getMessage(), e);
        }
    }

    /** At most this many bytes in one shard's array (a Java array's limit). */
    private static final long MAX_SHARD_BYTES = Integer.MAX_VALUE - 8;

    /**
     * Refuses a shard of {@code count} samples of {@code sample} (C, H, W) that would not fit in one
     * array: the products are taken in long, so a large shard fails here instead of overflowing.
     */
    private static void checkShardBytes(int count, int[] sample, int elementSize) {
        long bytes = (long) count * sample[0] * sample[1] * sample[2] * elementSize;
        if (bytes > MAX_SHARD_BYTES) {
            throw new IllegalArgumentException("a shard of " + count + " samples of " + sample[0] + "x" + sample[1]
                    + "x" + sample[2] + (elementSize == 1 ? "" : " (" + elementSize + " bytes each)") + " is "
                    + bytes + " bytes, too large (at most " + MAX_SHARD_BYTES + "); lower the shard size");
        }
    }

    /**
     * Refuses to write into a split folder that already holds shards: the new ones would be mixed
     * with stale ones (another format or shard size leaves files the new import does not overwrite).
     */
    private static void refuseOldShards(Path dir) {
        List<String> old;
        try (Stream<Path> s = Files.list(dir)) {
            old = s.map(p -> p.getFileName().toString()).filter(f -> f.startsWith("part-")).sorted().toList();
        } catch (IOException e) {
            throw new DataFormatException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        if (!old.isEmpty()) {
            throw new DataFormatException(dir + " already holds shards (" + old.get(0)
                    + (old.size() > 1 ? " and " + (old.size() - 1) + " more" : "")
                    + "); remove them or choose another --out");
        }
    }

    private static ByteBuffer copy(ByteBuffer src) {
        ByteBuffer dst = ByteBuffer.allocate(src.remaining()).order(src.order());
        dst.put(src.duplicate());
        return dst.flip();
    }

    /**
     * Writes shard {@code part}; files appear under their final names only when complete (the npy
     * label file before its data file), so an interrupted import leaves no shard that looks whole.
     */
    private static List<Path> writeShard(Path dir, int part, NdArray data, long[] labels, Options opt) {
        String base = String.format("part-%05d", part);
        NdArray lab = NdArray.ofLongs(dir + "/" + base + " labels", labels, labels.length);
        try {
            if (opt.format() == Format.H5) {
                Path file = dir.resolve(base + ".h5");
                var arrays = new LinkedHashMap<String, NdArray>();
                arrays.put("data", data);
                arrays.put("label", lab);
                Hdf5Writer.Options h5 = opt.chunkRows() == 0 ? Hdf5Writer.Options.CONTIGUOUS
                        : Hdf5Writer.Options.chunked(Math.max(1, Math.min(opt.chunkRows(), data.rows())));
                Hdf5Writer.write(file, arrays, opt.gzipLevel() > 0 ? h5.gzip(opt.gzipLevel()) : h5);
                return List.of(file);
            }
            Path df = dir.resolve(base + "_data.npy");
            Path lf = dir.resolve(base + "_label.npy");
            Path dt = dir.resolve(base + "_data.npy.tmp");
            Path lt = dir.resolve(base + "_label.npy.tmp");
            NpyFile.write(dt, data);
            NpyFile.write(lt, lab);
            Files.move(lt, lf, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            Files.move(dt, df, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return List.of(df, lf);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write shard " + dir.resolve(base) + ": " + e.getMessage(), e);
        }
    }
}
