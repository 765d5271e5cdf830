package org.cortado.engine.augment;

import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import org.cortado.engine.CortadoException;
import org.cortado.engine.config.Json;
import org.cortado.engine.data.RawBatch;
import org.cortado.engine.net.Phase;

/**
 * Augmentation throughput on synthetic uint8 images: {@code threads} threads, each augmenting its
 * share of {@code images} in batches of {@code batch} on its own (as the pipeline's augmenter workers
 * do), after an untimed warm-up of the same length. Pixels are random bytes drawn once; every batch
 * has fresh sample ids, so every batch draws fresh crops and flips.
 *
 * <p>Run by hand: {@code java -cp CLASSPATH org.cortado.engine.augment.AugmentBenchmark [images]
 * [threads] [batch]} (defaults 1,000,000, 1, 64), which times the Fashion-MNIST recipe pad 4 + random
 * crop 28 + flip + normalize on 1x28x28 images.
 */
public final class AugmentBenchmark {
    private AugmentBenchmark() {}

    /** The recipe {@link #main} times. */
    public static final String DEFAULT_TRAIN = "[{\"type\": \"pad\", \"pad\": 4}, {\"type\": \"random_crop\", \"size\": 28},"
            + " {\"type\": \"flip\", \"p\": 0.5}, {\"type\": \"normalize\", \"mean\": [72.9], \"std\": [90.0]}]";

    /**
     * Augments {@code images} synthetic uint8 samples of the augmenter's input shape and returns the
     * images per second over all threads (wall clock, warm-up excluded).
     */
    public static double imagesPerSecond(Augmenter augmenter, int images, int batch, int threads) {
        if (images < 1 || batch < 1 || threads < 1) {
            throw new IllegalArgumentException("images, batch and threads must be >= 1, got " + images + ", " + batch + ", " + threads);
        }
        int[] shape = augmenter.inputShape();
        int per = shape[0] * shape[1] * shape[2];
        byte[] pixels = new byte[batch * per];
        new SplittableRandom(7).nextBytes(pixels);
        int[] labels = new int[batch];
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        CyclicBarrier end = new CyclicBarrier(threads + 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int share = images / threads + (t < images % threads ? 1 : 0);
            int worker = t;
            workers[t] = new Thread(() -> {
                float[] out = new float[batch * augmenter.outputElements()];
                try {
                    run(augmenter, pixels, labels, shape, out, batch, share, 0, worker); // warm-up
                    start.await();
                    run(augmenter, pixels, labels, shape, out, batch, share, 1, worker);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    start.reset();
                } finally {
                    try {
                        end.await();
                    } catch (Exception ignored) {
                        // the main thread reports the failure
                    }
                }
            }, "augment-bench-" + t);
            workers[t].setDaemon(true);
            workers[t].start();
        }
        try {
            start.await();
            long t0 = System.nanoTime();
            end.await();
            long nanos = System.nanoTime() - t0;
            if (failure.get() != null) {
                throw new CortadoException("augmentation benchmark failed: " + failure.get(), failure.get());
            }
            return images / (nanos / 1e9);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CortadoException("augmentation benchmark interrupted", e);
        } catch (java.util.concurrent.BrokenBarrierException e) {
            throw new CortadoException("augmentation benchmark failed: " + failure.get(), failure.get());
        }
    }

    private static void run(Augmenter augmenter, byte[] pixels, int[] labels, int[] shape, float[] out, int batch,
                            int images, long epoch, int worker) {
        int per = shape[0] * shape[1] * shape[2];
        for (int done = 0; done < images; done += batch) {
            int b = Math.min(batch, images - done);
            long[] ids = new long[b];
            for (int i = 0; i < b; i++) {
                ids[i] = ((long) worker << 40) + done + i;
            }
            byte[] px = b == batch ? pixels : java.util.Arrays.copyOf(pixels, b * per);
            int[] lb = b == batch ? labels : new int[b];
            augmenter.apply(new RawBatch(epoch, done / batch, ids, lb, shape, px, null), out);
        }
    }

    /** {@code [images] [threads] [batch]}: times pad 4 + random crop 28 + flip + normalize on 1x28x28 uint8. */
    public static void main(String[] args) {
        int images = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        int batch = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        Json section = Json.parse("{\"train\": " + DEFAULT_TRAIN + "}", "benchmark");
        Augmenter a = Augmentation.parse(section, null).augmenter(Phase.TRAIN, 1, new int[] {1, 28, 28});
        double ips = imagesPerSecond(a, images, batch, threads);
        System.out.printf("augment pad 4 + random_crop 28 + flip + normalize, 1x28x28 uint8, batch %d, %d thread%s: "
                + "%.0f images/s (%.0f per thread)%n", batch, threads, threads == 1 ? "" : "s", ips, ips / threads);
    }
}
