package org.cortado.engine.train;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.augment.Augmentation;
import org.cortado.engine.augment.Augmenter;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.config.Json;
import org.cortado.engine.data.FashionMnist;
import org.cortado.engine.data.RawBatch;
import org.cortado.engine.data.Sampler;
import org.cortado.engine.data.ShardSet;
import org.cortado.engine.data.SourceConfig;
import org.cortado.engine.net.Net;
import org.cortado.engine.net.Phase;
import org.cortado.engine.tensor.Tensor;

/**
 * The data side of a config: for each phase with a source in {@code data}, the shard set, the sampler
 * (which samples make up batch {@code (epoch, index)}) and the augmenter, all checked against the net
 * before anything runs. The pipeline's loaders, augmenters and coordinator share one of these per
 * process, and a test feeding {@link Trainer} by hand uses the same one, so both see identical batches.
 *
 * <p>{@code data.prepare: "fashion-mnist"} makes the sources on first use ({@link FashionMnist}):
 * {@code data.train.source} and {@code data.test.source} must then be {@code DIR/train} and
 * {@code DIR/test} of one folder {@code DIR}.
 */
public final class TrainingData implements AutoCloseable {
    /** One phase's data: where samples come from, in which order, and how they are augmented. */
    public record Source(Phase phase, SourceConfig config, ShardSet set, Sampler sampler, Augmenter augmenter) {
        public int batchesPerEpoch() {
            return sampler.batchesPerEpoch();
        }
    }

    private final Source train;
    private final Source test;
    private final String dataBlob;
    private final String labelBlob;

    private TrainingData(Source train, Source test, String dataBlob, String labelBlob) {
        this.train = train;
        this.test = test;
        this.dataBlob = dataBlob;
        this.labelBlob = labelBlob;
    }

    /**
     * Opens the data of {@code config} for {@code net} (its TRAIN net: the first {@code Input} top is
     * the images, the second the labels).
     *
     * @param configDir the config's folder (augmentation files are relative to it)
     * @param log       progress lines (preparing a dataset)
     */
    public static TrainingData open(CortadoConfig config, Net net, Path configDir, Consumer<String> log) {
        Json root = config.root();
        Json data = root.optObject("data").orElseThrow(() -> new ConfigException(
                "data: required to train (e.g. {\"train\": {\"source\": \"data/fashion-mnist/train\"}})"));
        String prepare = data.getString("prepare", "");
        List<SourceConfig> sources = SourceConfig.parseAll(data);
        SourceConfig trainSrc = sources.stream().filter(s -> s.path().endsWith(".train")).findFirst()
                .orElseThrow(() -> data.error("train", "required: the training data source"));
        Optional<SourceConfig> testSrc = sources.stream().filter(s -> s.path().endsWith(".test")).findFirst();
        if (!prepare.isEmpty()) {
            if (!prepare.equals("fashion-mnist")) {
                throw data.error("prepare", "unknown dataset \"" + prepare + "\"; known: fashion-mnist");
            }
            Path dir = Path.of(trainSrc.source()).toAbsolutePath().normalize().getParent();
            if (!Path.of(trainSrc.source()).getFileName().toString().equals("train")
                    || testSrc.isPresent() && !Path.of(testSrc.get().source()).toAbsolutePath().normalize()
                    .equals(dir.resolve("test"))) {
                throw data.error("prepare", "with \"prepare\" the sources must be DIR/train and DIR/test, got \""
                        + trainSrc.source() + "\"" + testSrc.map(t -> " and \"" + t.source() + "\"").orElse(""));
            }
            FashionMnist.prepare(dir, FashionMnist.Sources.defaults(), log);
        }
        if (net.inputs().size() != 2) {
            throw new ShapeException("net '" + net.name() + "': training from data needs an Input layer with two tops"
                    + " (images, labels), found inputs " + net.inputs());
        }
        String dataBlob = net.inputs().get(0).name();
        String labelBlob = net.inputs().get(1).name();
        int[] inShape = net.inputs().get(0).shape();
        int batch = inShape[0];
        int classes = numClasses(net);
        Augmentation aug = Augmentation.fromConfig(root, configDir);
        Source train = null;
        Source test = null;
        try {
            train = source(Phase.TRAIN, trainSrc.withClassesIfUnset(classes), batch, config.seed(), aug, inShape);
            if (testSrc.isPresent()) {
                test = source(Phase.TEST, testSrc.get().withClassesIfUnset(classes), batch, config.seed(), aug, inShape);
            }
        } catch (RuntimeException e) {
            if (train != null) {
                train.set().close();
            }
            throw e;
        }
        return new TrainingData(train, test, dataBlob, labelBlob);
    }

