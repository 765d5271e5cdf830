package org.cortado.kernels;

import java.util.ArrayDeque;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.cortado.engine.CortadoException;

/**
 * One GPU: its CUDA context, created on and owned by one dedicated thread, the kernel modules loaded
 * from the fatbins (both through its {@link Driver}), and a caching memory pool. Every GPU call runs on
 * that thread: submit work with {@link #call}; the ops check they are on it.
 *
 * <p>The pool keeps freed blocks by size and hands them out again, so a training step allocates nothing
 * after the first. When an allocation fails the pool frees its cached blocks and tries once more; if it
 * still fails, the error says how much was asked for, how much this device already holds, and how much
 * the GPU has.
 */
public final class CudaDevice implements AutoCloseable {
    static final String[] FAMILIES = {"gemm", "conv", "pool", "activation", "softmax", "batchnorm", "eltwise", "lrn", "reduce", "solver"};
    private static final long ALIGN = 512;

    private final ExecutorService thread;
    private final Thread owner;
    private final Driver driver;
    private final TreeMap<Long, ArrayDeque<Long>> free = new TreeMap<>();
    private long inUse;
    private long cached;
    private long peak;
    private boolean closed;

    private CudaDevice(Driver driver, int ordinal) {
        this.driver = driver;
        Thread[] t = new Thread[1];
        thread = Executors.newSingleThreadExecutor(r -> {
            t[0] = new Thread(r, "cortado-cuda-" + ordinal);
            t[0].setDaemon(true);
            return t[0];
        });
        try {
            thread.submit(() -> {
                driver.open(ordinal, FAMILIES);
                return null;
            }).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            thread.shutdownNow();
            throw new CortadoException("interrupted while opening CUDA device " + ordinal, e);
        } catch (ExecutionException e) {
            thread.shutdownNow();
            Throwable c = e.getCause();
            throw c instanceof CortadoException ce ? ce
                    : new CudaUnavailableException("CUDA device " + ordinal + " could not be opened: " + c);
        }
        owner = t[0];
    }

    /** Opens device {@code ordinal}; throws {@link CudaUnavailableException} saying why it cannot. */
    public static CudaDevice open(int ordinal) {
        return new CudaDevice(Cuda.driver(), ordinal);
    }

    /** A device run by {@code driver} (the kernels' tests open the CPU emulation this way). */
    static CudaDevice open(Driver driver, int ordinal) {
        return new CudaDevice(driver, ordinal);
    }

    public String name() {
        return driver.name();
    }

    int multiprocessors() {
        return driver.multiprocessors();
    }

    /** Runs {@code work} on this device's thread and waits for it; exceptions come back unwrapped. */
    public <T> T call(Callable<T> work) {
        if (Thread.currentThread() == owner) {
            try {
                return work.call();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new CortadoException(e.toString(), e);
            }
        }
        Future<T> f = thread.submit(() -> {
            driver.makeCurrent();
            return work.call();
        });
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CortadoException("interrupted while waiting for the GPU", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) {
                throw r;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new CortadoException(c.toString(), c);
        }
    }

    /** Throws unless called on this device's thread. */
    void onThread() {
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("GPU work must run on " + owner.getName() + " (use CudaDevice.call), not on "
                    + Thread.currentThread().getName());
        }
    }

    // ---- memory ----

    public DeviceArray floats(long length) {
        return allocate(length, DeviceArray.Type.FLOAT);
    }

    public DeviceArray ints(long length) {
        return allocate(length, DeviceArray.Type.INT);
    }

    /** A float array with {@code data} copied in. */
    public DeviceArray upload(float[] data) {
        return floats(data.length).upload(data);
    }

    private DeviceArray allocate(long length, DeviceArray.Type type) {
        onThread();
        if (length < 0) {
            throw new IllegalArgumentException("negative length " + length);
        }
        long bytes = Math.max(ALIGN, (length * 4 + ALIGN - 1) / ALIGN * ALIGN);
        ArrayDeque<Long> q = free.get(bytes);
        Long p = q == null ? null : q.poll();
        if (p != null) {
            cached -= bytes;
        } else {
            p = driver.alloc(bytes);
            if (p == 0) {
                trim();
                p = driver.alloc(bytes);
            }
            if (p == 0) {
                long[] info = driver.memoryInfo();
                throw new CudaUnavailableException(outOfMemory(bytes, inUse, info[0], info[1], name()));
            }
        }
        inUse += bytes;
        peak = Math.max(peak, inUse);
        return new DeviceArray(this, p, bytes, length, type);
    }

    static String outOfMemory(long needed, long inUse, long free, long total, String gpu) {
        return "out of GPU memory on " + gpu + ": this run needed " + mib(needed) + " more, on top of the "
                + mib(inUse) + " it already holds (" + mib(inUse + needed) + " in all); the GPU has " + mib(free)
                + " free of " + mib(total) + ". Use a smaller batch or fewer micro-batches per stage.";
    }

    static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    void release(DeviceArray a) {
        if (closed) {
            return;
        }
        call(() -> {
            inUse -= a.blockBytes();
            cached += a.blockBytes();
            free.computeIfAbsent(a.blockBytes(), k -> new ArrayDeque<>()).push(a.address());
            return null;
        });
    }

    /** Frees every cached block back to the driver. */
    public void trim() {
        call(() -> {
            for (ArrayDeque<Long> q : free.values()) {
                for (long p : q) {
                    driver.free(p);
                }
            }
            free.clear();
            cached = 0;
            return null;
        });
    }

    /** Bytes held by live arrays, the most ever held at once, and bytes cached for reuse. */
    public record MemoryStats(long inUse, long peak, long cached) {}

    public MemoryStats memory() {
        return call(() -> new MemoryStats(inUse, peak, cached));
    }

    // ---- launching and timing ----

    private long launches;

    void launch(String kernel, int gridX, int gridY, int gridZ, int block, Object... args) {
        onThread();
        driver.launch(kernel, gridX, gridY, gridZ, block, args);
        launches++;
    }

    /** How many kernels were launched on this device so far (a benchmark's launches per step). */
    public long launches() {
        return call(() -> launches);
    }

    /** Waits for every launched kernel; a kernel's fault surfaces here, named. */
    public void synchronize() {
        onThread();
        driver.synchronize();
    }

    /** Milliseconds of GPU time {@code work} takes, measured with CUDA events around it. */
    public float time(Runnable work) {
        onThread();
        return driver.time(work);
    }

    Driver driver() {
        return driver;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        call(() -> {
            trim();
            driver.close();
            return null;
        });
        closed = true;
        thread.shutdown();
    }
}
