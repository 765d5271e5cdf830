package org.cortado.engine.ops;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.List;

/**
 * One convolution's oneDNN primitives for one input shape: forward, backward-data and
 * backward-weights, with the same semantics as {@link Conv} (Caffe's grouped, dilated
 * cross-correlation; {@code dw}/{@code db} accumulated, {@code dx} overwritten).
 *
 * <p>oneDNN picks its own (blocked) layouts for activations and weights. Our tensors are plain
 * {@code float[]} NCHW arrays on the heap, so every call moves its operands into native buffers in
 * oneDNN's layouts, runs the primitive and moves the result back: activations in nChw8c/nChw16c are
 * transposed straight between heap and native memory in one pass ({@link BlockedLayout}); other
 * operands are copied in the plain layout and reordered by oneDNN. The native buffers are shared by all plans ({@link #SLOTS}, grown on demand), so
 * native memory is bounded by the largest convolution of the process, not the sum over layers; calls
 * are serialized (each one already uses all compute threads).
 *
 * <p>{@link #create} returns null when oneDNN is not loaded or has no implementation for the
 * geometry; {@link Conv} then uses im2col + GEMM. {@code ConvolutionTest} runs both paths against the
 * direct definition of convolution.
 */
final class DnnlConv {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final Object LOCK = new Object();
    /** Native scratch shared by all plans, one growable buffer per operand role. */
    private static final Slots SLOTS = new Slots();
    private static final int X_USER = 0;
    private static final int X_INT = 1;
    private static final int Y_USER = 2;
    private static final int Y_INT = 3;
    private static final int DY_INT2 = 4;
    private static final int W_USER = 5;
    private static final int W_INT = 6;
    private static final int DW_USER = 7;
    private static final int DW_INT = 8;
    private static final int B_USER = 9;
    private static final int DX_INT = 10;

    private final int n;
    private final ConvGeom g;
    private final int outC;
    private final int group;
    private final boolean bias;
    private final Native nat;
    private final long xFloats;
    private final long yFloats;
    private final long wFloats;

    // Plain (user) layouts.
    private final MemorySegment xMd;
    private final MemorySegment wMd;
    private final MemorySegment bMd;
    private final MemorySegment yMd;
    private final MemorySegment strides;
    private final MemorySegment dilates;
    private final MemorySegment padL;
    private final MemorySegment padR;

    private final MemorySegment fwdPd;
    private final Step fwd;
    private final Operand fx;
    private final Operand fw;
    private final Operand fy;
    private final MemorySegment fb;

    private Backward bwd;
    private MemorySegment[] bwdPds;

    /**
     * An operand of one primitive: its memory in the plain layout and, when oneDNN chose another, in
     * that one. {@code block} is 8 or 16 when the chosen layout is nChw8c or nChw16c without padding
     * (then {@link BlockedLayout} copies straight between the heap and {@code internal}; {@code nchw}
     * holds N, C, H and W), else 0.
     */
    private record Operand(MemorySegment user, MemorySegment internal, Step reorder, int userSlot, int intSlot,
                           long userBytes, long intBytes, int block, int[] nchw) {
        /** The memory the primitive reads or writes. */
        MemorySegment used() {
            return internal != null ? internal : user;
        }

        void bind() {
            if (block == 0) {
                Dnnl.setHandle(user, SLOTS.get(userSlot, userBytes));
            }
            if (internal != null) {
                Dnnl.setHandle(internal, SLOTS.get(intSlot, intBytes));
            }
        }
    }

    /** A primitive and its argument list. */
    private record Step(MemorySegment primitive, MemorySegment args, int nargs) {
        void run() {
            Dnnl.execute(primitive, args, nargs);
        }
    }

    private record Backward(Step weights, Operand wx, Operand wdy, Operand wdw, MemorySegment wdb,
                            Step data, Operand ddy, Operand dw, Operand ddx, boolean dyShared) {}

    /** The native objects of one plan, destroyed when the plan becomes unreachable. */
    private static final class Native implements Runnable {
        final Arena arena = Arena.ofShared();
        final List<MemorySegment> mds = new ArrayList<>();
        final List<MemorySegment> pds = new ArrayList<>();
        final List<MemorySegment> primitives = new ArrayList<>();
        final List<MemorySegment> memories = new ArrayList<>();

