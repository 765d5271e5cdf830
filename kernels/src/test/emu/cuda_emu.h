// The CPU emulation of the CUDA C that Cortado's kernels use, so that the kernel tests run where there is
// no GPU (CI). build-emu.sh compiles each src/main/cuda/*.cu with g++ and this header forced in front of
// it; emu_runtime.cpp runs a launch block by block, each thread of a block a fiber on the calling thread.
//
// What it models: threadIdx/blockIdx/blockDim/gridDim; __shared__ memory per block; __syncthreads and
// __syncwarp as real barriers (a fiber runs until it reaches one, and a block whose threads wait at
// different barriers is reported as a deadlock); __shfl_down_sync through those barriers; atomics; the
// float4 vector type; wmma's TF32 fragments (mma.h beside this file). What it does not: data races (the
// fibers interleave only at barriers, one valid schedule among many), the memory model, speed.
#pragma once
#include <math.h>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#ifdef CORTADO_EMU_LIST
#define __global__ CORTADO_KERNEL_MARK  // build-emu.sh lists the kernels from the preprocessed source
#else
#define __global__
#endif
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
// Shared memory: one copy per OS thread; the blocks of a launch run one after the other on it.
#define __shared__ static thread_local

struct uint3 { unsigned x, y, z; };
struct dim3 { unsigned x, y, z; };
struct __attribute__((aligned(16))) float4 { float x, y, z, w; };
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }

extern thread_local uint3 threadIdx;
extern thread_local uint3 blockIdx;
extern thread_local dim3 blockDim;
extern thread_local dim3 gridDim;

namespace cortado_emu {
void block_barrier();
void warp_barrier();
uint64_t* shuffle_slots();  // 32 warps x 32 lanes
}  // namespace cortado_emu

inline void __syncthreads() { cortado_emu::block_barrier(); }
inline void __syncwarp(unsigned = 0xffffffffu) { cortado_emu::warp_barrier(); }

template <typename T>
T __shfl_down_sync(unsigned, T v, unsigned delta, int width = 32) {
  static_assert(sizeof(T) <= 8, "shuffle of a value over 8 bytes");
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  uint64_t* slots = cortado_emu::shuffle_slots() + warp * 32;
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  slots[lane] = bits;
  cortado_emu::warp_barrier();
  T r = v;
  if ((lane % width) + (int)delta < width) std::memcpy(&r, &slots[lane + delta], sizeof(T));
  cortado_emu::warp_barrier();  // every lane has read before the slots are written again
  return r;
}

// CUDA's overloaded min/max: integers of either width, and the float ones (which are fminf/fmaxf).
template <typename A, typename B>
inline auto min(A a, B b) -> decltype(a + b) { return b < a ? b : a; }
template <typename A, typename B>
inline auto max(A a, B b) -> decltype(a + b) { return a < b ? b : a; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }

// Rounded single operations, never contracted into an fma (build-emu.sh also passes -ffp-contract=off).
inline float __fadd_rn(float a, float b) { volatile float r = a + b; return r; }
inline float __fmul_rn(float a, float b) { volatile float r = a * b; return r; }
inline float rsqrtf(float x) { return 1.f / sqrtf(x); }

// Atomics: the fibers of a launch run on one OS thread and switch only at barriers, so a plain
// read-modify-write is atomic.
inline int atomicCAS(int* p, int compare, int v) { int old = *p; if (old == compare) *p = v; return old; }
inline int atomicAdd(int* p, int v) { int old = *p; *p += v; return old; }
inline float atomicAdd(float* p, float v) { float old = *p; *p += v; return old; }
inline double atomicAdd(double* p, double v) { double old = *p; *p += v; return old; }
inline int atomicMax(int* p, int v) { int old = *p; if (v > old) *p = v; return old; }
inline int atomicExch(int* p, int v) { int old = *p; *p = v; return old; }

namespace cortado_emu {
// A kernel's parameter types as the launch checks them against what the Java side passes:
// I int (4 bytes), J long (8), F float, D double, P a pointer.
template <typename T>
constexpr char tag() {
  if constexpr (std::is_pointer_v<T>) return 'P';
  else if constexpr (std::is_same_v<T, float>) return 'F';
  else if constexpr (std::is_same_v<T, double>) return 'D';
  else if constexpr (std::is_integral_v<T> && sizeof(T) == 4) return 'I';
  else if constexpr (std::is_integral_v<T> && sizeof(T) == 8) return 'J';
  else return '?';
}

template <typename T>
T read(const uint64_t* slot) {
  T v;
  std::memcpy(&v, slot, sizeof(T));
  return v;
}

using Invoke = void (*)(void* fn, const uint64_t* args);

template <typename... A, size_t... I>
void call(void (*f)(A...), const uint64_t* args, std::index_sequence<I...>) {
  f(read<A>(args + I)...);
}

template <typename... A>
void invoke(void* fn, const uint64_t* args) {
  call(reinterpret_cast<void (*)(A...)>(fn), args, std::index_sequence_for<A...>{});
}

void add_kernel(const char* name, void* fn, Invoke invoke, const char* signature);

// One kernel in the registry (build-emu.sh writes one per kernel of a .cu).
struct Kernel {
  template <typename... A>
  Kernel(const char* name, void (*f)(A...)) {
    static const char signature[] = {tag<A>()..., '\0'};
    add_kernel(name, reinterpret_cast<void*>(f), &invoke<A...>, signature);
  }
};
}  // namespace cortado_emu