    private static Source source(Phase phase, SourceConfig src, int batch, long seed, Augmentation aug, int[] netIn) {
        ShardSet set = ShardSet.open(src);
        try {
            Augmenter a = aug.augmenter(phase, seed, set.sampleShape());
            int[] out = a.outputShape();
            int[] want = java.util.Arrays.copyOfRange(netIn, 1, netIn.length);
            if (!java.util.Arrays.equals(out, want)) {
                throw new ShapeException(src.path() + " (" + src.source() + "): samples of " + java.util.Arrays.toString(
                        set.sampleShape()) + " become " + java.util.Arrays.toString(out) + " after augment."
                        + phase.name().toLowerCase(java.util.Locale.ROOT) + ", but the net's input takes "
                        + java.util.Arrays.toString(want));
            }
            return new Source(phase, src, set, src.sampler(set, batch, seed), a);
        } catch (RuntimeException e) {
            set.close();
            throw e;
        }
    }

    /**
     * The class count the net's classification loss expects: the width (axis 1) of the scores its
     * first such loss layer reads, or 0 (labels only checked to be >= 0) when the net has none.
     */
    private static int numClasses(Net net) {
        for (int l = 0; l < net.layers().size(); l++) {
            switch (net.layers().get(l).config().type()) {
                case "SoftmaxWithLoss", "InfogainLoss", "HingeLoss", "MultinomialLogisticLoss" -> {
                    var scores = net.bottomsOf(l).get(0);
                    return scores.rank() > 1 ? scores.dim(1) : 0;
                }
                default -> { }
            }
        }
        return 0;
    }

    /**
     * What identifies the data, for members of a cluster to compare: per source its sample count,
     * sample shape, dtype and each shard's file name (not its folder) and sample count. Two machines
     * with copies of the same shards agree; a different or partial copy does not.
     */
    public String description() {
        StringBuilder b = new StringBuilder();
        for (Source s : test != null ? List.of(train, test) : List.of(train)) {
            ShardSet set = s.set();
            b.append(s.phase()).append(": ").append(set.samples()).append(" samples of ")
                    .append(java.util.Arrays.toString(set.sampleShape())).append(' ').append(set.dtype()).append(" in [");
            for (int i = 0; i < set.shards(); i++) {
                String name = set.shardName(i);
                int slash = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
                b.append(i == 0 ? "" : ", ").append(name.substring(slash + 1)).append(':').append(set.shardSamples(i));
            }
            b.append("]; ");
        }
        return b.toString().trim();
    }

    /** A short hash of {@link #description()}. */
    public String fingerprint() {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(description().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(d, 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public Source train() {
        return train;
    }

    public Optional<Source> test() {
        return Optional.ofNullable(test);
    }

    public Source source(Phase phase) {
        return phase == Phase.TRAIN ? train : test().orElseThrow(() -> new ConfigException("data.test: required for testing"));
    }

    public String dataBlob() {
        return dataBlob;
    }

    public String labelBlob() {
        return labelBlob;
    }

    /** Reads and augments batch {@code (epoch, index)} of {@code phase} in the calling thread: what a loader plus an augmenter do. */
    public Map<String, Tensor> batch(Phase phase, long epoch, int index) {
        Source s = source(phase);
        RawBatch raw = s.set().read(epoch, index, s.sampler().batch(epoch, index));
        return feed(raw, s.augmenter());
    }

    /** The net's input tensors for a raw batch: augmented images and float labels. */
    public Map<String, Tensor> feed(RawBatch raw, Augmenter augmenter) {
        int[] out = augmenter.outputShape();
        float[] x = new float[raw.size() * augmenter.outputElements()];
        augmenter.apply(raw, x);
        float[] y = new float[raw.size()];
        for (int i = 0; i < y.length; i++) {
            y[i] = raw.labels()[i];
        }
        return Map.of(dataBlob, new Tensor(x, raw.size(), out[0], out[1], out[2]), labelBlob, new Tensor(y, raw.size()));
    }

    @Override
    public void close() {
        train.set().close();
        if (test != null) {
            test.set().close();
        }
    }
}
