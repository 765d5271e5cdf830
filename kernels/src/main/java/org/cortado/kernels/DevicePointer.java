package org.cortado.kernels;

/**
 * A GPU address as a kernel argument: 8 bytes, like a {@code long}, but a launch tells the two apart
 * (the CPU emulation of the kernels checks each argument against the kernel's parameter types).
 */
record DevicePointer(long address) {
    static final DevicePointer NULL = new DevicePointer(0);
}
