package org.cortado.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;
import org.cortado.engine.CortadoException;

/** The {@link Driver} of a real GPU: CUDA's driver API through jcuda, the kernels loaded from the fatbins. */
final class CudaDriverApi implements Driver {
    /** A block from cuMemAlloc, which knows its address. */
    private static final class Block extends CUdeviceptr {
        long address() {
            return getNativePointer();
        }
    }

    private final CUcontext context = new CUcontext();
    private final Map<String, CUmodule> modules = new LinkedHashMap<>();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final TreeMap<Long, Block> blocks = new TreeMap<>();
    private String name;
    private int multiprocessors;

    @Override
    public void open(int ordinal, String[] families) {
        Cuda.Availability a = Cuda.availability();
        if (!a.usable()) {
            throw new CudaUnavailableException("CUDA is not usable: " + a.reason());
        }
        if (ordinal < 0 || ordinal >= a.devices()) {
            throw new CudaUnavailableException("CUDA device " + ordinal + " asked for; this machine has "
                    + a.devices() + " (0.." + (a.devices() - 1) + ")");
        }
        launchExtra = Pointer.to(JCudaDriver.CU_LAUNCH_PARAM_BUFFER_POINTER, Pointer.to(argBuffer),
                JCudaDriver.CU_LAUNCH_PARAM_BUFFER_SIZE, Pointer.to(argSize), JCudaDriver.CU_LAUNCH_PARAM_END);
        CUdevice dev = new CUdevice();
        JCudaDriver.cuDeviceGet(dev, ordinal);
        JCudaDriver.cuCtxCreate(context, 0, dev);
        byte[] b = new byte[256];
        JCudaDriver.cuDeviceGetName(b, b.length, dev);
        name = Cuda.cString(b);
        int[] sms = new int[1];
        JCudaDriver.cuDeviceGetAttribute(sms, jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev);
        multiprocessors = sms[0];
        for (String family : families) {
            load(family);
        }
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

    @Override
    public void makeCurrent() {
        JCudaDriver.cuCtxSetCurrent(context);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int multiprocessors() {
        return multiprocessors;
    }

    @Override
    public long alloc(long bytes) {
        Block p = new Block();
        int rc;
        try {
            rc = JCudaDriver.cuMemAlloc(p, bytes);
        } catch (CudaException e) { // jcuda throws on errors, with the code's name as the message
            rc = String.valueOf(e.getMessage()).contains("CUDA_ERROR_OUT_OF_MEMORY")
                    ? CUresult.CUDA_ERROR_OUT_OF_MEMORY : CUresult.CUDA_ERROR_UNKNOWN;
        }
        if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            return 0;
        }
        if (rc != CUresult.CUDA_SUCCESS) {
            throw new CortadoException("cuMemAlloc of " + bytes + " bytes failed: " + CUresult.stringFor(rc));
        }
        blocks.put(p.address(), p);
        return p.address();
    }

    @Override
    public void free(long address) {
        Block b = blocks.remove(address);
        if (b != null) {
            JCudaDriver.cuMemFree(b);
        }
    }

    /** {@code address} as jcuda's pointer: its block, moved to the byte. */
    private CUdeviceptr at(long address) {
        var e = blocks.floorEntry(address);
        if (e == null) {
            throw new IllegalArgumentException("no GPU block holds address 0x" + Long.toHexString(address));
        }
        long off = address - e.getKey();
        return off == 0 ? e.getValue() : e.getValue().withByteOffset(off);
    }

    @Override
    public long[] memoryInfo() {
        long[] free = {0}, total = {0};
        JCudaDriver.cuMemGetInfo(free, total);
        return new long[] {free[0], total[0]};
    }

    @Override
    public void copyIn(long address, float[] src, int from, int n) {
        JCudaDriver.cuMemcpyHtoD(at(address), Pointer.to(src).withByteOffset((long) from * Sizeof.FLOAT), (long) n * Sizeof.FLOAT);
    }

    @Override
    public void copyIn(long address, int[] src, int from, int n) {
        JCudaDriver.cuMemcpyHtoD(at(address), Pointer.to(src).withByteOffset((long) from * Sizeof.INT), (long) n * Sizeof.INT);
    }

    @Override
    public void copyOut(float[] dst, int to, long address, int n) {
        JCudaDriver.cuMemcpyDtoH(Pointer.to(dst).withByteOffset((long) to * Sizeof.FLOAT), at(address), (long) n * Sizeof.FLOAT);
    }

    @Override
    public void copyOut(int[] dst, int to, long address, int n) {
        JCudaDriver.cuMemcpyDtoH(Pointer.to(dst).withByteOffset((long) to * Sizeof.INT), at(address), (long) n * Sizeof.INT);
    }

    @Override
    public void copy(long dst, long src, long bytes) {
        JCudaDriver.cuMemcpyDtoD(at(dst), at(src), bytes);
    }

    @Override
    public void fill(long address, byte value, long bytes) {
        JCudaDriver.cuMemsetD8(at(address), value, bytes);
    }

    private CUfunction function(String kernel) {
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

    @Override
    public void launch(String kernel, int gridX, int gridY, int gridZ, int block, Object[] args) {
        argSize.putLong(0, pack(args, argBuffer));
        try {
            JCudaDriver.cuLaunchKernel(function(kernel), gridX, gridY, gridZ, block, 1, 1, 0, null, null, launchExtra);
        } catch (CudaException e) {
            throw new CortadoException("CUDA kernel " + kernel + " failed to launch: " + e.getMessage(), e);
        }
    }

    /**
     * Packs a launch's arguments into {@code buffer} (native byte order) as the kernel's parameters lie
     * in memory, each at its own alignment, and returns their size: what cuLaunchKernel takes through
     * {@code CU_LAUNCH_PARAM_BUFFER_POINTER}, one direct buffer instead of a Java array to pin per
     * argument. Integer and Float are 4 bytes; Long, Double, a {@link DevicePointer} and null (a null
     * pointer) 8.
     */
    static int pack(Object[] args, ByteBuffer buffer) {
        int at = 0;
        for (Object arg : args) {
            int size = arg instanceof Integer || arg instanceof Float ? 4 : 8;
            at = (at + size - 1) & -size;
            if (at + size > buffer.capacity()) {
                throw new IllegalArgumentException("kernel arguments past " + buffer.capacity() + " bytes");
            }
            switch (arg) {
                case Integer v -> buffer.putInt(at, v);
                case Float v -> buffer.putFloat(at, v);
                case Long v -> buffer.putLong(at, v);
                case Double v -> buffer.putDouble(at, v);
                case DevicePointer v -> buffer.putLong(at, v.address());
                case null -> buffer.putLong(at, 0L);
                default -> throw new IllegalArgumentException("kernel argument of type " + arg.getClass());
            }
            at += size;
        }
        return at;
    }

    /** CUDA's limit on a kernel's parameters is 4 KiB; Cortado's kernels take at most 20. */
    private static final int ARG_BYTES = 512;
    private final ByteBuffer argBuffer = ByteBuffer.allocateDirect(ARG_BYTES).order(ByteOrder.nativeOrder());
    private final ByteBuffer argSize = ByteBuffer.allocateDirect(Long.BYTES).order(ByteOrder.nativeOrder()); // a size_t
    private Pointer launchExtra; // set by open(): JCudaDriver loads only where the driver is there

    @Override
    public void synchronize() {
        try {
            JCudaDriver.cuCtxSynchronize();
        } catch (CudaException e) {
            throw new CortadoException("a CUDA kernel failed: " + e.getMessage(), e);
        }
    }

    @Override
    public float time(Runnable work) {
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
        JCudaDriver.cuCtxDestroy(context);
    }
}
