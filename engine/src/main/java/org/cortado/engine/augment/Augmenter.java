package org.cortado.engine.augment;

import java.util.Arrays;
import java.util.List;
import org.cortado.engine.ShapeException;
import org.cortado.engine.data.RawBatch;
import org.cortado.engine.layers.LayerContext;
import org.cortado.engine.net.Phase;
import org.cortado.engine.ops.Parallel;
import org.cortado.engine.tensor.Shapes;
import org.cortado.engine.tensor.Tensor;

/**
 * One phase's augmentation list, ready for samples of one (C, H, W): turns {@link RawBatch}es (uint8
 * or float32) into float32 (B, C', H', W') batches. Made by {@link Augmentation#augmenter}, which has
 * already checked every step against the input shape, so {@link #outputShape()} is known before the
 * first batch and no config error can surface during training.
 *
 * <p><b>Determinism.</b> Every random draw for sample {@code id} of epoch {@code e} in step {@code k}
 * of the list comes from a stream seeded by {@code (seed, phase, e, id, k)} (see {@code SampleRandom}),
 * never from the batch position or the thread, so the same sample gets the same augmentation whichever
 * loader, batch or thread handles it, and a resumed run continues exactly. The epoch and ids are the
 * batch's ({@link RawBatch#epoch()}, {@link RawBatch#ids()}).
 *
 * <p><b>Threads.</b> An augmenter is immutable and safe to share. {@link #apply(RawBatch, float[])}
 * runs on the calling thread: the pipeline gets its parallelism from several augmenter workers, each
 * on its own batch. {@link #apply(RawBatch, float[], Parallel)} splits one batch's samples over the
 * engine's compute threads instead, for in-process training. Both give identical results.
 */
public final class Augmenter {
    private final Phase phase;
    private final int[] inputShape;
    private final int[] outputShape;
    private final long phaseSeed;
    private final int stepCount;
    private final Plan bytesPlan;
    private final Plan floatsPlan;

    Augmenter(Phase phase, long seed, int[] inputShape, List<Step> steps) {
        this.phase = phase;
        this.inputShape = inputShape.clone();
        this.phaseSeed = LayerContext.mix(seed, "augment/" + phase.name());
        this.stepCount = steps.size();
        // Both storages are compiled up front: cheap, and it checks every step against the shape now.
        this.bytesPlan = Plan.compile(steps, inputShape, true);
        this.floatsPlan = Plan.compile(steps, inputShape, false);
        this.outputShape = bytesPlan.out.clone();
    }

    public Phase phase() {
        return phase;
    }

    /** The (C, H, W) of the samples this augmenter takes. */
    public int[] inputShape() {
        return inputShape.clone();
    }

    /** The (C, H, W) of one augmented sample. */
    public int[] outputShape() {
        return outputShape.clone();
    }

    /** Floats per augmented sample, {@code C * H * W} of {@link #outputShape()}. */
    public int outputElements() {
        return Shapes.count(outputShape);
    }

    /** Number of steps in the list (0: the augmenter only converts to float32). */
    public int steps() {
        return stepCount;
    }

    /** Augments {@code in} into a new (B, C, H, W) tensor. */
    public Tensor apply(RawBatch in) {
        float[] out = new float[in.size() * outputElements()];
        apply(in, out);
        return new Tensor(out, in.size(), outputShape[0], outputShape[1], outputShape[2]);
    }

    /**
     * Augments {@code in} into {@code out} (B, C, H, W) of {@link #outputShape()}, on the calling thread.
     *
     * @throws ShapeException if the batch's sample shape is not {@link #inputShape()} or {@code out} is too small
     */
    public void apply(RawBatch in, float[] out) {
        Plan plan = check(in, out);
        run(plan, in, out, 0, in.size(), plan.workspace());
    }

    /** As {@link #apply(RawBatch, float[])}, the samples split over {@code parallel}'s threads. */
    public void apply(RawBatch in, float[] out, Parallel parallel) {
        Plan plan = check(in, out);
        long work = (long) outputElements() * 4;
        parallel.forChunks(in.size(), work, (chunk, from, to) -> run(plan, in, out, from, to, plan.workspace()));
    }

    private Plan check(RawBatch in, float[] out) {
        if (!Arrays.equals(in.sampleShape(), inputShape)) {
            throw new ShapeException("augmenter (" + phase + ") made for samples of shape " + Shapes.str(inputShape)
                    + " got a batch of samples of shape " + Shapes.str(in.sampleShape()));
        }
        long need = (long) in.size() * outputElements();
        if (out.length < need) {
            throw new ShapeException("augmenter output of " + out.length + " floats is too small for " + in.size()
                    + " samples of shape " + Shapes.str(outputShape) + " (" + need + " floats)");
        }
        return in.bytes() != null ? bytesPlan : floatsPlan;
    }

    private void run(Plan plan, RawBatch in, float[] out, int from, int to, Plan.Workspace ws) {
        int inElements = in.sampleElements();
        int outElements = outputElements();
        for (int b = from; b < to; b++) {
            long sampleSeed = SampleRandom.sampleSeed(phaseSeed, in.epoch(), in.ids()[b]);
            plan.run(sampleSeed, in.bytes(), in.floats(), b * inElements, out, b * outElements, ws);
        }
    }
}
