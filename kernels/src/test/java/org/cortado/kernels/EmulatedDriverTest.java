package org.cortado.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cortado.engine.CortadoException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The CPU emulation that runs the GPU tests where there is no GPU: it must compute what CUDA computes
 * (barriers, shared memory, shuffles) and catch what a GPU would get wrong silently or fault on.
 */
class EmulatedDriverTest {
    private static CudaDevice device;

    @BeforeAll
    static void open() {
        if (EmulatedDriver.unavailable() == null) {
            device = CudaDevice.open(new EmulatedDriver(1 << 20), 0);
        }
    }

    @BeforeEach
    void emulation() {
        Assumptions.assumeTrue(device != null, () -> "the CPU emulation is not available: " + EmulatedDriver.unavailable());
    }

    @AfterAll
    static void close() {
        if (device != null) {
            device.close();
        }
    }

    @Test
    void kernelsOfTheFatbinsAreEmulatedWithTheirParameterTypes() {
        assertEquals("IIIFPIJPIJFPIJII", EmulatedDriver.signature("gemm_f32_nn"));
        assertEquals("IIIFPIJPIJFPIJII", EmulatedDriver.signature("gemm_tf32_tt"));
        assertEquals("JFPP", EmulatedDriver.signature("axpy"));
        assertEquals(null, EmulatedDriver.signature("no_such_kernel"));
    }

    @Test
    void blockSumsGoThroughShufflesAndBarriers() {
        float[] x = new float[3 * 256];
        float[] want = new float[3];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i % 7) - 2.5f + i / 256;
            want[i / 256] += x[i];
        }
        float[] got = device.call(() -> {
            try (DeviceArray dx = device.upload(x); DeviceArray out = device.floats(3).poison()) {
                device.launch("selftest_block_sum", 3, 1, 1, 256, dx.base(), out.base());
                return out.download();
            }
        });
        assertArrayEquals(want, got, 1e-4f);
    }

    /**
     * A missing barrier that the usual order hides (thread 0 runs first, so the others read what it
     * wrote) shows in the reverse order, which the second run of the kernels' tests uses: there the
     * other threads read what the previous launch left.
     */
    @Test
    void theReverseOrderExposesAMissingBarrierThatTheUsualOrderHides() {
        float[][] got = device.call(() -> {
            try (DeviceArray y = device.floats(64).poison()) {
                EmulatedDriver.reverse(false);
                device.launch("selftest_unsynced_broadcast", 1, 1, 1, 64, 5f, y.base());
                float[] usual = y.download();
                EmulatedDriver.reverse(true);
                device.launch("selftest_unsynced_broadcast", 1, 1, 1, 64, 7f, y.base());
                return new float[][] {usual, y.download()};
            } finally {
                EmulatedDriver.reverse(Boolean.getBoolean(EmulatedDriver.REVERSE));
            }
        });
        float[] fives = new float[64];
        java.util.Arrays.fill(fives, 5f);
        assertArrayEquals(fives, got[0]);
        assertEquals(7f, got[1][0]);
        assertEquals(5f, got[1][63], "thread 63 ran before thread 0 wrote");
    }

    @Test
    void sharedMemoryIsSharedByTheBlockAcrossItsBarrier() {
        int n = 300;
        float[] x = new float[n];
        float[] want = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = i;
            want[n - 1 - i] = i;
        }
        float[] got = device.call(() -> {
            try (DeviceArray dx = device.upload(x); DeviceArray y = device.floats(n).poison()) {
                device.launch("selftest_reverse", 1, 1, 1, n, n, dx.base(), y.base());
                return y.download();
            }
        });
        assertArrayEquals(want, got);
    }

    @Test
    void aWriteOutsideAnArrayFailsTheLaunch() {
        CortadoException e = assertThrows(CortadoException.class, () -> device.call(() -> {
            try (DeviceArray y = device.floats(1024)) { // 4 KiB: the pool's block is exactly the array
                device.launch("selftest_overrun", 2, 1, 1, 256, 1024L, y.base());
            }
            return null;
        }));
        assertTrue(e.getMessage().contains("selftest_overrun wrote outside a device array"), e.getMessage());
        device.call(() -> { // and the next launch is judged on its own
            try (DeviceArray y = device.floats(1025)) {
                device.launch("selftest_overrun", 2, 1, 1, 256, 1024L, y.base());
            }
            return null;
        });
    }

    @Test
    void threadsWaitingAtDifferentBarriersAreADeadlock() {
        CortadoException e = assertThrows(CortadoException.class, () -> device.call(() -> {
            try (DeviceArray y = device.floats(64)) {
                device.launch("selftest_divergent_barrier", 1, 1, 1, 64, y.base());
            }
            return null;
        }));
        assertTrue(e.getMessage().contains("deadlock in block (0, 0, 0)"), e.getMessage());
    }

    @Test
    void argumentsOfTheWrongTypeOrNumberAreRefused() {
        float[] got = device.call(() -> {
            try (DeviceArray y = device.floats(1)) {
                device.launch("selftest_arguments", 1, 1, 1, 32, 1L, 2, 3f, 4.0, y.base());
                return y.download();
            }
        });
        assertArrayEquals(new float[] {10f}, got);
        CortadoException intForLong = assertThrows(CortadoException.class, () -> device.call(() -> {
            try (DeviceArray y = device.floats(1)) {
                device.launch("selftest_arguments", 1, 1, 1, 32, 1, 2, 3f, 4.0, y.base());
            }
            return null;
        }));
        assertTrue(intForLong.getMessage().contains("argument 0 is J in the kernel, the call passes I"), intForLong.getMessage());
        CortadoException longForPointer = assertThrows(CortadoException.class, () -> device.call(() -> {
            device.launch("selftest_arguments", 1, 1, 1, 32, 1L, 2, 3f, 4.0, 0L);
            return null;
        }));
        assertTrue(longForPointer.getMessage().contains("argument 4 is P in the kernel, the call passes J"), longForPointer.getMessage());
        CortadoException tooFew = assertThrows(CortadoException.class, () -> device.call(() -> {
            device.launch("selftest_arguments", 1, 1, 1, 32, 1L, 2, 3f);
            return null;
        }));
        assertTrue(tooFew.getMessage().contains("takes 5 arguments (JIFDP), the call passes 3 (JIF)"), tooFew.getMessage());
    }

    @Test
    void newMemoryIsNaNAndTheCapacityIsEnforcedWithTheUsualMessage() {
        float[] fresh = device.call(() -> {
            try (DeviceArray y = device.floats(3000)) { // a block size no other test asks for: not from the pool
                return y.download();
            }
        });
        for (float v : fresh) {
            assertTrue(Float.isNaN(v));
        }
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                () -> device.call(() -> device.floats(1 << 20)));
        assertTrue(e.getMessage().startsWith("out of GPU memory on CPU emulation of a CUDA GPU: this run needed 4.0 MiB more"),
                e.getMessage());
    }
}
