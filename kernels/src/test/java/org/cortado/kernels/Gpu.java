package org.cortado.kernels;

import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Assumptions;

/**
 * Opens the GPU for a test class: the real one when CUDA is usable, else the CPU emulation of the
 * kernels ({@link EmulatedDriver}), else none and the tests skip saying why. With
 * {@code CORTADO_REQUIRE_GPU=1} (set by {@code kernels/gpu/check.sh} on a GPU machine) a missing GPU
 * fails instead, so a run that was meant to test the kernels on a GPU cannot pass on the emulation.
 */
final class Gpu {
    private Gpu() {}

    /** The GPU for a test class's {@code @BeforeAll}, or null when there is none. */
    static CudaDevice openOrNull() {
        Cuda.Availability a = Cuda.availability();
        if (a.usable()) {
            return CudaDevice.open(0);
        }
        if ("1".equals(System.getenv("CORTADO_REQUIRE_GPU"))) {
            fail("CORTADO_REQUIRE_GPU=1 but CUDA is not usable: " + a.reason());
        }
        if (EmulatedDriver.unavailable() != null) {
            return null;
        }
        System.err.println("GPU tests run on the CPU emulation of the kernels (" + a.reason() + ")");
        return CudaDevice.open(new EmulatedDriver(), 0);
    }

    /** Whether {@code device} is the CPU emulation (speed and the GPU's own limits mean nothing there). */
    static boolean emulated(CudaDevice device) {
        return device.driver() instanceof EmulatedDriver;
    }

    /** In {@code @BeforeEach}: skips the test, with the reason in the report, when there is no GPU. */
    static void assumeOpen(CudaDevice device) {
        Assumptions.assumeTrue(device != null, () -> "GPU test skipped: " + Cuda.availability().reason()
                + "; and the CPU emulation of the kernels is not available: " + EmulatedDriver.unavailable());
    }
}
