package org.cortado.engine.ops;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Copies between our heap NCHW activations and oneDNN's channel-blocked layouts (nChw8c, nChw16c:
 * blocks of {@code b} channels, the {@code b} values of one pixel side by side) in one pass, on all
 * compute threads.
 *
 * <p>The alternative, a plain copy into native memory followed by oneDNN's reorder, moves every
 * activation through memory twice; for the large early layers of MobileNet that data movement cost
 * several times the depthwise kernel itself. Here each pixel's 8 channel values are read from 8
 * planes side by side and written together (or the reverse), which runs about as fast as a plain
 * copy. The channel count must be a multiple of {@code b} (no padded blocks).
 */
final class BlockedLayout {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private BlockedLayout() {}

    /** {@code dst} (blocked by {@code b}) = {@code src} (NCHW, {@code n} x {@code c} x {@code hw}). */
    static void toBlocked(Parallel par, float[] src, MemorySegment dst, int n, int c, int hw, int b) {
        check(src, dst, n, c, hw, b);
        par.forChunks(n * (c / b), (long) b * hw, (chunk, from, to) -> {
            for (int i = from; i < to; i++) {
                // Block i holds channels [b*(i mod c/b), +b) of image i / (c/b); in NCHW they start at i*b*hw too.
                int base = i * b * hw;
                MemorySegment blk = dst.asSlice((long) base * Float.BYTES, (long) b * hw * Float.BYTES);
                for (int k = 0; k < b; k += 8) {
                    int s = base + k * hw;
                    // 8 channel planes read side by side, each pixel's 8 values written together
                    for (int p = 0; p < hw; p++) {
                        long d = (long) p * b + k;
                        blk.setAtIndex(F, d, src[s + p]);
                        blk.setAtIndex(F, d + 1, src[s + hw + p]);
                        blk.setAtIndex(F, d + 2, src[s + 2 * hw + p]);
                        blk.setAtIndex(F, d + 3, src[s + 3 * hw + p]);
                        blk.setAtIndex(F, d + 4, src[s + 4 * hw + p]);
                        blk.setAtIndex(F, d + 5, src[s + 5 * hw + p]);
                        blk.setAtIndex(F, d + 6, src[s + 6 * hw + p]);
                        blk.setAtIndex(F, d + 7, src[s + 7 * hw + p]);
                    }
                }
            }
        });
    }

    /** {@code dst} (NCHW) = {@code src} (blocked by {@code b}); the inverse of {@link #toBlocked}. */
    static void fromBlocked(Parallel par, MemorySegment src, float[] dst, int n, int c, int hw, int b) {
        check(dst, src, n, c, hw, b);
        par.forChunks(n * (c / b), (long) b * hw, (chunk, from, to) -> {
            for (int i = from; i < to; i++) {
                int base = i * b * hw;
                MemorySegment blk = src.asSlice((long) base * Float.BYTES, (long) b * hw * Float.BYTES);
                for (int k = 0; k < b; k += 8) {
                    int s = base + k * hw;
                    for (int p = 0; p < hw; p++) {
                        long d = (long) p * b + k;
                        dst[s + p] = blk.getAtIndex(F, d);
                        dst[s + hw + p] = blk.getAtIndex(F, d + 1);
                        dst[s + 2 * hw + p] = blk.getAtIndex(F, d + 2);
                        dst[s + 3 * hw + p] = blk.getAtIndex(F, d + 3);
                        dst[s + 4 * hw + p] = blk.getAtIndex(F, d + 4);
                        dst[s + 5 * hw + p] = blk.getAtIndex(F, d + 5);
                        dst[s + 6 * hw + p] = blk.getAtIndex(F, d + 6);
                        dst[s + 7 * hw + p] = blk.getAtIndex(F, d + 7);
                    }
                }
            }
        });
    }

    private static void check(float[] heap, MemorySegment nat, int n, int c, int hw, int b) {
        long floats = (long) n * c * hw;
        if ((b != 8 && b != 16) || c % b != 0 || heap.length < floats || nat.byteSize() < floats * Float.BYTES) {
            throw new IllegalArgumentException("blocked copy of " + n + "x" + c + "x" + hw + " by " + b + " channels: "
                    + heap.length + " heap floats, " + nat.byteSize() + " native bytes");
        }
    }
}
