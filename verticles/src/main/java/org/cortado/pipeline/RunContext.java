package org.cortado.pipeline;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.ops.Parallel;
import org.cortado.engine.tensor.Tensor;
import org.cortado.engine.train.RunFolder;
import org.cortado.engine.train.TrainingData;

/**
 * What the verticles of one run in this process share, worked out once by {@link Pipeline} before
 * anything is deployed: the config, the opened data, the stage cuts, and the compute threads.
 *
 * @param addresses   the run's event-bus addresses
 * @param config      the resolved config
 * @param data        shard sets, samplers and augmenters (thread-safe, shared by loaders and augmenters)
 * @param parallel    the compute threads the stages' layers run on
 * @param configOrder every layer name of the config, in order (to place cuts in both phases)
 * @param cuts        the first layer of each stage after the first (empty: one stage)
 * @param paramNames  the learnable params of the TRAIN net, in net order (the solver state's order)
 * @param batchSize   samples per batch (the net's input)
 * @param folder      the run folder (null in tests that write nothing)
 * @param startIter   the iteration to start from (0, or a snapshot's when resuming)
 * @param initial     weights to start from (a snapshot's, or fine-tuning weights), by layer name; null for the fillers
 * @param history     solver history to start from (a snapshot's), or null
 * @param hooks       faults a test injects and what it observes; {@link Hooks#NONE} otherwise
 * @param configDir   the config's folder (files it names resolve against it)
 * @param rateScale   the learning-rate scale to start with: 1, or a resumed run's live change (control.jsonl)
 * @param log         where the run says what the user should know (the terminal)
 * @param gpu         the GPU the stages and the optimizer compute on ({@code pipeline.device}), or -1 for the CPU
 */
public record RunContext(Addresses addresses, CortadoConfig config, TrainingData data, Parallel parallel,
                         List<String> configOrder, List<String> cuts, List<String> paramNames, int batchSize,
                         RunFolder folder, long startIter, Map<String, List<Tensor>> initial, List<Tensor> history,
                         Hooks hooks, Path configDir, double rateScale, java.util.function.Consumer<String> log,
                         int gpu) {

    public int stages() {
        return cuts.size() + 1;
    }

    public int microBatches() {
        return config.pipeline().microBatches();
    }

    /** Faults a test injects into the loaders, and what it observes; production runs use {@link #NONE}. */
    public interface Hooks {
        Hooks NONE = new Hooks() { };

        /** Milliseconds loader {@code loader} waits before answering this request. */
        default long delayMs(int loader, String phase, long epoch, int index, int attempt) {
            return 0;
        }

        /** True to read the batch but never send it on (a lost reply). */
        default boolean drop(int loader, String phase, long epoch, int index, int attempt) {
            return false;
        }

        /** Called by a stage before each forward of {@code phase} (a test throws here to make a layer fail). */
        default void beforeForward(int stage, String phase, long step) {
        }

        /** Called by a stage before each backward (a test throws here to make a layer fail mid-step). */
        default void beforeBackward(int stage, long step) {
        }

        /** Called by the coordinator when it hands step {@code step} to the stages, {@code running} steps then running (itself included). */
        default void dispatched(long step, int running) {
        }

        /** Called by the coordinator for every training batch it hands to the stages. */
        default void consumed(long epoch, int index, long[] ids) {
        }
    }
}
