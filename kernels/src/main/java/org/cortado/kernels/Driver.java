package org.cortado.kernels;

/**
 * What a {@link CudaDevice} asks of the GPU: the CUDA driver API ({@link CudaDriverApi}, through jcuda),
 * or, in the kernels' tests on a machine without a GPU, a CPU emulation of it. Every call runs on the
 * device's thread; addresses are plain device addresses.
 */
interface Driver {
    /** Opens device {@code ordinal} on the calling thread, which is the device's thread from then on, and loads the kernel families. */
    void open(int ordinal, String[] families);

    /** Makes this device's context current on the calling thread (the device's thread, before each piece of work). */
    void makeCurrent();

    String name();

    int multiprocessors();

    /** A block of {@code bytes}, or 0 when the GPU is out of memory; other failures throw. */
    long alloc(long bytes);

    void free(long address);

    /** Free and total bytes of the GPU. */
    long[] memoryInfo();

    void copyIn(long address, float[] src, int from, int n);

    void copyIn(long address, int[] src, int from, int n);

    void copyOut(float[] dst, int to, long address, int n);

    void copyOut(int[] dst, int to, long address, int n);

    void copy(long dst, long src, long bytes);

    void fill(long address, byte value, long bytes);

    /**
     * Launches {@code kernel} on a grid of {@code (gridX, gridY, gridZ)} blocks of {@code block} threads;
     * each argument an Integer, Long, Float, Double or {@link DevicePointer} (null: the null pointer).
     */
    void launch(String kernel, int gridX, int gridY, int gridZ, int block, Object[] args);

    /** Waits for every launched kernel; a kernel's failure surfaces here. */
    void synchronize();

    /** Milliseconds of GPU time {@code work} takes. */
    float time(Runnable work);

    /** Destroys the context (the device's thread, after every block was freed). */
    void close();
}
