package org.cortado.engine.augment;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.config.Json;
import org.cortado.engine.net.Phase;
import org.cortado.engine.tensor.Shapes;

/**
 * The config's {@code augment} section: a list of steps per phase, applied in order,
 * <pre>
 *   "augment": {
 *     "train": [{"type": "pad", "pad": 4}, {"type": "random_crop", "size": 28}, {"type": "flip"},
 *               {"type": "normalize", "mean": [72.9], "std": [90.0]}],
 *     "test":  [{"type": "normalize", "mean": [72.9], "std": [90.0]}]
 *   }
 * </pre>
 * A missing list (or a missing section) means no augmentation: the samples are only converted to
 * float32. The step types and their fields are listed in the {@linkplain org.cortado.engine.augment
 * package documentation}. Parsing checks every field; {@link #augmenter} then checks the steps
 * against the input's (C, H, W) (a crop larger than the image, a mean per channel of the wrong
 * length), so every config error surfaces before training, naming its JSON path.
 */
public final class Augmentation {
    private final List<Step> train;
    private final List<Step> test;

    private Augmentation(List<Step> train, List<Step> test) {
        this.train = List.copyOf(train);
        this.test = List.copyOf(test);
    }

    /** No steps in either phase. */
    public static Augmentation none() {
        return new Augmentation(List.of(), List.of());
    }

    /**
     * Reads the {@code augment} section.
     *
     * @param section   the {@code augment} object
     * @param configDir the config file's folder, against which files ({@code mean_file}) are resolved;
     *                  null for the working directory
     * @throws ConfigException naming the JSON path of the first problem
     */
    public static Augmentation parse(Json section, Path configDir) {
        List<Step> train = list(section, "train", Phase.TRAIN, configDir);
        List<Step> test = list(section, "test", Phase.TEST, configDir);
        section.rejectUnknown();
        return new Augmentation(train, test);
    }

    /** The section of a whole config ({@code root}), or {@link #none()} when it has none. */
    public static Augmentation fromConfig(Json root, Path configDir) {
        return root.optObject("augment").map(a -> parse(a, configDir)).orElseGet(Augmentation::none);
    }

    private static List<Step> list(Json section, String key, Phase phase, Path configDir) {
        if (section.has(key) && !section.node().get(key).isArray()) {
            throw section.error(key, "expected a list of steps, e.g. [{\"type\": \"flip\"}]");
        }
        List<Step> steps = new ArrayList<>();
        String clampBreaker = null;
        for (Json j : section.objects(key)) {
            Step s = Steps.parse(j, phase, configDir);
            if (s instanceof ColorJitter && clampBreaker != null) {
                throw new ConfigException(s.path() + ": color_jitter must come before " + clampBreaker
                        + ": it clamps to the value range [0, max], which that step leaves");
            }
            if (clampBreaker == null && (s instanceof Normalize || s instanceof CaffeTransform || s instanceof RandomErasing)) {
                clampBreaker = s.path() + " (" + j.getString("type", "") + ")";
            }
            steps.add(s);
        }
        return steps;
    }

    /** Number of steps of a phase. */
    public int steps(Phase phase) {
        return (phase == Phase.TRAIN ? train : test).size();
    }

    /**
     * The augmenter of {@code phase} for samples of {@code inputSampleShape} (C, H, W).
     *
     * @param seed the run's seed; with the phase, epoch, sample id and step it decides every draw
     * @throws ConfigException if a step does not fit the input (its message names the step's JSON path
     *                         and the image size)
     */
    public Augmenter augmenter(Phase phase, long seed, int[] inputSampleShape) {
        if (inputSampleShape.length != 3 || inputSampleShape[0] < 1 || inputSampleShape[1] < 1 || inputSampleShape[2] < 1) {
            throw new ShapeException("augmentation needs a sample shape (C, H, W) of positive sizes, got "
                    + Shapes.str(inputSampleShape));
        }
        return new Augmenter(phase, seed, inputSampleShape, phase == Phase.TRAIN ? train : test);
    }
}