        @Override
        public void run() {
            synchronized (LOCK) {
                memories.forEach(Dnnl::destroyMemory);
                primitives.forEach(Dnnl::destroyPrimitive);
                pds.forEach(Dnnl::destroyPd);
                mds.forEach(Dnnl::destroyMd);
                arena.close();
            }
        }
    }

    /** What a plan is made for: batch, geometry, output channels, groups, and whether there is a bias. */
    record Key(int n, ConvGeom g, int outC, int group, boolean bias) {}

    /** The plan for this geometry, or null when oneDNN is unavailable or cannot run it. */
    static DnnlConv create(Key key) {
        int n = key.n();
        ConvGeom g = key.g();
        int outC = key.outC();
        int group = key.group();
        boolean bias = key.bias();
        if (!Dnnl.available() || n < 1) {
            return null;
        }
        synchronized (LOCK) {
            Native nat = new Native();
            try {
                DnnlConv plan = new DnnlConv(n, g, outC, group, bias, nat);
                if (plan.fwdPd == null) {
                    nat.run();
                    return null;
                }
                CLEANER.register(plan, nat);
                return plan;
            } catch (RuntimeException e) {
                nat.run();
                throw e;
            }
        }
    }

    private DnnlConv(int n, ConvGeom g, int outC, int group, boolean bias, Native nat) {
        this.n = n;
        this.g = g;
        this.outC = outC;
        this.group = group;
        this.bias = bias;
        this.nat = nat;
        Arena a = nat.arena;
        int c = g.c();
        xFloats = (long) n * g.imageSize();
        yFloats = (long) n * outC * g.outH() * g.outW();
        wFloats = (long) outC * (c / group) * g.kh() * g.kw();
        xMd = md(Dnnl.TAG_NCHW, n, c, g.h(), g.w());
        yMd = md(Dnnl.TAG_NCHW, n, outC, g.outH(), g.outW());
        wMd = group == 1 ? md(Dnnl.TAG_NCHW, outC, c, g.kh(), g.kw())
                : md(Dnnl.TAG_GOIHW, group, outC / group, c / group, g.kh(), g.kw());
        bMd = md(Dnnl.TAG_X, outC);
        strides = Dnnl.dims(a, g.sh(), g.sw());
        dilates = Dnnl.dims(a, g.dh() - 1, g.dw() - 1);
        padL = Dnnl.dims(a, g.ph(), g.pw());
        // Caffe rounds the output size down; oneDNN wants the right padding that yields exactly that size.
        padR = Dnnl.dims(a, (long) (g.outH() - 1) * g.sh() + (long) (g.kh() - 1) * g.dh() + 1 - g.h() - g.ph(),
                (long) (g.outW() - 1) * g.sw() + (long) (g.kw() - 1) * g.dw() + 1 - g.w() - g.pw());
        MemorySegment anyX = md(Dnnl.TAG_ANY, n, c, g.h(), g.w());
        MemorySegment anyY = md(Dnnl.TAG_ANY, n, outC, g.outH(), g.outW());
        MemorySegment anyW = group == 1 ? md(Dnnl.TAG_ANY, outC, c, g.kh(), g.kw())
                : md(Dnnl.TAG_ANY, group, outC / group, c / group, g.kh(), g.kw());
        fwdPd = pd(Dnnl.convForwardPd(a, anyX, anyW, bias ? bMd : MemorySegment.NULL, anyY, strides, dilates,
                padL, padR));
        if (fwdPd == null) {
            fwd = null;
            fx = fw = fy = null;
            fb = null;
            return;
        }
        fx = operand(xMd, Dnnl.queryMd(fwdPd, Dnnl.QUERY_SRC_MD), true, X_USER, X_INT, xFloats, xDims());
        fw = operand(wMd, Dnnl.queryMd(fwdPd, Dnnl.QUERY_WEIGHTS_MD), true, W_USER, W_INT, wFloats, null);
        fy = operand(yMd, Dnnl.queryMd(fwdPd, Dnnl.QUERY_DST_MD), false, Y_USER, Y_INT, yFloats, yDims());
        fb = bias ? memory(bMd) : null;
        List<Object> args = new ArrayList<>(List.of(Dnnl.ARG_SRC, fx.used(), Dnnl.ARG_WEIGHTS, fw.used(),
                Dnnl.ARG_DST, fy.used()));
        if (bias) {
            args.addAll(List.of(Dnnl.ARG_BIAS, fb));
        }
        fwd = step(fwdPd, args);
    }

