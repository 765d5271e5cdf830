package org.cortado.kernels;

/**
 * For other modules' tests on a machine without a GPU (the pipeline's on {@code "device": "cuda"}):
 * while installed, {@link Cuda#availability()} reports the CPU emulation of the kernels as one usable
 * GPU and {@link CudaDevice#open(int)} runs on it ({@link EmulatedDriver}). Install it only around the
 * tests that want it: it stands in for the driver in the whole JVM, and a second install is refused
 * until the first is closed.
 */
public final class EmulatedCuda implements AutoCloseable {
    /** Compute capability the emulation claims: the newest the fatbins carry machine code for. */
    private static final int CAPABILITY = 90;

    private final Cuda.StandIn standIn;

    private EmulatedCuda(Cuda.StandIn standIn) {
        this.standIn = standIn;
    }

    /** Why the emulation cannot run here (no g++, a failed build), or null when it can. */
    public static String unavailable() {
        return EmulatedDriver.unavailable();
    }

    /** Installs the emulation; close to give the real driver back. */
    public static EmulatedCuda install() {
        String why = unavailable();
        if (why != null) {
            throw new CudaUnavailableException("the CPU emulation of the kernels is not available: " + why);
        }
        EmulatedDriver probe = new EmulatedDriver();
        Cuda.StandIn s = new Cuda.StandIn(new Cuda.Availability(true, "", 1, probe.name(), CAPABILITY,
                probe.memoryInfo()[1]), EmulatedDriver::new);
        Cuda.installStandIn(s);
        return new EmulatedCuda(s);
    }

    @Override
    public void close() {
        Cuda.removeStandIn(standIn);
    }
}
