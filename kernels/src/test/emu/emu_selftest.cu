// Kernels that test the CPU emulation itself (EmulatedDriverTest): each either computes something the
// test checks, or breaks a rule of CUDA that the emulation must catch. Not part of the fatbins.
#include "common.cuh"

// out[b] = sum of x over block b's blockDim.x elements, through cortado_block_sum (shuffles + barriers).
extern "C" __global__ void selftest_block_sum(const float* __restrict__ x, float* __restrict__ out) {
  float s = cortado_block_sum(x[(long)blockIdx.x * blockDim.x + threadIdx.x]);
  if (threadIdx.x == 0) out[blockIdx.x] = s;
}

// y[i] = x[n - 1 - i] through shared memory: wrong without the barrier between the write and the read.
extern "C" __global__ void selftest_reverse(int n, const float* __restrict__ x, float* __restrict__ y) {
  __shared__ float s[1024];
  s[threadIdx.x] = x[threadIdx.x];
  __syncthreads();
  if ((int)threadIdx.x < n) y[threadIdx.x] = s[n - 1 - threadIdx.x];
}

// Writes one element past the end of y (n elements).
extern "C" __global__ void selftest_overrun(long n, float* __restrict__ y) {
  CORTADO_LOOP(i, n + 1) { y[i] = 1.f; }
}

// Thread 0 waits at __syncthreads while the others wait at __syncwarp: a deadlock on a GPU.
extern "C" __global__ void selftest_divergent_barrier(float* __restrict__ y) {
  if (threadIdx.x == 0) {
    __syncthreads();
  } else {
    __syncwarp();
  }
  y[threadIdx.x] = 0.f;
}

// Takes (long, int, float, double, pointer), for the argument checks.
extern "C" __global__ void selftest_arguments(long a, int b, float c, double d, float* __restrict__ y) {
  if (threadIdx.x == 0 && blockIdx.x == 0) y[0] = (float)(a + b + c + d);
}

// Thread 0 puts v into shared memory and every thread copies it out, with no barrier in between: right only
// when thread 0 happens to run first, as it does in the emulation's usual order and not in the reverse one.
extern "C" __global__ void selftest_unsynced_broadcast(float v, float* __restrict__ y) {
  __shared__ float s;
  if (threadIdx.x == 0) s = v;
  y[threadIdx.x] = s;
}
