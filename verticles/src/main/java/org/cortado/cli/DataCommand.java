package org.cortado.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.cortado.engine.data.DataStats;
import org.cortado.engine.data.DatasetImport;
import org.cortado.engine.data.ShardSet;
import org.cortado.engine.data.SourceConfig;
import org.cortado.engine.ops.Parallel;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cortado data …}: importing datasets into shard sets, and looking at them. */
@Command(name = "data", mixinStandardHelpOptions = true, description = "Import and inspect datasets.",
        subcommands = {DataCommand.Import.class, DataCommand.Stats.class, DataBenchCommand.class})
final class DataCommand implements Runnable {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Output options shared by the importers. */
    static final class ShardOptions {
        @Option(names = "--out", required = true, description = "output folder (one sub-folder per split)")
        Path out;

        @Option(names = "--format", defaultValue = "h5", description = "h5 or npy (default: ${DEFAULT-VALUE})")
        String format;

        @Option(names = "--shard-size", defaultValue = "10000", description = "samples per shard (default: ${DEFAULT-VALUE})")
        int shardSize;

        @Option(names = "--chunk-rows", defaultValue = "64", description = "HDF5 rows per chunk; 0 = contiguous, readable by Caffe's HDF5 1.8 (default: ${DEFAULT-VALUE})")
        int chunkRows;

        @Option(names = "--gzip", defaultValue = "4", description = "HDF5 deflate level, 0 = none (default: ${DEFAULT-VALUE})")
        int gzip;

        DatasetImport.Options options(CommandLine cl) {
            DatasetImport.Format f = switch (format.toLowerCase(java.util.Locale.ROOT)) {
                case "h5", "hdf5" -> DatasetImport.Format.H5;
                case "npy" -> DatasetImport.Format.NPY;
                default -> throw new CommandLine.ParameterException(cl, "--format must be h5 or npy, got " + format);
            };
            try {
                return new DatasetImport.Options(f, shardSize, chunkRows, gzip);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(cl, e.getMessage());
            }
        }
    }

    static void report(PrintWriter out, List<DatasetImport.Split> splits) {
        for (DatasetImport.Split s : splits) {
            out.printf("%s: %,d samples of %s in %d file(s) under %s%n", s.name(), s.samples(),
                    java.util.Arrays.toString(s.sampleShape()), s.files().size(), s.dir());
        }
        out.flush();
    }

