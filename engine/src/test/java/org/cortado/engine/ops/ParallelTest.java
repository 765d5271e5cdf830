package org.cortado.engine.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Both ways of running chunks: OpenMP's team (where libgomp loads) and the Java pool (elsewhere). */
class ParallelTest {

    @ParameterizedTest(name = "Java pool: {0}")
    @ValueSource(booleans = {false, true})
    void everyItemRunsExactlyOnceInContiguousChunks(boolean javaPool) {
        try (Parallel par = new Parallel(2, javaPool)) {
            int n = 1000;
            AtomicIntegerArray seen = new AtomicIntegerArray(n);
            Set<Integer> chunks = ConcurrentHashMap.newKeySet();
            par.forChunks(n, Parallel.MIN_WORK_PER_CHUNK, (chunk, from, to) -> {
                chunks.add(chunk);
                for (int i = from; i < to; i++) {
                    seen.incrementAndGet(i);
                }
            });
            for (int i = 0; i < n; i++) {
                assertEquals(1, seen.get(i), "item " + i);
            }
            assertEquals(Set.of(0, 1), chunks);
        }
    }

    @ParameterizedTest(name = "Java pool: {0}")
    @ValueSource(booleans = {false, true})
    void chunksRunOnTwoThreadsOneOfThemTheCaller(boolean javaPool) {
        try (Parallel par = new Parallel(2, javaPool)) {
            Set<Thread> threads = ConcurrentHashMap.newKeySet();
            par.forChunks(2, Parallel.MIN_WORK_PER_CHUNK, (chunk, from, to) -> threads.add(Thread.currentThread()));
            assertEquals(2, threads.size());
            assertTrue(threads.contains(Thread.currentThread()));
        }
    }

    @Test
    void onLinuxX8664TheChunksRunOnOpenMpsTeam() {
        assumeTrue(Loader.getPlatform().equals("linux-x86_64"),
                "the oneDNN natives, and their libgomp, exist for linux-x86_64 only");
        assertNull(OpenMp.unavailableReason());
        try (Parallel par = new Parallel(2)) {
            Set<String> names = ConcurrentHashMap.newKeySet();
            par.forChunks(2, Parallel.MIN_WORK_PER_CHUNK, (chunk, from, to) -> names.add(Thread.currentThread().getName()));
            assertEquals(2, names.size());
            assertTrue(names.stream().noneMatch(n -> n.equals("cortado-compute")), "not the Java pool: " + names);
        }
    }

    @ParameterizedTest(name = "Java pool: {0}")
    @ValueSource(booleans = {false, true})
    void aNestedCallRunsSeriallyInsideItsChunk(boolean javaPool) {
        try (Parallel par = new Parallel(2, javaPool)) {
            AtomicInteger innerChunks = new AtomicInteger();
            par.forChunks(2, Parallel.MIN_WORK_PER_CHUNK, (chunk, from, to) ->
                    par.forChunks(100, Parallel.MIN_WORK_PER_CHUNK, (c, f, t) -> {
                        innerChunks.incrementAndGet();
                        assertEquals(0, c);
                        assertEquals(0, f);
                        assertEquals(100, t);
                    }));
            assertEquals(2, innerChunks.get());
            // and the caller is outside again afterwards: a new call fans out
            Set<Integer> chunks = ConcurrentHashMap.newKeySet();
            par.forChunks(2, Parallel.MIN_WORK_PER_CHUNK, (chunk, from, to) -> chunks.add(chunk));
            assertEquals(Set.of(0, 1), chunks);
        }
    }

    @ParameterizedTest(name = "Java pool: {0}")
    @ValueSource(booleans = {false, true})
    void anExceptionInAnyChunkReachesTheCaller(boolean javaPool) {
        try (Parallel par = new Parallel(2, javaPool)) {
            IllegalStateException boom = new IllegalStateException("chunk 1 failed");
            for (int failing = 0; failing < 2; failing++) {
                int f = failing;
                var e = assertThrows(IllegalStateException.class, () ->
                        par.forChunks(2, Parallel.MIN_WORK_PER_CHUNK, (chunk, from, to) -> {
                            if (chunk == f) {
                                throw boom;
                            }
                        }));
                assertSame(boom, e);
            }
            // the threads are still usable
            AtomicInteger ran = new AtomicInteger();
            par.forChunks(2, Parallel.MIN_WORK_PER_CHUNK, (chunk, from, to) -> ran.incrementAndGet());
            assertEquals(2, ran.get());
        }
    }

    @ParameterizedTest(name = "Java pool: {0}")
    @ValueSource(booleans = {false, true})
    void callersOnSeveralThreadsAtOnceEachGetTheirOwnChunks(boolean javaPool) throws Exception {
        try (Parallel par = new Parallel(2, javaPool)) {
            List<Thread> callers = new ArrayList<>();
            AtomicInteger wrong = new AtomicInteger();
            for (int t = 0; t < 4; t++) {
                int n = 500 + t;
                callers.add(Thread.ofPlatform().start(() -> {
                    for (int rep = 0; rep < 200; rep++) {
                        AtomicIntegerArray seen = new AtomicIntegerArray(n);
                        par.forChunks(n, Parallel.MIN_WORK_PER_CHUNK, (chunk, from, to) -> {
                            for (int i = from; i < to; i++) {
                                seen.incrementAndGet(i);
                            }
                        });
                        for (int i = 0; i < n; i++) {
                            if (seen.get(i) != 1) {
                                wrong.incrementAndGet();
                            }
                        }
                    }
                }));
            }
            for (Thread c : callers) {
                c.join();
            }
            assertEquals(0, wrong.get());
        }
    }
}
