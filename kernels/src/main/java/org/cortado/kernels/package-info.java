/**
 * The GPU backend: CUDA C kernels ({@code src/main/cuda}, one file per op family, compiled to fatbins at
 * build time) loaded through jcuda's driver API, and their Java faces.
 *
 * <ul>
 *   <li>{@link org.cortado.kernels.Cuda}: can this machine run them, and if not, why (never throws).</li>
 *   <li>{@link org.cortado.kernels.CudaDevice}: one GPU's context, owned by one thread; its modules and its
 *       memory pool. Everything that touches the GPU runs on that thread ({@link CudaDevice#call}). What it
 *       asks of the GPU goes through a {@code Driver}: {@code CudaDriverApi} (jcuda) on a real GPU; the
 *       tests' {@code EmulatedDriver} runs the same kernels, compiled for the CPU, where there is none.</li>
 *   <li>{@link org.cortado.kernels.DeviceArray}: a pooled float or int array in GPU memory.</li>
 *   <li>{@link org.cortado.kernels.CudaOps}: the engine's ops on the GPU. Every method names the CPU op it
 *       matches; {@code CudaOpsTest} compares the two on random inputs.</li>
 *   <li>{@link org.cortado.kernels.KernelArgs}: the argument checks every op runs before it launches.</li>
 * </ul>
 */
package org.cortado.kernels;
