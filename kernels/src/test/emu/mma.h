// The CPU emulation of the part of CUDA's <mma.h> (wmma) that gemm.cu's TF32 path uses: m16n16k8 TF32
// fragments, row-major loads, float accumulators. A fragment is warp-collective on a GPU; here every
// thread of the warp holds the whole tile and computes the whole product (each writes the same values).
// The product of two TF32 values is exact in float32, and sums accumulate in float32, as on the tensor
// cores (whose order of additions is unspecified).
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace nvcuda {
namespace wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
namespace precision {
struct tf32 {};
}
enum layout_t { mem_row_major, mem_col_major };

template <typename Use, int M, int N, int K, typename T, typename Layout = void>
struct fragment {
  static constexpr int rows = std::is_same_v<Use, matrix_b> ? K : M;
  static constexpr int cols = std::is_same_v<Use, matrix_a> ? K : N;
  static constexpr int num_elements = rows * cols;
  float x[rows * cols];
};

// cvt.rna.tf32.f32: round to the nearest TF32 (10 fraction bits), ties away from zero.
inline float __float_to_tf32(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  if ((b & 0x7f800000u) != 0x7f800000u) b = (b + 0x1000u) & 0xffffe000u;
  std::memcpy(&f, &b, 4);
  return f;
}

template <typename Use, int M, int N, int K, typename T, typename L>
void fill_fragment(fragment<Use, M, N, K, T, L>& f, float v) {
  for (float& e : f.x) e = v;
}

template <typename Use, int M, int N, int K, typename T>
void load_matrix_sync(fragment<Use, M, N, K, T, row_major>& f, const float* p, unsigned ldm) {
  using F = fragment<Use, M, N, K, T, row_major>;
  for (int r = 0; r < F::rows; r++)
    for (int c = 0; c < F::cols; c++) f.x[r * F::cols + c] = p[(long)r * ldm + c];
}

template <int M, int N, int K, typename T, typename LA, typename LB>
void mma_sync(fragment<accumulator, M, N, K, float>& d, const fragment<matrix_a, M, N, K, T, LA>& a,
              const fragment<matrix_b, M, N, K, T, LB>& b, const fragment<accumulator, M, N, K, float>& c) {
  float out[M * N];
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      float s = c.x[i * N + j];
      for (int k = 0; k < K; k++) s += a.x[i * K + k] * b.x[k * N + j];
      out[i * N + j] = s;
    }
  std::memcpy(d.x, out, sizeof out);
}

template <int M, int N, int K>
void store_matrix_sync(float* p, const fragment<accumulator, M, N, K, float>& f, unsigned ldm, layout_t layout) {
  for (int r = 0; r < M; r++)
    for (int c = 0; c < N; c++) {
      if (layout == mem_row_major) p[(long)r * ldm + c] = f.x[r * N + c];
      else p[(long)c * ldm + r] = f.x[r * N + c];
    }
}
}  // namespace wmma
}  // namespace nvcuda
