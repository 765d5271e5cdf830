package org.cortado.kernels;

import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

/**
 * Whether CUDA can be used on this machine, found out once: the NVIDIA driver's {@code libcuda.so.1}
 * loads (jcuda's driver binding needs nothing else), {@code cuInit} succeeds, and there is a device.
 * Probing never throws; {@link #availability()} says why not.
 */
public final class Cuda {
    /** What the probe found: usable, or the reason it is not; the first device's name and memory. */
    public record Availability(boolean usable, String reason, int devices, String name, int computeCapability,
                               long totalBytes) {
        @Override
        public String toString() {
            return usable ? devices + " CUDA device(s); device 0: " + name + ", compute capability "
                    + computeCapability / 10 + "." + computeCapability % 10 + ", " + (totalBytes >> 20) + " MiB"
                    : reason;
        }
    }

    private static final Availability AVAILABILITY = probe();

    /**
     * What stands in for the NVIDIA driver while a test installs it (the kernels' CPU emulation, for the
     * pipeline's tests on a machine without a GPU), or null: the driver itself.
     */
    record StandIn(Availability availability, java.util.function.Supplier<Driver> driver) {}

    private static final java.util.concurrent.atomic.AtomicReference<StandIn> STAND_IN =
            new java.util.concurrent.atomic.AtomicReference<>();

    private Cuda() {}

    /** What this machine's CUDA can do (or, while a test's stand-in is installed, what the stand-in can). */
    public static Availability availability() {
        StandIn s = STAND_IN.get();
        return s != null ? s.availability() : AVAILABILITY;
    }

    /** Installs {@code s}; tests only. One at a time: a second is refused until the first is removed. */
    static void installStandIn(StandIn s) {
        if (!STAND_IN.compareAndSet(null, s)) {
            throw new IllegalStateException("a stand-in for the CUDA driver is installed already: " + STAND_IN.get());
        }
    }

    /** Removes {@code s} if it is the one installed. */
    static void removeStandIn(StandIn s) {
        STAND_IN.compareAndSet(s, null);
    }

    /** The driver for a device about to open. */
    static Driver driver() {
        StandIn s = STAND_IN.get();
        return s != null ? s.driver().get() : new CudaDriverApi();
    }

    private static Availability probe() {
        try {
            JCudaDriver.setExceptionsEnabled(false);
            int rc = JCudaDriver.cuInit(0);
            if (rc != 0) {
                return unusable("the NVIDIA driver is installed but cuInit failed: "
                        + jcuda.driver.CUresult.stringFor(rc)
                        + (rc == jcuda.driver.CUresult.CUDA_ERROR_NO_DEVICE ? " (no CUDA device)" : ""));
            }
            int[] count = {0};
            rc = JCudaDriver.cuDeviceGetCount(count);
            if (rc != 0 || count[0] == 0) {
                return unusable("no CUDA device: the NVIDIA driver reports " + count[0] + " device(s)");
            }
            CUdevice dev = new CUdevice();
            JCudaDriver.cuDeviceGet(dev, 0);
            byte[] name = new byte[256];
            JCudaDriver.cuDeviceGetName(name, name.length, dev);
            int[] major = {0}, minor = {0};
            JCudaDriver.cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
            JCudaDriver.cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
            long[] bytes = {0};
            JCudaDriver.cuDeviceTotalMem(bytes, dev);
            int cc = major[0] * 10 + minor[0];
            if (cc < 80) {
                return new Availability(false, "the GPU " + cString(name) + " has compute capability " + major[0] + "."
                        + minor[0] + "; Cortado's kernels are built for 8.0 (A100) and newer", count[0], cString(name),
                        cc, bytes[0]);
            }
            return new Availability(true, "", count[0], cString(name), cc, bytes[0]);
        } catch (UnsatisfiedLinkError e) {
            return unusable("no NVIDIA driver: libcuda.so.1 could not be loaded (" + firstLine(e.getMessage()) + ")");
        } catch (Throwable e) {
            return unusable("CUDA could not be initialized: " + e);
        } finally {
            try {
                JCudaDriver.setExceptionsEnabled(true);
            } catch (Throwable ignored) {
                // the binding did not load; nothing to restore
            }
        }
    }

    private static Availability unusable(String reason) {
        return new Availability(false, reason, 0, "", 0, 0);
    }

    static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) {
            n++;
        }
        return new String(b, 0, n, java.nio.charset.StandardCharsets.US_ASCII);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "no detail";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
