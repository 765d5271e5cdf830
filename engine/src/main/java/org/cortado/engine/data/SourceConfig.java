package org.cortado.engine.data;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.cortado.engine.config.Json;
import org.cortado.engine.net.Phase;

/**
 * One data source of a config: {@code data.train} or {@code data.test}.
 *
 * <pre>{@code
 * "data": {
 *   "train": {"source": "data/fashion-mnist/train", "shuffle": true},
 *   "test":  {"source": "data/fashion-mnist/test"}
 * }
 * }</pre>
 *
 * Fields (defaults in brackets):
 * <ul>
 *   <li>{@code source} (required): a data file, folder, glob or list file (see {@link ShardFiles});
 *       a relative path is taken from the working directory, as Caffe does;
 *   <li>{@code data} ["data"], {@code label} ["label"]: the array names in each shard;
 *   <li>{@code shuffle} [true for train, false for test], {@code drop_last} [false];
 *   <li>{@code shuffle_mode} ["auto"]: {@code full} (uniform permutation), {@code chunks}
 *       (chunk-aware, see {@link Sampler}), {@code auto} (chunks when the set is chunked);
 *   <li>{@code memory_mb} [1024]: heap the loader may keep: half for the HDF5 chunk cache, half for
 *       open shards (see {@link ShardSet#open(SourceConfig)}); the chunk-aware shuffle window is a
 *       quarter ({@link #windowBytes()});
 *   <li>{@code num_classes} [0 = from the net]: labels must lie in {@code [0, num_classes)}.
 * </ul>
 */
public record SourceConfig(String path, String source, String dataName, String labelName, boolean shuffle,
                           boolean dropLast, ShuffleMode shuffleMode, long memoryBytes, int numClasses) {

    public enum ShuffleMode { AUTO, FULL, CHUNKS }

    /** Reads {@code data.train} or {@code data.test} of the {@code data} section, if present. */
    public static Optional<SourceConfig> parse(Json data, Phase phase) {
        String key = phase.name().toLowerCase(Locale.ROOT);
        Optional<Json> o = data.optObject(key);
        if (o.isEmpty()) {
            return Optional.empty();
        }
        Json j = o.get();
        String source = j.requireString("source");
        if (source.isBlank()) {
            throw j.error("source", "must name a data file, folder, glob or list file");
        }
        String dataName = j.getString("data", "data");
        String labelName = j.getString("label", "label");
        boolean shuffle = j.getBool("shuffle", phase == Phase.TRAIN);
        boolean dropLast = j.getBool("drop_last", false);
        ShuffleMode mode = j.getEnum("shuffle_mode", ShuffleMode.class, ShuffleMode.AUTO);
        int mb = j.positive("memory_mb", j.getInt("memory_mb", 1024));
        int classes = j.nonNegative("num_classes", j.getInt("num_classes", 0));
        j.rejectUnknown();
        return Optional.of(new SourceConfig(j.path(), source, dataName, labelName, shuffle, dropLast, mode,
                mb * (1L << 20), classes));
    }

    /**
     * Both sources of a {@code data} section, train first; rejects unknown keys in the section
     * ({@code prepare}, read by {@code TrainingData}, is known).
     */
    public static List<SourceConfig> parseAll(Json data) {
        var train = parse(data, Phase.TRAIN);
        var test = parse(data, Phase.TEST);
        data.markUsed("prepare");
        data.rejectUnknown();
        return java.util.stream.Stream.of(train, test).flatMap(Optional::stream).toList();
    }

    /** A source with defaults for everything but the path (the CLI's {@code data stats SOURCE}). */
    public static SourceConfig of(String source, String dataName, String labelName) {
        return new SourceConfig("source", source, dataName, labelName, false, false, ShuffleMode.AUTO, 1L << 30, 0);
    }

    /** This source with {@code num_classes} filled in from the net when the config left it out. */
    public SourceConfig withClassesIfUnset(int classes) {
        return numClasses > 0 ? this : new SourceConfig(path, source, dataName, labelName, shuffle, dropLast,
                shuffleMode, memoryBytes, classes);
    }

    /**
     * Bytes of samples in one window of the chunk-aware shuffle: a quarter of the budget, half the
     * shard set's chunk cache, so a window's chunks (plus the partly used chunks at its edges) stay
     * cached while the window is read, and each is decompressed once.
     */
    public long windowBytes() {
        return memoryBytes / 4;
    }

    /** The sampler this source asks for, over {@code set}, batches of {@code batch}, from {@code seed}. */
    public Sampler sampler(ShardSet set, int batch, long seed) {
        boolean chunks = shuffle && (shuffleMode == ShuffleMode.CHUNKS || (shuffleMode == ShuffleMode.AUTO && set.chunked()));
        if (!chunks) {
            return Sampler.of(seed, set.samples(), batch, shuffle, dropLast);
        }
        long perSample = (long) set.sampleElements() * set.dtype().size;
        int window = (int) Math.min(set.samples(), Math.max(1, windowBytes() / Math.max(1, perSample)));
        return Sampler.chunked(seed, set.samples(), batch, dropLast, set.chunkStarts(), window);
    }
}
