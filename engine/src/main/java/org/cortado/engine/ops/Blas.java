package org.cortado.engine.ops;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import org.bytedeco.javacpp.Loader;
import org.cortado.engine.CortadoException;

/**
 * OpenBLAS's {@code cblas_sgemm}, called through the FFM API with <em>heap</em> arrays.
 *
 * <p>The library comes from the JavaCPP OpenBLAS preset (its linux-x86_64 natives), which extracts
 * and loads it; we then bind the C symbol directly with a critical downcall that may read and write
 * heap segments, so a {@code float[]} reaches BLAS without a copy. (The preset's own {@code float[]}
 * overload copies in and out, which measured as the slowest path on this project's machines.)
 *
 * <p>OpenBLAS runs with one thread: {@link Parallel} splits work across cores itself, so BLAS threads
 * times our threads never exceeds the configured thread count.
 */
public final class Blas {
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final int TRANS = 112;

    private static final MethodHandle SGEMM;

    static {
        try {
            Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
            SymbolLookup lookup = SymbolLookup.loaderLookup()
                    .or(SymbolLookup.libraryLookup("libopenblas.so.0", Arena.global()));
            Linker linker = Linker.nativeLinker();
            ValueLayout.OfInt i = ValueLayout.JAVA_INT;
            ValueLayout.OfFloat f = ValueLayout.JAVA_FLOAT;
            var a = ValueLayout.ADDRESS;
            SGEMM = linker.downcallHandle(find(lookup, "cblas_sgemm"),
                    FunctionDescriptor.ofVoid(i, i, i, i, i, i, f, a, i, a, i, f, a, i),
                    Linker.Option.critical(true));
            MethodHandle setThreads = linker.downcallHandle(find(lookup, "openblas_set_num_threads"),
                    FunctionDescriptor.ofVoid(i));
            setThreads.invokeExact(1);
        } catch (Throwable t) {
            throw new ExceptionInInitializerError(new CortadoException(
                    "cannot load OpenBLAS (org.bytedeco:openblas linux-x86_64 natives): " + t, t));
        }
    }

    private Blas() {}

    private static MemorySegment find(SymbolLookup lookup, String name) {
        return lookup.find(name).orElseThrow(() -> new CortadoException("OpenBLAS has no symbol " + name));
    }

    /**
     * Row-major {@code C = alpha * op(A) * op(B) + beta * C} on heap arrays with element offsets;
     * {@code op(A)} is m x k, {@code op(B)} is k x n, C is m x n.
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float beta, float[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) {
            return;
        }
        try {
            SGEMM.invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha,
                    slice(a, aOff), lda, slice(b, bOff), ldb, beta, slice(c, cOff), ldc);
        } catch (Throwable t) {
            throw new CortadoException("cblas_sgemm failed: " + t, t);
        }
    }

    private static MemorySegment slice(float[] x, int off) {
        MemorySegment s = MemorySegment.ofArray(x);
        return off == 0 ? s : s.asSlice((long) off * Float.BYTES);
    }
}