    @Command(name = "import", mixinStandardHelpOptions = true, description = "Convert a dataset to shard sets.",
            subcommands = {FashionMnist.class, IdxPair.class, ImageFolder.class})
    static final class Import implements Runnable {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(spec.commandLine().getOut());
        }
    }

    @Command(name = "fashion-mnist", mixinStandardHelpOptions = true,
            description = "Fashion-MNIST (or MNIST) IDX files to OUT/train and OUT/test.")
    static final class FashionMnist implements Callable<Integer> {
        @Option(names = "--from", description = "folder with the four IDX files (default: "
                + "/usr/share/datasets/fashion-mnist, Debian's dataset-fashion-mnist)")
        Path from = DatasetImport.FASHION_MNIST_DIR;

        @Mixin
        ShardOptions shards;

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            var opt = shards.options(spec.commandLine());
            try (ProgressBar bar = new ProgressBar(spec.commandLine().getErr(), "import", "samples")) {
                report(spec.commandLine().getOut(), DatasetImport.fashionMnist(from, shards.out, opt, bar));
            }
            return 0;
        }
    }

    @Command(name = "idx", mixinStandardHelpOptions = true, description = "Any IDX pair (images, labels) to one shard set.")
    static final class IdxPair implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "IMAGES", description = "IDX images (N, H, W) or (N, C, H, W), .gz or not")
        Path images;

        @Parameters(index = "1", paramLabel = "LABELS", description = "IDX labels (N)")
        Path labels;

        @Mixin
        ShardOptions shards;

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            var opt = shards.options(spec.commandLine());
            try (ProgressBar bar = new ProgressBar(spec.commandLine().getErr(), "import", "samples")) {
                report(spec.commandLine().getOut(),
                        List.of(DatasetImport.idx(images, labels, shards.out, "idx", opt, bar)));
            }
            return 0;
        }
    }

    @Command(name = "images", mixinStandardHelpOptions = true,
            description = "A folder of class sub-folders of PNG/JPEG images (ROOT/CLASS/x.png; or ROOT/train|val|test/CLASS/x.png).")
    static final class ImageFolder implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "ROOT", description = "folder of class sub-folders")
        Path root;

        @Option(names = "--size", required = true, description = "output size: S (S x S) or HxW, e.g. 32 or 32x48")
        String size;

        @Option(names = "--channels", defaultValue = "3", description = "3 (RGB) or 1 (gray) (default: ${DEFAULT-VALUE})")
        int channels;

        @Option(names = "--seed", defaultValue = "1", description = "seed of the sample order in the shards (default: ${DEFAULT-VALUE})")
        long seed;

        @Option(names = "--threads", defaultValue = "0", description = "decoding threads (default: all cores)")
        int threads;

        @Mixin
        ShardOptions shards;

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            CommandLine cl = spec.commandLine();
            var opt = shards.options(cl);
            String[] hw = size.toLowerCase(java.util.Locale.ROOT).split("x");
            int h;
            int w;
            try {
                h = Integer.parseInt(hw[0].strip());
                w = hw.length > 1 ? Integer.parseInt(hw[1].strip()) : h;
            } catch (NumberFormatException e) {
                throw new CommandLine.ParameterException(cl, "--size must be S or HxW, got " + size);
            }
            if (hw.length > 2 || h < 1 || w < 1) {
                throw new CommandLine.ParameterException(cl, "--size must be S or HxW with positive sizes, got " + size);
            }
            if (channels != 1 && channels != 3) {
                throw new CommandLine.ParameterException(cl, "--channels must be 1 or 3, got " + channels);
            }
            try (Parallel par = threads > 0 ? new Parallel(threads) : Parallel.allCores();
                 ProgressBar bar = new ProgressBar(cl.getErr(), "import", "images")) {
                report(cl.getOut(), DatasetImport.images(root, shards.out, channels, h, w, seed, opt, par, bar));
            }
            return 0;
        }
    }

    @Command(name = "stats", mixinStandardHelpOptions = true,
            description = "Sample count, shape, dtype, label histogram, per-channel mean and std of a shard set.")
    static final class Stats implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "SOURCE", description = "data file, folder, glob or list file")
        String source;

        @Option(names = "--data", defaultValue = "data", description = "data array name (default: ${DEFAULT-VALUE})")
        String dataName;

        @Option(names = "--label", defaultValue = "label", description = "label array name (default: ${DEFAULT-VALUE})")
        String labelName;

        @Option(names = "--threads", defaultValue = "0", description = "threads (default: all cores)")
        int threads;

        @Option(names = "--json", description = "print one JSON object as the last line")
        boolean json;

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            CommandLine cl = spec.commandLine();
            DataStats st;
            try (ShardSet set = ShardSet.open(SourceConfig.of(source, dataName, labelName));
                 Parallel par = threads > 0 ? new Parallel(threads) : Parallel.allCores();
                 ProgressBar bar = new ProgressBar(cl.getErr(), "stats", "samples")) {
                st = DataStats.compute(set, par, bar);
            }
            PrintWriter out = cl.getOut();
            out.printf("%s: %,d samples of %s %s%n", source, st.samples(), java.util.Arrays.toString(st.shape()),
                    st.dtype().numpyName());
            out.println("labels (class: count):");
            for (Map.Entry<Integer, Long> e : st.labelCounts().entrySet()) {
                out.printf("  %d: %,d%n", e.getKey(), e.getValue());
            }
            for (int c = 0; c < st.mean().length; c++) {
                out.printf("channel %d: mean %.6f, std %.6f%n", c, st.mean()[c], st.std()[c]);
            }
            if (json) {
                ObjectMapper m = new ObjectMapper();
                ObjectNode o = m.createObjectNode();
                o.put("source", source);
                o.put("samples", st.samples());
                ArrayNode shape = o.putArray("shape");
                for (int d : st.shape()) {
                    shape.add(d);
                }
                o.put("dtype", st.dtype().numpyName());
                ObjectNode counts = o.putObject("label_counts");
                st.labelCounts().forEach((k, v) -> counts.put(Integer.toString(k), v));
                ArrayNode mean = o.putArray("mean");
                ArrayNode std = o.putArray("std");
                for (int c = 0; c < st.mean().length; c++) {
                    mean.add(st.mean()[c]);
                    std.add(st.std()[c]);
                }
                out.println(o.toString());
            }
            out.flush();
            return 0;
        }
    }
}
