package org.cortado.kernels;

import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * A float or int array in GPU memory, from its device's pool; {@link #close()} gives it back. Copies to
 * and from the heap are synchronous and, like every GPU call, run on the device's thread.
 */
public final class DeviceArray implements AutoCloseable {
    public enum Type { FLOAT, INT }

    private final CudaDevice device;
    private final CUdeviceptr ptr;
    private final long bytes;      // the pool block's size, at least length * 4
    private final long length;
    private final Type type;
    private boolean closed;

    DeviceArray(CudaDevice device, CUdeviceptr ptr, long bytes, long length, Type type) {
        this.device = device;
        this.ptr = ptr;
        this.bytes = bytes;
        this.length = length;
        this.type = type;
    }

    public long length() {
        return length;
    }

    public Type type() {
        return type;
    }

    public CudaDevice device() {
        return device;
    }

    long blockBytes() {
        return bytes;
    }

    /** The device address of element {@code offset}. */
    CUdeviceptr at(long offset) {
        check();
        return offset == 0 ? ptr : (CUdeviceptr) ptr.withByteOffset(offset * Sizeof.FLOAT);
    }

    CUdeviceptr base() {
        return ptr;
    }

    public DeviceArray upload(float[] src) {
        return upload(src, 0, src.length, 0);
    }

    /** Copies {@code src[from .. from+n)} to elements {@code [to .. to+n)}. */
    public DeviceArray upload(float[] src, int from, int n, long to) {
        requireType(Type.FLOAT);
        KernelArgs.range("upload", n, to, length);
        device.onThread();
        JCudaDriver.cuMemcpyHtoD(at(to), Pointer.to(src).withByteOffset((long) from * Sizeof.FLOAT),
                (long) n * Sizeof.FLOAT);
        return this;
    }

    public DeviceArray upload(int[] src) {
        requireType(Type.INT);
        KernelArgs.range("upload", src.length, 0, length);
        device.onThread();
        JCudaDriver.cuMemcpyHtoD(ptr, Pointer.to(src), (long) src.length * Sizeof.INT);
        return this;
    }

    public float[] download() {
        float[] out = new float[Math.toIntExact(length)];
        download(out, 0, out.length, 0);
        return out;
    }

    /** Copies elements {@code [from .. from+n)} to {@code dst[to .. to+n)}. */
    public void download(float[] dst, long from, int n, int to) {
        requireType(Type.FLOAT);
        KernelArgs.range("download", n, from, length);
        device.onThread();
        JCudaDriver.cuMemcpyDtoH(Pointer.to(dst).withByteOffset((long) to * Sizeof.FLOAT), at(from),
                (long) n * Sizeof.FLOAT);
    }

    /** Copies elements {@code [0 .. n)} of {@code src}, an array of the same device and type, to {@code [0 .. n)}, on the GPU. */
    public DeviceArray copyFrom(DeviceArray src, long n) {
        requireType(src.type);
        if (src.device != device) {
            throw new IllegalArgumentException("copy between arrays of two devices");
        }
        KernelArgs.range("copy (source)", n, 0, src.length);
        KernelArgs.range("copy (destination)", n, 0, length);
        device.onThread();
        if (n > 0) {
            JCudaDriver.cuMemcpyDtoD(at(0), src.at(0), n * Sizeof.FLOAT);
        }
        return this;
    }

    public int[] downloadInts() {
        requireType(Type.INT);
        device.onThread();
        int[] out = new int[Math.toIntExact(length)];
        JCudaDriver.cuMemcpyDtoH(Pointer.to(out), ptr, (long) out.length * Sizeof.INT);
        return out;
    }

    /** Every byte set to {@code 0xff}: as floats that is NaN, so an element a kernel forgot stays NaN. */
    public DeviceArray poison() {
        device.onThread();
        JCudaDriver.cuMemsetD8(ptr, (byte) 0xff, length * Sizeof.FLOAT);
        return this;
    }

    private void requireType(Type t) {
        if (type != t) {
            throw new IllegalArgumentException("a " + type + " device array used as " + t);
        }
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("device array used after close");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            device.release(this);
        }
    }
}
