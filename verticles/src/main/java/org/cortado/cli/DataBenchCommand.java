package org.cortado.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.cortado.engine.augment.AugmentBenchmark;
import org.cortado.engine.augment.Augmentation;
import org.cortado.engine.augment.Augmenter;
import org.cortado.engine.config.Json;
import org.cortado.engine.data.ReadBenchmark;
import org.cortado.engine.data.ShardSet;
import org.cortado.engine.data.SourceConfig;
import org.cortado.engine.net.Phase;
import org.cortado.engine.ops.Parallel;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cortado data bench SOURCE}: read speed of a shard set (whole-array reads, comparable with
 * {@code np.load} and h5py, and the training loader's shuffled batches), and optionally augmentation
 * throughput. See {@code bench/README.md} for the side-by-side with numpy and h5py.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure how fast a shard set reads (and augments).")
final class DataBenchCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SOURCE", description = "data file, folder, glob or list file")
    String source;

    @Option(names = "--data", defaultValue = "data", description = "data array name (default: ${DEFAULT-VALUE})")
    String dataName;

    @Option(names = "--label", defaultValue = "label", description = "label array name (default: ${DEFAULT-VALUE})")
    String labelName;

    @Option(names = "--batch", defaultValue = "64", description = "loader batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--passes", defaultValue = "3", description = "passes; the best counts (default: ${DEFAULT-VALUE})")
    int passes;

    @Option(names = "--threads", defaultValue = "0", description = "threads (default: all cores)")
    int threads;

    @Option(names = "--augment", paramLabel = "CONFIG|default",
            description = "also time the TRAIN augmentation of CONFIG's augment section, or 'default' "
                    + "(pad 4 + random crop 28 + flip + normalize)")
    String augment;

    @Option(names = "--augment-images", defaultValue = "500000", description = "images for the augmentation timing (default: ${DEFAULT-VALUE})")
    int augmentImages;

    @Option(names = "--json", description = "print one JSON object as the last line")
    boolean json;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        if (batch < 1 || passes < 1 || augmentImages < 1) {
            throw new CommandLine.ParameterException(cl, "--batch, --passes and --augment-images must be >= 1");
        }
        int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        SourceConfig src = new SourceConfig("source", source, dataName, labelName, true, false,
                SourceConfig.ShuffleMode.AUTO, 1L << 30, 0);
        PrintWriter out = cl.getOut();
        ReadBenchmark r;
        int[] shape;
        try (Parallel par = new Parallel(t)) {
            r = ReadBenchmark.run(src, batch, passes, par);
        }
        try (ShardSet set = ShardSet.open(src)) {
            shape = set.sampleShape();
            out.printf("%s: %,d samples, %.1f MB, %d shards, %d threads%n", source, r.samples(), r.bytes() / 1e6,
                    set.shards(), t);
        }
        out.printf("full read: %.3f s, %,.0f samples/s, %.0f MB/s%n", r.fullReadSeconds(), r.fullReadSamplesPerSec(),
                r.bytes() / 1e6 / r.fullReadSeconds());
        out.printf("full copy (mapped bytes copied to the heap too): %.3f s%n", r.fullCopySeconds());
        out.printf("loader (shuffled batches of %d): %.3f s, %,.0f samples/s%n", batch, r.loaderSeconds(),
                r.loaderSamplesPerSec());
        double augPerSec = Double.NaN;
        if (augment != null) {
            Augmentation aug = augment.equals("default")
                    ? Augmentation.parse(Json.parse("{\"train\": " + AugmentBenchmark.DEFAULT_TRAIN + "}", "--augment default"), null)
                    : Augmentation.fromConfig(Json.read(Path.of(augment)), Path.of(augment).toAbsolutePath().getParent());
            Augmenter a = aug.augmenter(Phase.TRAIN, 1, shape);
            augPerSec = AugmentBenchmark.imagesPerSecond(a, augmentImages, batch, t);
            out.printf("augment (%d steps, %d threads): %,.0f images/s, %,.0f per thread%n", a.steps(), t, augPerSec,
                    augPerSec / t);
        }
        if (json) {
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("source", source);
            o.put("samples", r.samples());
            o.put("bytes", r.bytes());
            o.put("threads", t);
            o.put("batch", batch);
            o.put("full_read_seconds", r.fullReadSeconds());
            o.put("full_read_samples_per_sec", r.fullReadSamplesPerSec());
            o.put("full_copy_seconds", r.fullCopySeconds());
            o.put("loader_seconds", r.loaderSeconds());
            o.put("loader_samples_per_sec", r.loaderSamplesPerSec());
            if (augment != null) {
                o.put("augment_images_per_sec", augPerSec);
                o.put("augment_images_per_sec_per_thread", augPerSec / t);
            }
            out.println(o.toString());
        }
        out.flush();
        return 0;
    }
}