    private Backward backwardPlan() {
        if (bwd != null) {
            return bwd;
        }
        Arena a = nat.arena;
        int c = g.c();
        MemorySegment anyX = md(Dnnl.TAG_ANY, n, c, g.h(), g.w());
        MemorySegment anyY = md(Dnnl.TAG_ANY, n, outC, g.outH(), g.outW());
        MemorySegment anyW = group == 1 ? md(Dnnl.TAG_ANY, outC, c, g.kh(), g.kw())
                : md(Dnnl.TAG_ANY, group, outC / group, c / group, g.kh(), g.kw());
        // The weights pass reads x in the layout the forward chose: for a first layer (1 or 3 channels)
        // that is plain NCHW, where "any" would pad the channels to a block of 8 and do 8x the work.
        MemorySegment wPd = pd(Dnnl.convBackwardWeightsPd(a, Dnnl.queryMd(fwdPd, Dnnl.QUERY_SRC_MD), anyW,
                bias ? bMd : MemorySegment.NULL, anyY, strides, dilates, padL, padR, fwdPd));
        if (wPd == null) {
            wPd = pd(Dnnl.convBackwardWeightsPd(a, anyX, anyW, bias ? bMd : MemorySegment.NULL, anyY,
                    strides, dilates, padL, padR, fwdPd));
        }
        MemorySegment dPd = pd(Dnnl.convBackwardDataPd(a, anyX, anyW, anyY, strides, dilates, padL, padR, fwdPd));
        if (wPd == null || dPd == null) {
            throw new org.cortado.engine.CortadoException("oneDNN has a forward but no backward convolution for "
                    + g + " (group " + group + ")");
        }
        bwdPds = new MemorySegment[] {wPd, dPd};
        Operand wx = operand(xMd, Dnnl.queryMd(wPd, Dnnl.QUERY_SRC_MD), true, X_USER, X_INT, xFloats, xDims());
        Operand wdy = operand(yMd, Dnnl.queryMd(wPd, Dnnl.QUERY_DIFF_DST_MD), true, Y_USER, Y_INT, yFloats, yDims());
        Operand wdw = operand(wMd, Dnnl.queryMd(wPd, Dnnl.QUERY_DIFF_WEIGHTS_MD), false, DW_USER, DW_INT, wFloats, null);
        MemorySegment wdb = bias ? memory(bMd) : null;
        List<Object> wargs = new ArrayList<>(List.of(Dnnl.ARG_SRC, wx.used(), Dnnl.ARG_DIFF_DST, wdy.used(),
                Dnnl.ARG_DIFF_WEIGHTS, wdw.used()));
        if (bias) {
            wargs.addAll(List.of(Dnnl.ARG_DIFF_BIAS, wdb));
        }
        Step weights = step(wPd, wargs);
        // When both passes want dy in the same layout, the data pass reads what the weights pass reordered.
        MemorySegment ddyMd = Dnnl.queryMd(dPd, Dnnl.QUERY_DIFF_DST_MD);
        boolean dyShared = Dnnl.mdEqual(Dnnl.queryMd(wPd, Dnnl.QUERY_DIFF_DST_MD), ddyMd);
        Operand ddy = operand(yMd, ddyMd, true, Y_USER, dyShared ? Y_INT : DY_INT2, yFloats, yDims());
        Operand dw = operand(wMd, Dnnl.queryMd(dPd, Dnnl.QUERY_WEIGHTS_MD), true, W_USER, W_INT, wFloats, null);
        Operand ddx = operand(xMd, Dnnl.queryMd(dPd, Dnnl.QUERY_DIFF_SRC_MD), false, X_USER, DX_INT, xFloats, xDims());
        Step data = step(dPd, List.of(Dnnl.ARG_DIFF_DST, ddy.used(), Dnnl.ARG_WEIGHTS, dw.used(),
                Dnnl.ARG_DIFF_SRC, ddx.used()));
        bwd = new Backward(weights, wx, wdy, wdw, wdb, data, ddy, dw, ddx, dyShared);
        return bwd;
    }

    // ---- building blocks ----

