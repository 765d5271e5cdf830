// Shared helpers for Cortado's kernels. Every kernel is extern "C" so the Java side finds it by its
// plain name (CudaKernels looks names up in the module loaded from this file family's fatbin).
#pragma once
#include <cstdint>

// A grid-stride loop over [0, n): any grid size covers any n.
#define CORTADO_LOOP(i, n) \
  for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < (long)(n); i += (long)blockDim.x * gridDim.x)

// Sum of v over the block (blockDim.x a multiple of 32, at most 1024); the result is valid in thread 0.
template <typename T>
__device__ __forceinline__ T cortado_block_sum(T v) {
  __shared__ T partial[32];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();  // partial may still be read by a previous call
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  int warps = (blockDim.x + 31) >> 5;
  v = threadIdx.x < warps ? partial[threadIdx.x] : T(0);
  if (warp == 0) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  }
  return v;
}
