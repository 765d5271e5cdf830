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
