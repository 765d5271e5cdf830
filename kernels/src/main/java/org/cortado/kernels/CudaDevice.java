package org.cortado.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.CudaException;
import jcuda.driver.JCudaDriver;
import org.cortado.engine.CortadoException;

/**
 * One GPU: its CUDA context, created on and owned by one dedicated thread, the kernel modules loaded
 * from the fatbins, and a caching memory pool. Every GPU call runs on that thread: submit work with
 * {@link #call}; the ops check they are on it.
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
    private final CUcontext context = new CUcontext();
    private final Map<String, CUmodule> modules = new java.util.LinkedHashMap<>();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final TreeMap<Long, ArrayDeque<CUdeviceptr>> free = new TreeMap<>();
    private final String name;
    private final int multiprocessors;
    private long inUse;
    private long cached;
    private long peak;
    private boolean closed;

    private CudaDevice(int ordinal) {
        Cuda.Availability a = Cuda.availability();
        if (!a.usable()) {
            throw new CudaUnavailableException("CUDA is not usable: " + a.reason());
        }
        if (ordinal < 0 || ordinal >= a.devices()) {
            throw new CudaUnavailableException("CUDA device " + ordinal + " asked for; this machine has "
                    + a.devices() + " (0.." + (a.devices() - 1) + ")");
        }
        Thread[] t = new Thread[1];
        thread = Executors.newSingleThreadExecutor(r -> {
            t[0] = new Thread(r, "cortado-cuda-" + ordinal);
            t[0].setDaemon(true);
            return t[0];
        });
        String[] nm = new String[1];
        int[] sms = new int[1];
        try {
            thread.submit(() -> {
                CUdevice dev = new CUdevice();
                JCudaDriver.cuDeviceGet(dev, ordinal);
                JCudaDriver.cuCtxCreate(context, 0, dev);
                byte[] b = new byte[256];
                JCudaDriver.cuDeviceGetName(b, b.length, dev);
                nm[0] = Cuda.cString(b);
                JCudaDriver.cuDeviceGetAttribute(sms,
                        jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev);
                for (String family : FAMILIES) {
                    load(family);
                }
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
        name = nm[0];
        multiprocessors = sms[0];
    }

    /** Opens device {@code ordinal}; throws {@link CudaUnavailableException} saying why it cannot. */
    public static CudaDevice open(int ordinal) {
        return new CudaDevice(ordinal);
    }

    public String name() {
        return name;
    }

    int multiprocessors() {
        return multiprocessors;
    }

    private void load(String family) {
        String resource = family + ".fatbin";
        byte[] image;
        try (InputStream in = CudaDevice.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new CudaUnavailableException("the CUDA kernels were not built: " + resource
                        + " is missing from the classpath (kernels/build-fatbin.sh builds it with nvcc)");
            }
            image = in.readAllBytes();
        } catch (IOException e) {
            throw new CudaUnavailableException("cannot read the kernel image " + resource + ": " + e);
        }
        CUmodule module = new CUmodule();
        try {
            JCudaDriver.cuModuleLoadData(module, image);
        } catch (CudaException e) {
            throw new CudaUnavailableException("the GPU cannot load " + resource + " (" + e.getMessage()
                    + "): it holds sm_80 and sm_90 code and compute_90 PTX; the driver may be older than CUDA 13");
        }
        modules.put(family, module);
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
            JCudaDriver.cuCtxSetCurrent(context);
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

    CUfunction function(String kernel) {
        CUfunction f = functions.get(kernel);
        if (f != null) {
            return f;
        }
        for (CUmodule m : modules.values()) {
            CUfunction g = new CUfunction();
            try {
                JCudaDriver.cuModuleGetFunction(g, m, kernel);
            } catch (CudaException notHere) {
                continue;
            }
            functions.put(kernel, g);
            return g;
        }
        throw new CortadoException("no CUDA kernel named " + kernel + " in the loaded fatbins " + modules.keySet());
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
        ArrayDeque<CUdeviceptr> q = free.get(bytes);
        CUdeviceptr p = q == null ? null : q.poll();
        if (p != null) {
            cached -= bytes;
        } else {
            p = new CUdeviceptr();
            int rc = memAlloc(p, bytes);
            if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
                trim();
                rc = memAlloc(p, bytes);
            }
            if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
                long[] freeB = {0}, total = {0};
                JCudaDriver.cuMemGetInfo(freeB, total);
                throw new CudaUnavailableException(outOfMemory(bytes, inUse, freeB[0], total[0], name));
            }
            if (rc != CUresult.CUDA_SUCCESS) {
                throw new CortadoException("cuMemAlloc of " + bytes + " bytes failed: " + CUresult.stringFor(rc));
            }
        }
        inUse += bytes;
        peak = Math.max(peak, inUse);
        return new DeviceArray(this, p, bytes, length, type);
    }

    /** cuMemAlloc's result code (jcuda throws on errors, with the code's name as the message). */
    private static int memAlloc(CUdeviceptr p, long bytes) {
        try {
            return JCudaDriver.cuMemAlloc(p, bytes);
        } catch (CudaException e) {
            return String.valueOf(e.getMessage()).contains("CUDA_ERROR_OUT_OF_MEMORY")
                    ? CUresult.CUDA_ERROR_OUT_OF_MEMORY : CUresult.CUDA_ERROR_UNKNOWN;
        }
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
            free.computeIfAbsent(a.blockBytes(), k -> new ArrayDeque<>()).push(a.base());
            return null;
        });
    }

    /** Frees every cached block back to the driver. */
    public void trim() {
        call(() -> {
            for (ArrayDeque<CUdeviceptr> q : free.values()) {
                for (CUdeviceptr p : q) {
                    JCudaDriver.cuMemFree(p);
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

    void launch(String kernel, int gridX, int gridY, int gridZ, int block, Object... args) {
        onThread();
        Pointer[] ps = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            ps[i] = switch (args[i]) {
                case Integer v -> Pointer.to(new int[] {v});
                case Long v -> Pointer.to(new long[] {v});
                case Float v -> Pointer.to(new float[] {v});
                case Double v -> Pointer.to(new double[] {v});
                case CUdeviceptr v -> Pointer.to(v);
                case null -> Pointer.to(new long[] {0});
                default -> throw new IllegalArgumentException("kernel argument of type " + args[i].getClass());
            };
        }
        try {
            JCudaDriver.cuLaunchKernel(function(kernel), gridX, gridY, gridZ, block, 1, 1, 0, null,
                    Pointer.to(ps), null);
        } catch (CudaException e) {
            throw new CortadoException("CUDA kernel " + kernel + " failed to launch: " + e.getMessage(), e);
        }
    }

    /** Waits for every launched kernel; a kernel's fault surfaces here, named. */
    public void synchronize() {
        onThread();
        try {
            JCudaDriver.cuCtxSynchronize();
        } catch (CudaException e) {
            throw new CortadoException("a CUDA kernel failed: " + e.getMessage(), e);
        }
    }

    /** Milliseconds of GPU time {@code work} takes, measured with CUDA events around it. */
    public float time(Runnable work) {
        onThread();
        CUevent start = new CUevent(), stop = new CUevent();
        JCudaDriver.cuEventCreate(start, 0);
        JCudaDriver.cuEventCreate(stop, 0);
        try {
            JCudaDriver.cuEventRecord(start, null);
            work.run();
            JCudaDriver.cuEventRecord(stop, null);
            JCudaDriver.cuEventSynchronize(stop);
            float[] ms = {0};
            JCudaDriver.cuEventElapsedTime(ms, start, stop);
            return ms[0];
        } finally {
            JCudaDriver.cuEventDestroy(start);
            JCudaDriver.cuEventDestroy(stop);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        call(() -> {
            trim();
            JCudaDriver.cuCtxDestroy(context);
            return null;
        });
        closed = true;
        thread.shutdown();
    }
}