    private MemorySegment md(int tag, long... dims) {
        MemorySegment md = Dnnl.md(nat.arena, tag, dims);
        nat.mds.add(md);
        return md;
    }

    private MemorySegment pd(MemorySegment pd) {
        if (pd != null) {
            nat.pds.add(pd);
        }
        return pd;
    }

    private MemorySegment memory(MemorySegment md) {
        MemorySegment m = Dnnl.memory(nat.arena, md, MemorySegment.NULL);
        nat.memories.add(m);
        return m;
    }

    private Step step(MemorySegment pd, List<Object> kindAndMemory) {
        MemorySegment prim = Dnnl.primitive(nat.arena, pd);
        nat.primitives.add(prim);
        return new Step(prim, Dnnl.args(nat.arena, kindAndMemory.toArray()), kindAndMemory.size() / 2);
    }

    /**
     * The operand for plain layout {@code userMd} when the primitive uses {@code chosen} (owned by its
     * primitive descriptor); {@code input} says which way the reorder goes.
     */
    private Operand operand(MemorySegment userMd, MemorySegment chosen, boolean input, int userSlot, int intSlot,
                            long floats, int[] nchw) {
        MemorySegment user = memory(userMd);
        long userBytes = floats * Float.BYTES;
        if (Dnnl.mdEqual(userMd, chosen)) {
            return new Operand(user, null, null, userSlot, intSlot, userBytes, 0, 0, null);
        }
        int block = nchw == null ? 0 : blockOf(chosen, nchw);
        MemorySegment internal = memory(chosen);
        if (block > 0) { // BlockedLayout moves it: no plain buffer, no reorder
            return new Operand(user, internal, null, userSlot, intSlot, userBytes, Dnnl.mdSize(chosen), block, nchw);
        }
        MemorySegment rpd = pd(input ? Dnnl.reorderPd(nat.arena, userMd, chosen)
                : Dnnl.reorderPd(nat.arena, chosen, userMd));
        if (rpd == null) {
            throw new org.cortado.engine.CortadoException("oneDNN cannot reorder between its layout and NCHW");
        }
        Step reorder = step(rpd, input ? List.of(Dnnl.ARG_FROM, user, Dnnl.ARG_TO, internal)
                : List.of(Dnnl.ARG_FROM, internal, Dnnl.ARG_TO, user));
        return new Operand(user, internal, reorder, userSlot, intSlot, userBytes, Dnnl.mdSize(chosen), 0, null);
    }

    /** N, C, H and W of x and of y. */
    private int[] xDims() {
        return new int[] {n, g.c(), g.h(), g.w()};
    }

    private int[] yDims() {
        return new int[] {n, outC, g.outH(), g.outW()};
    }

    /** 8 or 16 when {@code chosen} is nChw8c or nChw16c of these dims with no padded block, else 0. */
    private int blockOf(MemorySegment chosen, int[] nchw) {
        for (int b : new int[] {8, 16}) {
            if (nchw[1] % b == 0
                    && Dnnl.mdEqual(chosen, md(b == 8 ? Dnnl.TAG_NCHW8C : Dnnl.TAG_NCHW16C, nchw[0], nchw[1], nchw[2], nchw[3]))) {
                return b;
            }
        }
        return 0;
    }

    /** Puts {@code src} (NCHW) into the memory the primitive reads, in the primitive's layout. */
    private static void load(Parallel par, Operand op, float[] src, long floats) {
        op.bind();
        if (op.block() > 0) {
            int[] d = op.nchw();
            BlockedLayout.toBlocked(par, src, SLOTS.get(op.intSlot(), op.intBytes()), d[0], d[1], d[2] * d[3], op.block());
            return;
        }
        MemorySegment.copy(src, 0, SLOTS.get(op.userSlot(), op.userBytes()), ValueLayout.JAVA_FLOAT, 0,
                Math.toIntExact(floats));
        if (op.reorder() != null) {
            op.reorder().run();
        }
    }

    /** Copies the primitive's result into {@code dst} (NCHW). */
    private static void store(Parallel par, Operand op, float[] dst, long floats) {
        if (op.block() > 0) {
            int[] d = op.nchw();
            BlockedLayout.fromBlocked(par, SLOTS.get(op.intSlot(), op.intBytes()), dst, d[0], d[1], d[2] * d[3], op.block());
            return;
        }
        if (op.reorder() != null) {
            op.reorder().run();
        }
        MemorySegment.copy(SLOTS.get(op.userSlot(), op.userBytes()), ValueLayout.JAVA_FLOAT, 0, dst, 0,
                Math.toIntExact(floats));
    }

