package org.cortado.kernels;

import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Assumptions;

/**
 * Opens the GPU for a test class, or skips it saying why. With {@code CORTADO_REQUIRE_GPU=1} (set by
 * {@code kernels/gpu/check.sh} on a GPU machine) a missing GPU fails instead, so a run that was meant to
 * test the kernels cannot pass by skipping them.
 */
final class Gpu {
    private Gpu() {}

    /** The GPU for a test class's {@code @BeforeAll}, or null when there is none. */
    static CudaDevice openOrNull() {
        Cuda.Availability a = Cuda.availability();
        if (!a.usable()) {
            if ("1".equals(System.getenv("CORTADO_REQUIRE_GPU"))) {
                fail("CORTADO_REQUIRE_GPU=1 but CUDA is not usable: " + a.reason());
            }
            return null;
        }
        return CudaDevice.open(0);
    }

    /** In {@code @BeforeEach}: skips the test, with the reason in the report, when there is no GPU. */
    static void assumeOpen(CudaDevice device) {
        Assumptions.assumeTrue(device != null, () -> "GPU test skipped: " + Cuda.availability().reason());
    }
}
