package org.cortado.engine.ops;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;
import org.bytedeco.javacpp.Loader;
import org.cortado.engine.CortadoException;

/**
 * The OpenMP runtime (GNU libgomp) that ships with the oneDNN natives, bound through the FFM API.
 *
 * <p>oneDNN computes on OpenMP's threads, and after each parallel region those threads spin for a
 * while waiting for the next one. If the engine's own layers ran on a second pool of Java threads,
 * the two pools would fight for the cores right after every convolution (on a 2-core machine a pooling
 * layer after a convolution took 40% longer), and each Java fan-out would pay a park/unpark. So when
 * libgomp loads, {@link Parallel} runs its chunks on OpenMP's team too: {@link #parallel} enters a
 * parallel region ({@code GOMP_parallel}, what {@code #pragma omp parallel} compiles to) whose threads
 * call back into Java through an FFM upcall. One team of threads then serves oneDNN and the Java layers.
 *
 * <p>{@link Dnnl} loads oneDNN against this copy of libgomp, so both share the one runtime.
 */
final class OpenMp {
    private static final String UNAVAILABLE;
    private static final SymbolLookup LOOKUP;
    private static final MethodHandle GOMP_PARALLEL;
    private static final MethodHandle THREAD_NUM;
    private static final MethodHandle NUM_THREADS;
    private static final MethodHandle SET_NUM_THREADS;
    private static final MemorySegment BODY;

    /** Regions in flight, by the id passed through the region's {@code void *data}. */
    private static final ConcurrentHashMap<Long, Region> REGIONS = new ConcurrentHashMap<>();
    private static final AtomicLong IDS = new AtomicLong();

    private record Region(int chunks, IntConsumer chunk, AtomicReference<Throwable> failure) {}

    static {
        String reason = null;
        SymbolLookup lookup = null;
        MethodHandle parallel = null, threadNum = null, numThreads = null, setNumThreads = null;
        MemorySegment body = null;
        try {
            String dir = "/org/bytedeco/dnnl/" + Loader.getPlatform() + "/";
            lookup = SymbolLookup.libraryLookup(Loader.cacheResource(dir + "libgomp.so.1").toPath(), Arena.global());
            Linker linker = Linker.nativeLinker();
            var i = ValueLayout.JAVA_INT;
            var p = ValueLayout.ADDRESS;
            parallel = linker.downcallHandle(find(lookup, "GOMP_parallel"), FunctionDescriptor.ofVoid(p, p, i, i));
            threadNum = linker.downcallHandle(find(lookup, "omp_get_thread_num"), FunctionDescriptor.of(i));
            numThreads = linker.downcallHandle(find(lookup, "omp_get_num_threads"), FunctionDescriptor.of(i));
            setNumThreads = linker.downcallHandle(find(lookup, "omp_set_num_threads"), FunctionDescriptor.ofVoid(i));
            MethodHandle target = MethodHandles.lookup().findStatic(OpenMp.class, "body",
                    MethodType.methodType(void.class, MemorySegment.class));
            body = linker.upcallStub(target, FunctionDescriptor.ofVoid(p), Arena.global());
        } catch (Throwable t) {
            reason = "OpenMP (libgomp from the org.bytedeco:dnnl linux-x86_64 natives) could not be loaded: " + t;
        }
        UNAVAILABLE = reason;
        LOOKUP = lookup;
        GOMP_PARALLEL = parallel;
        THREAD_NUM = threadNum;
        NUM_THREADS = numThreads;
        SET_NUM_THREADS = setNumThreads;
        BODY = body;
    }

    private OpenMp() {}

    private static MemorySegment find(SymbolLookup lookup, String name) {
        return lookup.find(name).orElseThrow(() -> new CortadoException("libgomp has no symbol " + name));
    }

    static boolean available() {
        return UNAVAILABLE == null;
    }

    /** Why OpenMP is not available, or null when it is. */
    static String unavailableReason() {
        return UNAVAILABLE;
    }

    /** The loaded libgomp, for binding oneDNN against it. */
    static SymbolLookup lookup() {
        if (LOOKUP == null) {
            throw new CortadoException(UNAVAILABLE);
        }
        return LOOKUP;
    }

    /** OpenMP threads for the calling thread's next parallel regions (oneDNN's primitives). */
    static void setThreads(int threads) {
        try {
            SET_NUM_THREADS.invokeExact(threads);
        } catch (Throwable t) {
            throw new CortadoException("omp_set_num_threads failed: " + t, t);
        }
    }

    /**
     * Runs {@code chunk.accept(c)} for every {@code c} in {@code [0, chunks)} on a team of {@code chunks}
     * OpenMP threads, the calling thread being one of them, and returns when all are done. The team
     * may be smaller than asked (an OpenMP thread limit): its threads then take the chunks in turn.
     * An exception in a chunk cannot cross back into native code: the first one is kept, the thread's
     * remaining chunks are skipped, and it is rethrown here once the region has ended.
     */
    static void parallel(int chunks, IntConsumer chunk) {
        long id = IDS.incrementAndGet();
        Region region = new Region(chunks, chunk, new AtomicReference<>());
        REGIONS.put(id, region);
        try {
            GOMP_PARALLEL.invokeExact(BODY, MemorySegment.ofAddress(id), chunks, 0);
        } catch (Throwable t) {
            throw new CortadoException("GOMP_parallel failed: " + t, t);
        } finally {
            REGIONS.remove(id);
        }
        Throwable t = region.failure().get();
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error err) {
            throw err;
        }
        if (t != null) {
            throw new CortadoException("compute thread failed: " + t, t);
        }
    }

    /** The upcall each team thread makes: its share of the region's chunks. Never throws. */
    private static void body(MemorySegment data) {
        Region region = REGIONS.get(data.address());
        try {
            int team = (int) NUM_THREADS.invokeExact();
            for (int c = (int) THREAD_NUM.invokeExact(); c < region.chunks(); c += team) {
                region.chunk().accept(c);
            }
        } catch (Throwable t) {
            region.failure().compareAndSet(null, t);
        }
    }
}
