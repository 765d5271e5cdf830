package org.cortado.kernels;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.cortado.engine.ShapeException;
import org.junit.jupiter.api.Test;

/**
 * The host-side checks that stand between a bad call and a kernel writing past an array, and the
 * messages a user sees when CUDA cannot be used. These run without a GPU.
 */
class KernelArgsTest {

    @Test
    void launchArgumentsArePackedAsTheKernelsParametersLieInMemory() {
        // gemm_f32_nn(int m, int n, int k, float alpha, const float* A, int lda, long sA, const float* B,
        //             int ldb, long sB, float beta, float* C, int ldc, long sC, int splits, int kc)
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(512).order(java.nio.ByteOrder.nativeOrder());
        int size = CudaDriverApi.pack(new Object[] {3, 5, 7, 1.5f, new DevicePointer(0x1000), 9, 11L,
                new DevicePointer(0x2000), 13, 15L, 0.25f, null, 17, 19L, 21, 23}, b);
        assertEquals(104, size);
        assertEquals(3, b.getInt(0));
        assertEquals(5, b.getInt(4));
        assertEquals(7, b.getInt(8));
        assertEquals(1.5f, b.getFloat(12));
        assertEquals(0x1000, b.getLong(16));
        assertEquals(9, b.getInt(24));
        assertEquals(11L, b.getLong(32)); // after 4 bytes of padding
        assertEquals(0x2000, b.getLong(40));
        assertEquals(13, b.getInt(48));
        assertEquals(15L, b.getLong(56));
        assertEquals(0.25f, b.getFloat(64));
        assertEquals(0L, b.getLong(72)); // null: a null pointer
        assertEquals(17, b.getInt(80));
        assertEquals(19L, b.getLong(88));
        assertEquals(21, b.getInt(96));
        assertEquals(23, b.getInt(100));
        assertEquals(12, CudaDriverApi.pack(new Object[] {1.0, 2}, b)); // a double, then an int
        assertEquals(2, b.getInt(8));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CudaDriverApi.pack(new Object[] {"x"}, b));
        assertTrue(e.getMessage().contains("kernel argument of type class java.lang.String"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CudaDriverApi.pack(new Object[65], b));
        assertTrue(e.getMessage().contains("kernel arguments past 512 bytes"), e.getMessage());
    }

    @Test
    void gemmAcceptsExactFitsWithPaddingOffsetsAndBatches() {
        // A 3x4 (lda 5), B 4x2 (ldb 2), C 3x2 (ldc 2): 14, 8 and 6 elements
        assertDoesNotThrow(() -> KernelArgs.gemm(false, false, 3, 2, 4, 14, 0, 5, 8, 0, 2, 6, 0, 2, 1, 0, 0, 0));
        // transposed A stored 4x3, from offset 2
        assertDoesNotThrow(() -> KernelArgs.gemm(true, false, 3, 2, 4, 14, 2, 3, 8, 0, 2, 6, 0, 2, 1, 0, 0, 0));
        // 3 products, A shared (stride 0), B and C strided
        assertDoesNotThrow(() -> KernelArgs.gemm(false, true, 3, 2, 4, 12, 0, 4, 24, 0, 4, 18, 0, 2, 3, 0, 8, 6));
    }

    @Test
    void gemmRefusesAnythingThatWouldReachPastAnOperand() {
        ShapeException e = assertThrows(ShapeException.class,
                () -> KernelArgs.gemm(false, false, 3, 2, 4, 13, 0, 5, 8, 0, 2, 6, 0, 2, 1, 0, 0, 0));
        assertTrue(e.getMessage().contains("A (3 x 4, ld 5") && e.getMessage().contains("needs 14"), e.getMessage());
        e = assertThrows(ShapeException.class,
                () -> KernelArgs.gemm(false, false, 3, 2, 4, 14, 0, 3, 8, 0, 2, 6, 0, 2, 1, 0, 0, 0));
        assertTrue(e.getMessage().contains("leading dimension of A is 3, less than its 4"), e.getMessage());
        e = assertThrows(ShapeException.class,
                () -> KernelArgs.gemm(false, true, 3, 2, 4, 12, 0, 4, 23, 0, 4, 18, 0, 2, 3, 0, 8, 6));
        assertTrue(e.getMessage().startsWith("gemm: B"), e.getMessage());
        e = assertThrows(ShapeException.class,
                () -> KernelArgs.gemm(false, false, 3, 2, 4, 14, 0, 5, 8, 0, 2, 6, 0, 2, 2, 0, 0, 0));
        assertTrue(e.getMessage().contains("all write the same C"), e.getMessage());
        assertThrows(ShapeException.class,
                () -> KernelArgs.gemm(false, false, -1, 2, 4, 14, 0, 5, 8, 0, 2, 6, 0, 2, 1, 0, 0, 0));
        assertThrows(ShapeException.class,
                () -> KernelArgs.gemm(false, false, 3, 2, 4, 14, -1, 5, 8, 0, 2, 6, 0, 2, 1, 0, 0, 0));
    }

    @Test
    void rangesAndSizes() {
        assertDoesNotThrow(() -> KernelArgs.range("upload", 4, 6, 10));
        ShapeException e = assertThrows(ShapeException.class, () -> KernelArgs.range("upload", 5, 6, 10));
        assertEquals("upload: elements [6, 11) do not fit an array of 10", e.getMessage());
        e = assertThrows(ShapeException.class, () -> KernelArgs.holds("im2col", "col", 99, 100));
        assertEquals("im2col: col has 99 elements, needs 100", e.getMessage());
        assertThrows(ShapeException.class, () -> KernelArgs.positive("softmax", "channels", 0));
    }

    @Test
    void outOfMemorySaysWhatWasNeededAndWhatTheGpuHas() {
        String m = CudaDevice.outOfMemory(3L << 30, 70L << 30, 1L << 30, 80L << 30, "NVIDIA H100 80GB HBM3");
        assertEquals("out of GPU memory on NVIDIA H100 80GB HBM3: this run needed 3072.0 MiB more, on top of the "
                + "71680.0 MiB it already holds (74752.0 MiB in all); the GPU has 1024.0 MiB free of 81920.0 MiB. "
                + "Use a smaller batch or fewer micro-batches per stage.", m);
    }

    @Test
    void withoutAUsableGpuOpeningSaysWhyAndWithOneAWrongOrdinalIsNamed() {
        Cuda.Availability a = Cuda.availability();
        if (!a.usable()) {
            assertFalse(a.reason().isBlank());
            assertTrue(a.reason().contains("driver") || a.reason().contains("device") || a.reason().contains("GPU"),
                    a.reason());
            CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> CudaDevice.open(0));
            assertEquals("CUDA is not usable: " + a.reason(), e.getMessage());
        } else {
            CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                    () -> CudaDevice.open(a.devices()));
            assertTrue(e.getMessage().startsWith("CUDA device " + a.devices() + " asked for; this machine has "),
                    e.getMessage());
        }
    }
}