    private static void bindBias(MemorySegment memory) {
        Dnnl.setHandle(memory, SLOTS.get(B_USER, 0));
    }

    // ---- the passes ----

    /** {@code y = conv(x, w) + b} ({@code b} may be null only when the plan was made without bias). */
    void forward(Parallel par, float[] x, float[] w, float[] b, float[] y) {
        synchronized (LOCK) {
            OpenMp.setThreads(par.threads());
            load(par, fx, x, xFloats);
            load(par, fw, w, wFloats);
            fy.bind();
            if (bias) {
                SLOTS.reserve(B_USER, (long) outC * Float.BYTES);
                bindBias(fb);
                MemorySegment.copy(b, 0, SLOTS.get(B_USER, 0), ValueLayout.JAVA_FLOAT, 0, outC);
            }
            fwd.run();
            store(par, fy, y, yFloats);
        }
    }

    /**
     * Backward: {@code dw += dW}, {@code db += dB} (either may be null to skip; {@code db} must be null
     * when the plan was made without bias), {@code dx = dX} (null to skip).
     */
    void backward(Parallel par, float[] x, float[] w, float[] dy, float[] dw, float[] db, float[] dx,
                  float[] scratch) {
        synchronized (LOCK) {
            Backward p = backwardPlan();
            OpenMp.setThreads(par.threads());
            if (dw != null || db != null) {
                load(par, p.wx(), x, xFloats);
                load(par, p.wdy(), dy, yFloats);
                p.wdw().bind();
                if (bias) {
                    SLOTS.reserve(B_USER, (long) outC * Float.BYTES);
                    bindBias(p.wdb());
                }
                p.weights().run();
                if (dw != null) {
                    store(par, p.wdw(), scratch, wFloats);
                    Elementwise.axpy((int) wFloats, 1f, scratch, 0, dw, 0);
                }
                if (db != null) {
                    MemorySegment.copy(SLOTS.get(B_USER, 0), ValueLayout.JAVA_FLOAT, 0, scratch, 0, outC);
                    Elementwise.axpy(outC, 1f, scratch, 0, db, 0);
                }
            }
            if (dx != null) {
                if ((dw != null || db != null) && p.dyShared()) {
                    p.ddy().bind(); // the weights pass left dy where this pass reads it, in its layout
                } else {
                    load(par, p.ddy(), dy, yFloats);
                }
                load(par, p.dw(), w, wFloats);
                p.ddx().bind();
                p.data().run();
                store(par, p.ddx(), dx, xFloats);
            }
        }
    }

    /** The implementations oneDNN chose: forward, and backward weights/data once backward has run. */
    String implementations() {
        synchronized (LOCK) {
            int block = Math.max(fx.block(), fy.block());
            return "forward " + Dnnl.implementation(fwdPd) + (bwdPds == null ? ""
                    : ", backward weights " + Dnnl.implementation(bwdPds[0]) + ", backward data "
                    + Dnnl.implementation(bwdPds[1]))
                    + (block == 0 ? "" : "; activations copied to and from nChw" + block + "c in one pass");
        }
    }

    /** Floats of scratch {@link #backward} needs: the weights' size (and at least the bias's). */
    int scratchFloats() {
        return (int) Math.max(wFloats, outC);
    }

    /** Growable native buffers, one per operand role; only touched under {@link #LOCK}. */
    private static final class Slots {
        private final Arena[] arenas = new Arena[11];
        private final MemorySegment[] buffers = new MemorySegment[11];

        /** Slot {@code i} with at least {@code bytes} bytes (64-byte aligned); contents undefined after growth. */
        MemorySegment get(int i, long bytes) {
            reserve(i, bytes);
            return buffers[i];
        }

        void reserve(int i, long bytes) {
            if (buffers[i] == null || buffers[i].byteSize() < bytes) {
                if (arenas[i] != null) {
                    arenas[i].close();
                }
                arenas[i] = Arena.ofShared();
                buffers[i] = arenas[i].allocate(Math.max(bytes, 64), 64);
            }
        }
    }
}
