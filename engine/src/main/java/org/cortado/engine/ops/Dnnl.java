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
 * The part of oneDNN's C API ({@code dnnl.h}, version 3) that {@link DnnlConv} uses, bound through
 * the FFM API. oneDNN is the library PyTorch's CPU convolutions run on: JIT-compiled direct
 * convolutions in blocked layouts, several times faster than im2col + GEMM on this project's nets.
 *
 * <p>The library comes from the JavaCPP oneDNN preset's linux-x86_64 natives (built with OpenMP):
 * JavaCPP's {@code Loader} extracts them to its cache and the symbols are bound directly, as
 * {@link Blas} does for OpenBLAS. When the natives cannot be loaded (another platform, a broken install) {@link #available()}
 * is false, {@link #unavailableReason()} says why, and convolutions use im2col + GEMM instead.
 *
 * <p>Threads: oneDNN runs on the OpenMP team of {@link OpenMp} (which the engine's other layers share);
 * {@link OpenMp#setThreads} sets how many threads the calling thread's next primitive uses, so the
 * engine's thread count is respected.
 */
final class Dnnl {
    static final int F32 = 3;
    static final int TAG_ANY = 1;
    static final int TAG_NCHW = 5; // also oihw: the plain row-major tag for 4 dims
    static final int TAG_GOIHW = 6; // the plain tag for 5 dims
    static final int TAG_X = 2; // the plain tag for 1 dim
    static final int TAG_NCHW8C = 102; // dnnl_aBcd8b: blocks of 8 channels
    static final int TAG_NCHW16C = 78; // dnnl_aBcd16b: blocks of 16 channels
    static final int FORWARD_TRAINING = 64;
    static final int CONVOLUTION_DIRECT = 1;
    static final int QUERY_SRC_MD = 129;
    static final int QUERY_DIFF_SRC_MD = 130;
    static final int QUERY_WEIGHTS_MD = 131;
    static final int QUERY_DIFF_WEIGHTS_MD = 132;
    static final int QUERY_DST_MD = 133;
    static final int QUERY_DIFF_DST_MD = 134;
    static final int ARG_SRC = 1;
    static final int ARG_DST = 17;
    static final int ARG_WEIGHTS = 33;
    static final int ARG_BIAS = 41;
    static final int ARG_DIFF_SRC = 129;
    static final int ARG_DIFF_DST = 145;
    static final int ARG_DIFF_WEIGHTS = 161;
    static final int ARG_DIFF_BIAS = 169;
    static final int ARG_FROM = 1;
    static final int ARG_TO = 17;
    /** {@code dnnl_dims_t}: {@code int64_t[DNNL_MAX_NDIMS]}. */
    static final int MAX_NDIMS = 12;
    /** {@code sizeof(dnnl_exec_arg_t)}: an int and a pointer. */
    static final int EXEC_ARG_BYTES = 16;

    private static final String UNAVAILABLE;
    private static final MemorySegment ENGINE;
    private static final MemorySegment STREAM;
    private static final MethodHandle MD_CREATE_WITH_TAG;
    private static final MethodHandle MD_DESTROY;
    private static final MethodHandle MD_EQUAL;
    private static final MethodHandle MD_GET_SIZE;
    private static final MethodHandle CONV_FWD_PD;
    private static final MethodHandle CONV_BWD_DATA_PD;
    private static final MethodHandle CONV_BWD_WEIGHTS_PD;
    private static final MethodHandle REORDER_PD;
    private static final MethodHandle PD_QUERY_MD;
    private static final MethodHandle PD_DESTROY;
    private static final MethodHandle PRIMITIVE_CREATE;
    private static final MethodHandle PRIMITIVE_DESTROY;
    private static final MethodHandle PRIMITIVE_EXECUTE;
    private static final MethodHandle MEMORY_CREATE;
    private static final MethodHandle MEMORY_DESTROY;
    private static final MethodHandle STREAM_WAIT;
    private static final MethodHandle MEMORY_SET_DATA_HANDLE;
    private static final MethodHandle PD_QUERY;

    static {
        String reason = null;
        MemorySegment engine = null;
        MemorySegment stream = null;
        MethodHandle[] h = new MethodHandle[18];
        try {
            // The preset's own Loader.load would also pull in its OpenCL binding; we need only libdnnl, loaded
            // after OpenMp's libgomp so that its dependency on OpenMP resolves to that copy.
            SymbolLookup gomp = OpenMp.lookup();
            SymbolLookup lib = SymbolLookup.libraryLookup(
                    Loader.cacheResource("/org/bytedeco/dnnl/" + Loader.getPlatform() + "/libdnnl.so.3").toPath(),
                    Arena.global()).or(gomp);
            Linker linker = Linker.nativeLinker();
            ValueLayout.OfInt i = ValueLayout.JAVA_INT;
            var p = ValueLayout.ADDRESS;
            var l = ValueLayout.JAVA_LONG;
            h[0] = bind(linker, lib, "dnnl_memory_desc_create_with_tag", FunctionDescriptor.of(i, p, i, p, i, i));
            h[1] = bind(linker, lib, "dnnl_memory_desc_destroy", FunctionDescriptor.of(i, p));
            h[2] = bind(linker, lib, "dnnl_memory_desc_equal", FunctionDescriptor.of(i, p, p));
            h[3] = bind(linker, lib, "dnnl_memory_desc_get_size", FunctionDescriptor.of(l, p));
            h[4] = bind(linker, lib, "dnnl_convolution_forward_primitive_desc_create",
                    FunctionDescriptor.of(i, p, p, i, i, p, p, p, p, p, p, p, p, p));
            h[5] = bind(linker, lib, "dnnl_convolution_backward_data_primitive_desc_create",
                    FunctionDescriptor.of(i, p, p, i, p, p, p, p, p, p, p, p, p));
            h[6] = bind(linker, lib, "dnnl_convolution_backward_weights_primitive_desc_create",
                    FunctionDescriptor.of(i, p, p, i, p, p, p, p, p, p, p, p, p, p));
            h[7] = bind(linker, lib, "dnnl_reorder_primitive_desc_create", FunctionDescriptor.of(i, p, p, p, p, p, p));
            h[8] = bind(linker, lib, "dnnl_primitive_desc_query_md", FunctionDescriptor.of(p, p, i, i));
            h[9] = bind(linker, lib, "dnnl_primitive_desc_destroy", FunctionDescriptor.of(i, p));
            h[10] = bind(linker, lib, "dnnl_primitive_create", FunctionDescriptor.of(i, p, p));
            h[11] = bind(linker, lib, "dnnl_primitive_destroy", FunctionDescriptor.of(i, p));
            h[12] = bind(linker, lib, "dnnl_primitive_execute", FunctionDescriptor.of(i, p, p, i, p));
            h[13] = bind(linker, lib, "dnnl_memory_create", FunctionDescriptor.of(i, p, p, p, p));
            h[14] = bind(linker, lib, "dnnl_memory_destroy", FunctionDescriptor.of(i, p));
            h[15] = bind(linker, lib, "dnnl_stream_wait", FunctionDescriptor.of(i, p));
            h[16] = bind(linker, lib, "dnnl_memory_set_data_handle", FunctionDescriptor.of(i, p, p));
            h[17] = bind(linker, lib, "dnnl_primitive_desc_query", FunctionDescriptor.of(i, p, i, i, p));
            MethodHandle engineCreate = bind(linker, lib, "dnnl_engine_create", FunctionDescriptor.of(i, p, i, l));
            MethodHandle streamCreate = bind(linker, lib, "dnnl_stream_create", FunctionDescriptor.of(i, p, p, i));
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ValueLayout.ADDRESS);
                check((int) engineCreate.invokeExact(out, 1 /* dnnl_cpu */, 0L), "dnnl_engine_create");
                engine = out.get(ValueLayout.ADDRESS, 0);
                check((int) streamCreate.invokeExact(out, engine, 1 /* dnnl_stream_default_flags */), "dnnl_stream_create");
                stream = out.get(ValueLayout.ADDRESS, 0);
            }
        } catch (Throwable t) {
            reason = "oneDNN (org.bytedeco:dnnl linux-x86_64 natives) could not be loaded: " + t;
        }
        UNAVAILABLE = reason;
        ENGINE = engine;
        STREAM = stream;
        MD_CREATE_WITH_TAG = h[0];
        MD_DESTROY = h[1];
        MD_EQUAL = h[2];
        MD_GET_SIZE = h[3];
        CONV_FWD_PD = h[4];
        CONV_BWD_DATA_PD = h[5];
        CONV_BWD_WEIGHTS_PD = h[6];
        REORDER_PD = h[7];
        PD_QUERY_MD = h[8];
        PD_DESTROY = h[9];
        PRIMITIVE_CREATE = h[10];
        PRIMITIVE_DESTROY = h[11];
        PRIMITIVE_EXECUTE = h[12];
        MEMORY_CREATE = h[13];
        MEMORY_DESTROY = h[14];
        STREAM_WAIT = h[15];
        MEMORY_SET_DATA_HANDLE = h[16];
        PD_QUERY = h[17];
    }

    private Dnnl() {}

    private static MethodHandle bind(Linker linker, SymbolLookup lib, String name, FunctionDescriptor fd) {
        MemorySegment sym = lib.find(name).orElseThrow(() -> new CortadoException("oneDNN has no symbol " + name));
        return linker.downcallHandle(sym, fd);
    }

    static boolean available() {
        return UNAVAILABLE == null;
    }

    /** Why oneDNN is not available, or null when it is. */
    static String unavailableReason() {
        return UNAVAILABLE;
    }

    static void check(int status, String what) {
        if (status != 0) {
            throw new CortadoException(what + " failed: oneDNN status " + status);
        }
    }

    private static RuntimeException wrap(Throwable t, String what) {
        return t instanceof RuntimeException re ? re : new CortadoException(what + " failed: " + t, t);
    }

    /** A {@code dnnl_dims_t} holding {@code v}. */
    static MemorySegment dims(Arena a, long... v) {
        MemorySegment s = a.allocate(ValueLayout.JAVA_LONG, MAX_NDIMS);
        for (int i = 0; i < v.length; i++) {
            s.setAtIndex(ValueLayout.JAVA_LONG, i, v[i]);
        }
        return s;
    }

    /** A new float32 memory descriptor; the caller destroys it with {@link #destroyMd}. */
    static MemorySegment md(Arena a, int tag, long... dims) {
        try {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            check((int) MD_CREATE_WITH_TAG.invokeExact(out, dims.length, dims(a, dims), F32, tag),
                    "dnnl_memory_desc_create_with_tag");
            return out.get(ValueLayout.ADDRESS, 0);
        } catch (Throwable t) {
            throw wrap(t, "dnnl_memory_desc_create_with_tag");
        }
    }

    static void destroyMd(MemorySegment md) {
        try {
            int ignored = (int) MD_DESTROY.invokeExact(md);
        } catch (Throwable t) {
            throw wrap(t, "dnnl_memory_desc_destroy");
        }
    }

    static boolean mdEqual(MemorySegment a, MemorySegment b) {
        try {
            return (int) MD_EQUAL.invokeExact(a, b) != 0;
        } catch (Throwable t) {
            throw wrap(t, "dnnl_memory_desc_equal");
        }
    }

    static long mdSize(MemorySegment md) {
        try {
            return (long) MD_GET_SIZE.invokeExact(md);
        } catch (Throwable t) {
            throw wrap(t, "dnnl_memory_desc_get_size");
        }
    }

    /** Returns the primitive descriptor, or null when oneDNN has no implementation (status unimplemented). */
    static MemorySegment convForwardPd(Arena a, MemorySegment src, MemorySegment weights, MemorySegment bias,
                                       MemorySegment dst, MemorySegment strides, MemorySegment dilates,
                                       MemorySegment padL, MemorySegment padR) {
        try {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            int st = (int) CONV_FWD_PD.invokeExact(out, ENGINE, FORWARD_TRAINING, CONVOLUTION_DIRECT, src, weights,
                    bias, dst, strides, dilates, padL, padR, MemorySegment.NULL);
            return pdOrNull(st, out, "convolution forward");
        } catch (Throwable t) {
            throw wrap(t, "dnnl_convolution_forward_primitive_desc_create");
        }
    }

    static MemorySegment convBackwardDataPd(Arena a, MemorySegment diffSrc, MemorySegment weights,
                                            MemorySegment diffDst, MemorySegment strides, MemorySegment dilates,
                                            MemorySegment padL, MemorySegment padR, MemorySegment hint) {
        try {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            int st = (int) CONV_BWD_DATA_PD.invokeExact(out, ENGINE, CONVOLUTION_DIRECT, diffSrc, weights, diffDst,
                    strides, dilates, padL, padR, hint, MemorySegment.NULL);
            return pdOrNull(st, out, "convolution backward data");
        } catch (Throwable t) {
            throw wrap(t, "dnnl_convolution_backward_data_primitive_desc_create");
        }
    }

    static MemorySegment convBackwardWeightsPd(Arena a, MemorySegment src, MemorySegment diffWeights,
                                               MemorySegment diffBias, MemorySegment diffDst, MemorySegment strides,
                                               MemorySegment dilates, MemorySegment padL, MemorySegment padR,
                                               MemorySegment hint) {
        try {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            int st = (int) CONV_BWD_WEIGHTS_PD.invokeExact(out, ENGINE, CONVOLUTION_DIRECT, src, diffWeights,
                    diffBias, diffDst, strides, dilates, padL, padR, hint, MemorySegment.NULL);
            return pdOrNull(st, out, "convolution backward weights");
        } catch (Throwable t) {
            throw wrap(t, "dnnl_convolution_backward_weights_primitive_desc_create");
        }
    }

    static MemorySegment reorderPd(Arena a, MemorySegment from, MemorySegment to) {
        try {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            int st = (int) REORDER_PD.invokeExact(out, from, ENGINE, to, ENGINE, MemorySegment.NULL);
            return pdOrNull(st, out, "reorder");
        } catch (Throwable t) {
            throw wrap(t, "dnnl_reorder_primitive_desc_create");
        }
    }

    private static MemorySegment pdOrNull(int status, MemorySegment out, String what) {
        if (status == 3 /* dnnl_unimplemented */ || status == 2 /* dnnl_invalid_arguments */) {
            return null;
        }
        check(status, what + " primitive descriptor");
        return out.get(ValueLayout.ADDRESS, 0);
    }

    /** The memory descriptor {@code pd} chose for {@code what}; owned by {@code pd}. */
    static MemorySegment queryMd(MemorySegment pd, int what) {
        try {
            return (MemorySegment) PD_QUERY_MD.invokeExact(pd, what, 0);
        } catch (Throwable t) {
            throw wrap(t, "dnnl_primitive_desc_query_md");
        }
    }

    /** The name of the implementation oneDNN chose for {@code pd}, e.g. {@code brg_conv_fwd:avx2}. */
    static String implementation(MemorySegment pd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            check((int) PD_QUERY.invokeExact(pd, 8 /* dnnl_query_impl_info_str */, 0, out), "dnnl_primitive_desc_query");
            return out.get(ValueLayout.ADDRESS, 0).reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw wrap(t, "dnnl_primitive_desc_query");
        }
    }

    static void destroyPd(MemorySegment pd) {
        try {
            int ignored = (int) PD_DESTROY.invokeExact(pd);
        } catch (Throwable t) {
            throw wrap(t, "dnnl_primitive_desc_destroy");
        }
    }

    static MemorySegment primitive(Arena a, MemorySegment pd) {
        try {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            check((int) PRIMITIVE_CREATE.invokeExact(out, pd), "dnnl_primitive_create");
            return out.get(ValueLayout.ADDRESS, 0);
        } catch (Throwable t) {
            throw wrap(t, "dnnl_primitive_create");
        }
    }

    static void destroyPrimitive(MemorySegment p) {
        try {
            int ignored = (int) PRIMITIVE_DESTROY.invokeExact(p);
        } catch (Throwable t) {
            throw wrap(t, "dnnl_primitive_destroy");
        }
    }

    /** A memory object over {@code buffer} (native, owned by the caller) laid out as {@code md}. */
    static MemorySegment memory(Arena a, MemorySegment md, MemorySegment buffer) {
        try {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            check((int) MEMORY_CREATE.invokeExact(out, md, ENGINE, buffer), "dnnl_memory_create");
            return out.get(ValueLayout.ADDRESS, 0);
        } catch (Throwable t) {
            throw wrap(t, "dnnl_memory_create");
        }
    }

    /** Points {@code memory} at {@code buffer}. */
    static void setHandle(MemorySegment memory, MemorySegment buffer) {
        try {
            check((int) MEMORY_SET_DATA_HANDLE.invokeExact(memory, buffer), "dnnl_memory_set_data_handle");
        } catch (Throwable t) {
            throw wrap(t, "dnnl_memory_set_data_handle");
        }
    }

    static void destroyMemory(MemorySegment m) {
        try {
            int ignored = (int) MEMORY_DESTROY.invokeExact(m);
        } catch (Throwable t) {
            throw wrap(t, "dnnl_memory_destroy");
        }
    }

    /** An argument list for {@link #execute}: pairs of (argument kind, memory object). */
    static MemorySegment args(Arena a, Object... kindAndMemory) {
        MemorySegment s = a.allocate((long) EXEC_ARG_BYTES * (kindAndMemory.length / 2), 8);
        for (int i = 0; i < kindAndMemory.length; i += 2) {
            long at = (long) EXEC_ARG_BYTES * (i / 2);
            s.set(ValueLayout.JAVA_INT, at, (Integer) kindAndMemory[i]);
            s.set(ValueLayout.ADDRESS, at + 8, (MemorySegment) kindAndMemory[i + 1]);
        }
        return s;
    }

    /** Runs {@code primitive} with {@code nargs} arguments and waits for it. */
    static void execute(MemorySegment primitive, MemorySegment args, int nargs) {
        try {
            check((int) PRIMITIVE_EXECUTE.invokeExact(primitive, STREAM, nargs, args), "dnnl_primitive_execute");
            check((int) STREAM_WAIT.invokeExact(STREAM), "dnnl_stream_wait");
        } catch (Throwable t) {
            throw wrap(t, "dnnl_primitive_execute");
        }
    }
}
