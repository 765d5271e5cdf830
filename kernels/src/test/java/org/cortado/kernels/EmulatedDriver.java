package org.cortado.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.cortado.engine.CortadoException;

/**
 * A {@link Driver} that runs the kernels on the CPU: every {@code src/main/cuda/*.cu} compiled by g++
 * against a CUDA emulation ({@code src/test/emu}: {@code build-emu.sh} builds
 * {@code target/emu/libcortado_emu.so} on first use). The kernels' tests use it where there is no GPU,
 * so the kernels and their Java faces are compared with the CPU ops in CI too. Beyond what a GPU would
 * do, a launch checks each argument's type against the kernel's parameters, fails on a barrier that not
 * every thread reaches, and fails when a kernel wrote outside a device array. It says nothing about
 * speed or data races (a block's threads interleave only at barriers).
 */
final class EmulatedDriver implements Driver {
    /** The kernels module: the working directory of its tests, or a sibling of another module's. */
    private static final Path MODULE = Files.isDirectory(Path.of("src/test/emu")) ? Path.of("") : Path.of("../kernels");
    private static final Path SOURCES = MODULE.resolve("src/test/emu");
    private static final Path LIBRARY = MODULE.resolve("target/emu/libcortado_emu.so");
    private static final Linker LINKER = Linker.nativeLinker();
    /**
     * The system property that makes every launch run its blocks, and its threads between barriers, last
     * first: a kernel whose result depends on that order fails its test (a second test run sets it).
     */
    static final String REVERSE = "cortado.emu.reverse";
    private static MethodHandle alloc;
    private static MethodHandle free;
    private static MethodHandle launch;
    private static MethodHandle signature;
    private static MethodHandle setReverse;
    private static final String PROBLEM = build(); // after the fields it sets

    private final long capacity;
    private long allocated;
    private final java.util.TreeMap<Long, Long> sizes = new java.util.TreeMap<>();

    /** An emulated GPU of {@code capacity} bytes. */
    EmulatedDriver(long capacity) {
        if (PROBLEM != null) {
            throw new CudaUnavailableException("the CPU emulation of the kernels is not available: " + PROBLEM);
        }
        this.capacity = capacity;
    }

    EmulatedDriver() {
        this(4L << 30);
    }

    /** Why the emulation cannot run here (no g++, a failed build), or null when it can. */
    static String unavailable() {
        return PROBLEM;
    }

