package org.cortado.kernels;

/**
 * A float or int array in GPU memory, from its device's pool; {@link #close()} gives it back. Copies to
 * and from the heap are synchronous and, like every GPU call, run on the device's thread.
 */
public final class DeviceArray implements AutoCloseable {
    public enum Type { FLOAT, INT }

    private final CudaDevice device;
    private final long address;
    private final long bytes;      // the pool block's size, at least length * 4
    private final long length;
    private final Type type;
    private boolean closed;

    DeviceArray(CudaDevice device, long address, long bytes, long length, Type type) {
        this.device = device;
        this.address = address;
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
    DevicePointer at(long offset) {
        check();
        return new DevicePointer(address + offset * 4);
    }

    /** The device address of element 0. */
    DevicePointer base() {
        return at(0);
    }

    /** The pool block's address. */
    long address() {
        return address;
    }

    public DeviceArray upload(float[] src) {
        return upload(src, 0, src.length, 0);
    }

    /** Copies {@code src[from .. from+n)} to elements {@code [to .. to+n)}. */
    public DeviceArray upload(float[] src, int from, int n, long to) {
        requireType(Type.FLOAT);
        KernelArgs.range("upload", n, to, length);
        device.onThread();
        device.driver().copyIn(at(to).address(), src, from, n);
        return this;
    }

    public DeviceArray upload(int[] src) {
        requireType(Type.INT);
        KernelArgs.range("upload", src.length, 0, length);
        device.onThread();
        device.driver().copyIn(address, src, 0, src.length);
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
        device.driver().copyOut(dst, to, at(from).address(), n);
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
            device.driver().copy(at(0).address(), src.at(0).address(), n * 4);
        }
        return this;
    }

    public int[] downloadInts() {
        requireType(Type.INT);
        device.onThread();
        int[] out = new int[Math.toIntExact(length)];
        device.driver().copyOut(out, 0, address, out.length);
        return out;
    }

    /** Every byte set to {@code 0xff}: as floats that is NaN, so an element a kernel forgot stays NaN. */
    public DeviceArray poison() {
        device.onThread();
        device.driver().fill(address, (byte) 0xff, length * 4);
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
