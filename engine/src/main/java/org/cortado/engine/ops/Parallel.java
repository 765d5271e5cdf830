package org.cortado.engine.ops;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import org.cortado.engine.CortadoException;

/**
 * The engine's compute threads. {@link #forChunks} splits a range into at most {@link #threads()}
 * contiguous chunks: the caller runs chunk 0, other threads the rest, and the call returns when all are
 * done. OpenBLAS is always called single-threaded from inside a chunk (see {@link Blas}), so the
 * process never runs more compute threads than {@code threads}: no oversubscription.
 *
 * <p>The other threads are OpenMP's team when libgomp loads ({@link OpenMp}: the threads oneDNN's
 * convolutions run on, so the two never compete for cores), else a pool of Java threads.
 *
 * <p>A chunk that calls {@code forChunks} again runs the inner range serially (no nested fan-out,
 * no deadlock). Exceptions in any chunk are rethrown to the caller.
 */
public final class Parallel implements AutoCloseable {
    /** Below this much work (in rough flops or elements) a range is not worth splitting. */
    public static final long MIN_WORK_PER_CHUNK = 32_768;

    private final int threads;
    private final ExecutorService pool;
    private final ThreadLocal<Boolean> inside = ThreadLocal.withInitial(() -> false);

    public Parallel(int threads) {
        this(threads, !OpenMp.available());
    }

    /** With {@code javaPool}, Java threads even where OpenMP loads (for tests of that path). */
    Parallel(int threads, boolean javaPool) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.pool = threads == 1 || !javaPool ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(() -> {
                inside.set(true);
                r.run();
            }, "cortado-compute");
            t.setDaemon(true);
            return t;
        });
    }

    /** One thread per available core. */
    public static Parallel allCores() {
        return new Parallel(Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return threads;
    }

    /** Body of a chunk: {@code [from, to)} of the range, and the chunk's index (for per-chunk scratch). */
    @FunctionalInterface
    public interface Chunk {
        void run(int chunk, int from, int to);
    }

    /** Number of chunks {@link #forChunks} will use for {@code n} items of {@code workPerItem} each. */
    public int chunks(int n, long workPerItem) {
        if (threads == 1 || inside.get() || n <= 1) {
            return Math.min(1, n);
        }
        long byWork = Math.max(1, (long) n * Math.max(1, workPerItem) / MIN_WORK_PER_CHUNK);
        return (int) Math.min(Math.min(threads, n), byWork);
    }

    /** Runs {@code body} over {@code [0, n)} split into {@link #chunks(int, long)} contiguous chunks. */
    public void forChunks(int n, long workPerItem, Chunk body) {
        int k = chunks(n, workPerItem);
        if (k <= 1) {
            if (n > 0) {
                body.run(0, 0, n);
            }
            return;
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        if (pool == null) {
            OpenMp.parallel(k, chunk -> {
                boolean outer = inside.get();
                inside.set(true);
                try {
                    body.run(chunk, start(n, k, chunk), start(n, k, chunk + 1));
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    inside.set(outer);
                }
            });
            rethrow(failure.get());
            return;
        }
        CountDownLatch done = new CountDownLatch(k - 1);
        for (int c = 1; c < k; c++) {
            int chunk = c;
            pool.execute(() -> {
                try {
                    body.run(chunk, start(n, k, chunk), start(n, k, chunk + 1));
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            });
        }
        inside.set(true);
        try {
            body.run(0, 0, start(n, k, 1));
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        } finally {
            inside.set(false);
        }
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CortadoException("interrupted while waiting for compute threads", e);
        }
        rethrow(failure.get());
    }

    private static void rethrow(Throwable t) {
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error err) {
            throw err;
        }
        if (t != null) {
            throw new CortadoException("compute thread failed", t);
        }
    }

    private static int start(int n, int k, int chunk) {
        return (int) ((long) n * chunk / k);
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