    private static String build() {
        try {
            if (!Files.isRegularFile(SOURCES.resolve("build-emu.sh"))) {
                return "its sources are not at " + SOURCES.toAbsolutePath() + " (run the tests from the kernels module)";
            }
            if (stale()) {
                Process p = new ProcessBuilder("bash", SOURCES.resolve("build-emu.sh").toString(), LIBRARY.getParent().toString())
                        .redirectErrorStream(true).start();
                String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (p.waitFor() != 0) {
                    return said.contains("g++: command not found") || said.contains("g++: No such file")
                            ? "g++ is not installed (apt-get install g++)"
                            : "build-emu.sh failed:\n" + said;
                }
            }
            SymbolLookup lib = SymbolLookup.libraryLookup(LIBRARY.toAbsolutePath(), Arena.global());
            alloc = LINKER.downcallHandle(lib.find("emu_alloc").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
            free = LINKER.downcallHandle(lib.find("emu_free").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
            launch = LINKER.downcallHandle(lib.find("emu_launch").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                            ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            signature = LINKER.downcallHandle(lib.find("emu_signature").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            setReverse = LINKER.downcallHandle(lib.find("emu_set_reverse").orElseThrow(),
                    FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
            if (Boolean.getBoolean(REVERSE)) {
                reverse(true);
                System.err.println("the CPU emulation runs blocks, and threads between barriers, last first (" + REVERSE + ")");
            }
            return null;
        } catch (Throwable e) {
            return e.toString();
        }
    }

    /** Every launch from now on runs its blocks, and its threads between barriers, last first ({@code on}) or first first. */
    static void reverse(boolean on) {
        try {
            setReverse.invokeExact(on ? 1 : 0);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** The library is missing or older than a source it is built from. */
    private static boolean stale() throws java.io.IOException {
        if (!Files.isRegularFile(LIBRARY)) {
            return true;
        }
        long built = Files.getLastModifiedTime(LIBRARY).toMillis();
        try (Stream<Path> s = Stream.concat(Files.list(SOURCES), Files.list(MODULE.resolve("src/main/cuda")))) {
            return s.anyMatch(f -> f.toFile().lastModified() > built);
        }
    }

    /** The kernel's parameter types, one letter each (I int, J long, F float, D double, P pointer), or null. */
    static String signature(String kernel) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = (MemorySegment) signature.invokeExact(a.allocateFrom(kernel));
            return s.equals(MemorySegment.NULL) ? null : s.reinterpret(64).getString(0);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void open(int ordinal, String[] families) {
        if (ordinal != 0) {
            throw new CudaUnavailableException("the CPU emulation has one device, 0; " + ordinal + " asked for");
        }
    }

    @Override
    public void makeCurrent() {
        // one emulated device per thread: nothing to switch
    }

    @Override
    public String name() {
        return "CPU emulation of a CUDA GPU";
    }

    @Override
    public int multiprocessors() {
        return 2;
    }

    @Override
    public long alloc(long bytes) {
        if (allocated + bytes > capacity) {
            return 0;
        }
        try {
            long address = ((MemorySegment) alloc.invokeExact(bytes)).address();
            if (address == 0) {
                return 0;
            }
            allocated += bytes;
            sizes.put(address, bytes);
            return address;
        } catch (Throwable e) {
            throw new CortadoException("emulated alloc failed: " + e, e);
        }
    }

    @Override
    public void free(long address) {
        Long bytes = sizes.remove(address);
        if (bytes == null) {
            throw new IllegalArgumentException("free of an address that is not a live block: 0x" + Long.toHexString(address));
        }
        allocated -= bytes;
        try {
            int rc = (int) free.invokeExact(MemorySegment.ofAddress(address));
            if (rc != 0) {
                throw new IllegalStateException("the emulation does not know block 0x" + Long.toHexString(address)
                        + " (freed on another thread?)");
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable e) {
            throw new CortadoException("emulated free failed: " + e, e);
        }
    }

    @Override
    public long[] memoryInfo() {
        return new long[] {capacity - allocated, capacity};
    }

    private MemorySegment memory(long address, long bytes) {
        var b = sizes.floorEntry(address);
        if (b == null || address + bytes > b.getKey() + b.getValue()) {
            throw new IllegalArgumentException(bytes + " bytes at 0x" + Long.toHexString(address) + " are not inside one device block");
        }
        return MemorySegment.ofAddress(address).reinterpret(bytes);
    }

    @Override
    public void copyIn(long address, float[] src, int from, int n) {
        MemorySegment.copy(src, from, memory(address, 4L * n), ValueLayout.JAVA_FLOAT, 0, n);
    }

    @Override
    public void copyIn(long address, int[] src, int from, int n) {
        MemorySegment.copy(src, from, memory(address, 4L * n), ValueLayout.JAVA_INT, 0, n);
    }

    @Override
    public void copyOut(float[] dst, int to, long address, int n) {
        MemorySegment.copy(memory(address, 4L * n), ValueLayout.JAVA_FLOAT, 0, dst, to, n);
    }

    @Override
    public void copyOut(int[] dst, int to, long address, int n) {
        MemorySegment.copy(memory(address, 4L * n), ValueLayout.JAVA_INT, 0, dst, to, n);
    }

    @Override
    public void copy(long dst, long src, long bytes) {
        MemorySegment.copy(memory(src, bytes), 0, memory(dst, bytes), 0, bytes);
    }

    @Override
    public void fill(long address, byte value, long bytes) {
        memory(address, bytes).fill(value);
    }

    @Override
    public void launch(String kernel, int gridX, int gridY, int gridZ, int block, Object[] args) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment values = a.allocate(8L * Math.max(1, args.length), 8);
            byte[] tags = new byte[args.length + 1];
            for (int i = 0; i < args.length; i++) {
                long at = 8L * i;
                tags[i] = (byte) switch (args[i]) {
                    case Integer v -> {
                        values.set(ValueLayout.JAVA_INT, at, v);
                        yield 'I';
                    }
                    case Long v -> {
                        values.set(ValueLayout.JAVA_LONG, at, v);
                        yield 'J';
                    }
                    case Float v -> {
                        values.set(ValueLayout.JAVA_FLOAT, at, v);
                        yield 'F';
                    }
                    case Double v -> {
                        values.set(ValueLayout.JAVA_DOUBLE, at, v);
                        yield 'D';
                    }
                    case DevicePointer v -> {
                        values.set(ValueLayout.JAVA_LONG, at, v.address());
                        yield 'P';
                    }
                    case null -> 'P';
                    default -> throw new IllegalArgumentException("kernel argument of type " + args[i].getClass());
                };
            }
            MemorySegment error = a.allocate(1024);
            int rc = (int) launch.invokeExact(a.allocateFrom(kernel), gridX, gridY, gridZ, block, args.length,
                    a.allocateFrom(ValueLayout.JAVA_BYTE, tags), values, error, 1024);
            if (rc != 0) {
                throw new CortadoException("CUDA kernel " + kernel + " failed (CPU emulation): " + error.getString(0));
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable e) {
            throw new CortadoException("emulated launch of " + kernel + " failed: " + e, e);
        }
    }

    @Override
    public void synchronize() {
        // launches run to the end before they return
    }

    @Override
    public float time(Runnable work) {
        long t0 = System.nanoTime();
        work.run();
        return (System.nanoTime() - t0) / 1e6f;
    }

    @Override
    public void close() {
        // every block was freed by the device's trim
    }
}
