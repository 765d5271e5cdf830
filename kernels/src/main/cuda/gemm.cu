// GEMM. CPU op: org.cortado.engine.ops.Gemm (row-major C = alpha * op(A) * op(B) + beta * C, op(A) m x k,
// op(B) k x n, leading dimensions are the row strides as stored), batched over blockIdx.z with element
// strides sA, sB, sC between the matrices of one launch (0 shares a matrix, e.g. a convolution's weights).
//
// gemm_f32_{nn,nt,tn,tt}: float32 on the CUDA cores. 128x128 tiles of C per block of 256 threads, k in
// steps of 8 through shared memory, double-buffered (the next tile's loads are in flight while the
// current one is multiplied), 8x8 outputs per thread as two 4x4 quads 64 apart, so the shared-memory
// reads are float4 and conflict-free. Loads are bounds-checked, so any m, n, k and leading dimension work.
// gemm_f32m64_{nn,nt,tn,tt}: the same with 64x128 tiles (4x8 outputs per thread, one quad of rows), for
// m <= 64: a convolution's output channels, a small batch's rows, which 128-row tiles would mostly waste.
//
// gemm_tf32_{nn,nt,tn,tt}: the same product on the tensor cores (wmma m16n16k8, inputs rounded to TF32,
// accumulated in float32); about 1e-3 relative error, as PyTorch's allow_tf32.
//
// Split-K: when m x n gives too few blocks to fill the GPU and k is long (a convolution's weight gradient
// sums over every output position of the batch), blockIdx.z also splits k; each split writes its partial
// product to a workspace slice and gemm_splitk_sum adds them up with alpha and beta.
#include "common.cuh"
#include <mma.h>

namespace {

constexpr int BN = 128, BK = 8;

// Element (r, c) of op(A) (r < m, c < k) or of op(B) (r < k, c < n); 0 outside.
template <bool T>
__device__ __forceinline__ float at(const float* __restrict__ X, int ld, int rows, int cols, int r, int c) {
  if (r >= rows || c >= cols) return 0.f;
  return T ? X[(long)c * ld + r] : X[(long)r * ld + c];
}

// Element i of the BM/32 elements of the A tile (BM x 8) this thread loads, as a (row, kk) pair.
// Consecutive threads read consecutive addresses: along k when A is stored m x k, along m when it is
// stored transposed.
template <int BM, bool TA>
__device__ __forceinline__ void a_slot(int tid, int i, int& r, int& kk) {
  if (TA) { r = tid % BM; kk = tid / BM + (256 / BM) * i; } else { kk = tid & 7; r = (tid >> 3) + 32 * i; }
}
template <bool TB>
__device__ __forceinline__ void b_slot(int tid, int i, int& kk, int& c) {
  if (TB) { kk = tid & 7; c = (tid >> 3) + 32 * i; } else { c = tid & 127; kk = (tid >> 7) + 2 * i; }
}

// blockIdx.z = product * splits + split: moves A, B and C to this block's product and its share of k,
// [split * kc, min(k, (split + 1) * kc)); C to slice z (the host sums the split slices, gemm_splitk_sum).
template <bool TA, bool TB>
__device__ __forceinline__ void split_k(const float* __restrict__& A, int lda, long sA, const float* __restrict__& B, int ldb, long sB,
                                        float* __restrict__& C, long sC, int& k, int splits, int kc) {
  const int z = blockIdx.z, product = z / splits, split = z % splits;
  const long k0 = (long)split * kc;
  A += product * sA + (TA ? k0 * lda : k0);
  B += product * sB + (TB ? k0 : k0 * ldb);
  C += z * sC;
  k = (int)min((long)kc, k - k0);
}

// BM is 128 (two quads of rows per thread) or 64 (one).
template <int BM, bool TA, bool TB>
__device__ __forceinline__ void gemm_f32(int m, int n, int k, float alpha, const float* __restrict__ A, int lda,
                                         long sA, const float* __restrict__ B, int ldb, long sB, float beta,
                                         float* __restrict__ C, int ldc, long sC, int splits, int kc) {
  __shared__ __align__(16) float As[2][BK][BM];
  __shared__ __align__(16) float Bs[2][BK][BN];
  split_k<TA, TB>(A, lda, sA, B, ldb, sB, C, sC, k, splits, kc);
  const int tid = threadIdx.x;
  const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
  const int tx = tid & 15, ty = tid >> 4;
  constexpr int RA = BM / 32, ROWS = BM / 16;  // A elements loaded and rows of C computed per thread
  float acc[ROWS][8];
#pragma unroll
  for (int i = 0; i < ROWS; i++)
#pragma unroll
    for (int j = 0; j < 8; j++) acc[i][j] = 0.f;

  float ra[4], rb[4];  // ra: RA of them used
  const int tiles = (k + BK - 1) / BK;
  auto load = [&](int k0) {
#pragma unroll
    for (int i = 0; i < 4; i++) {
      int r, kk, c;
      if (i < RA) {
        a_slot<BM, TA>(tid, i, r, kk);
        ra[i] = at<TA>(A, lda, m, k, m0 + r, k0 + kk);
      }
      b_slot<TB>(tid, i, kk, c);
      rb[i] = at<TB>(B, ldb, k, n, k0 + kk, n0 + c);
    }
  };
  auto store = [&](int buf) {
#pragma unroll
    for (int i = 0; i < 4; i++) {
      int r, kk, c;
      if (i < RA) {
        a_slot<BM, TA>(tid, i, r, kk);
        As[buf][kk][r] = ra[i];
      }
      b_slot<TB>(tid, i, kk, c);
      Bs[buf][kk][c] = rb[i];
    }
  };
  if (tiles > 0) {
    load(0);
    store(0);
  }
  __syncthreads();
  for (int t = 0; t < tiles; t++) {
    const int buf = t & 1;
    if (t + 1 < tiles) load((t + 1) * BK);
#pragma unroll
    for (int kk = 0; kk < BK; kk++) {
      float a[ROWS];
#pragma unroll
      for (int q = 0; q < ROWS / 4; q++) {
        float4 aq = *reinterpret_cast<const float4*>(&As[buf][kk][ty * 4 + 64 * q]);
        a[4 * q] = aq.x, a[4 * q + 1] = aq.y, a[4 * q + 2] = aq.z, a[4 * q + 3] = aq.w;
      }
      float4 b0 = *reinterpret_cast<const float4*>(&Bs[buf][kk][tx * 4]);
      float4 b1 = *reinterpret_cast<const float4*>(&Bs[buf][kk][tx * 4 + 64]);
      const float b[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
      for (int i = 0; i < ROWS; i++)
#pragma unroll
        for (int j = 0; j < 8; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    if (t + 1 < tiles) store(buf ^ 1);
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < ROWS; i++) {
    int r = m0 + ty * 4 + (i & 3) + (i >> 2) * 64;
    if (r >= m) continue;
#pragma unroll
    for (int j = 0; j < 8; j++) {
      int c = n0 + tx * 4 + (j & 3) + (j >> 2) * 64;
      if (c >= n) continue;
      float* p = C + (long)r * ldc + c;
      *p = beta == 0.f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *p;
    }
  }
}

// ---- TF32 on the tensor cores ----
// 128x128 tiles of C per block of 8 warps (2 x 4, each 64 x 32 of C as 4 x 2 wmma fragments), k in steps
// of 16 through shared memory, double-buffered as gemm_f32: the next tile's loads are in flight in
// registers while the tensor cores multiply the current one; two blocks per multiprocessor.
constexpr int TBM = 128, TBN = 128, TBK = 16;
constexpr int AS_LD = TBK + 4, BS_LD = TBN + 4;  // padded rows; multiples of 4 as wmma needs for float
constexpr int AS_SIZE = TBM * AS_LD, BS_SIZE = TBK * BS_LD;

template <bool TA, bool TB>
__device__ __forceinline__ void gemm_tf32(int m, int n, int k, float alpha, const float* __restrict__ A, int lda,
                                          long sA, const float* __restrict__ B, int ldb, long sB, float beta,
                                          float* __restrict__ C, int ldc, long sC, int splits, int kc) {
  using namespace nvcuda;
  // two A and two B tiles; after the loop, the warps' 16 x 16 scratch for writing C
  __shared__ __align__(128) float smem[2 * (AS_SIZE + BS_SIZE)];
  auto As = [&](int buf) { return smem + buf * AS_SIZE; };
  auto Bs = [&](int buf) { return smem + 2 * AS_SIZE + buf * BS_SIZE; };
  split_k<TA, TB>(A, lda, sA, B, ldb, sB, C, sC, k, splits, kc);
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int m0 = blockIdx.y * TBM, n0 = blockIdx.x * TBN;
  const int wm = (warp >> 2) * 64, wn = (warp & 3) * 32;
  wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc[4][2];
#pragma unroll
  for (int i = 0; i < 4; i++)
#pragma unroll
    for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.f);

  // A tile 128 x 16 and B tile 16 x 128: each thread loads two runs of 4 elements of each, consecutive
  // in memory as stored (so consecutive threads read consecutive addresses). Run i of operand X covers
  // (row, col) = x_run(i) + (0, j) or + (j, 0), j < 4, as below. A tile inside the matrix, from memory
  // 16-byte aligned with a leading dimension that keeps it so, is read a float4 at a time; other tiles
  // (the edges, odd shapes) element by element with bounds checks.
  float ra[8], rb[8];
  const int tiles = (k + TBK - 1) / TBK;
  auto aligned = [](const float* p, int ld) { return ((reinterpret_cast<uintptr_t>(p) & 15) | (ld & 3)) == 0; };
  const bool aVec = aligned(A, lda) && m0 + TBM <= m, bVec = aligned(B, ldb) && n0 + TBN <= n;
  // run i's first element, as (r, kk) of op(A) and (kk, c) of op(B)
  auto aRun = [&](int i, int& r, int& kk) {
    const int q = tid + 256 * i;
    if (TA) { r = (q & 31) * 4; kk = q >> 5; } else { r = q >> 2; kk = (q & 3) * 4; }
  };
  auto bRun = [&](int i, int& kk, int& c) {
    const int q = tid + 256 * i;
    if (TB) { c = q >> 2; kk = (q & 3) * 4; } else { c = (q & 31) * 4; kk = q >> 5; }
  };
  auto load = [&](int k0) {
    const bool kIn = k0 + TBK <= k;
#pragma unroll
    for (int i = 0; i < 2; i++) {
      int r, kk, c;
      aRun(i, r, kk);
      if (aVec && kIn) {
        float4 v = *reinterpret_cast<const float4*>(TA ? A + (long)(k0 + kk) * lda + m0 + r
                                                          : A + (long)(m0 + r) * lda + k0 + kk);
        ra[4 * i] = v.x, ra[4 * i + 1] = v.y, ra[4 * i + 2] = v.z, ra[4 * i + 3] = v.w;
      } else {
#pragma unroll
        for (int j = 0; j < 4; j++)
          ra[4 * i + j] = TA ? at<TA>(A, lda, m, k, m0 + r + j, k0 + kk) : at<TA>(A, lda, m, k, m0 + r, k0 + kk + j);
      }
      bRun(i, kk, c);
      if (bVec && kIn) {
        float4 v = *reinterpret_cast<const float4*>(TB ? B + (long)(n0 + c) * ldb + k0 + kk
                                                          : B + (long)(k0 + kk) * ldb + n0 + c);
        rb[4 * i] = v.x, rb[4 * i + 1] = v.y, rb[4 * i + 2] = v.z, rb[4 * i + 3] = v.w;
      } else {
#pragma unroll
        for (int j = 0; j < 4; j++)
          rb[4 * i + j] = TB ? at<TB>(B, ldb, k, n, k0 + kk + j, n0 + c) : at<TB>(B, ldb, k, n, k0 + kk, n0 + c + j);
      }
    }
  };
  auto store = [&](int buf) {
#pragma unroll
    for (int i = 0; i < 2; i++) {
      int r, kk, c;
      aRun(i, r, kk);
      float* a = As(buf);
      if (TA) {
#pragma unroll
        for (int j = 0; j < 4; j++) a[(r + j) * AS_LD + kk] = wmma::__float_to_tf32(ra[4 * i + j]);
      } else {
        *reinterpret_cast<float4*>(a + r * AS_LD + kk) =
            make_float4(wmma::__float_to_tf32(ra[4 * i]), wmma::__float_to_tf32(ra[4 * i + 1]),
                        wmma::__float_to_tf32(ra[4 * i + 2]), wmma::__float_to_tf32(ra[4 * i + 3]));
      }
      bRun(i, kk, c);
      float* b = Bs(buf);
      if (TB) {
#pragma unroll
        for (int j = 0; j < 4; j++) b[(kk + j) * BS_LD + c] = wmma::__float_to_tf32(rb[4 * i + j]);
      } else {
        *reinterpret_cast<float4*>(b + kk * BS_LD + c) =
            make_float4(wmma::__float_to_tf32(rb[4 * i]), wmma::__float_to_tf32(rb[4 * i + 1]),
                        wmma::__float_to_tf32(rb[4 * i + 2]), wmma::__float_to_tf32(rb[4 * i + 3]));
      }
    }
  };
  if (tiles > 0) {
    load(0);
    store(0);
  }
  __syncthreads();
  for (int t = 0; t < tiles; t++) {
    const int buf = t & 1;
    if (t + 1 < tiles) load((t + 1) * TBK);
#pragma unroll
    for (int ks = 0; ks < TBK; ks += 8) {
      wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fa;
      wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fb[2];
#pragma unroll
      for (int j = 0; j < 2; j++) wmma::load_matrix_sync(fb[j], Bs(buf) + ks * BS_LD + wn + j * 16, BS_LD);
#pragma unroll
      for (int i = 0; i < 4; i++) {  // one A fragment at a time: fewer registers, two blocks fit
        wmma::load_matrix_sync(fa, As(buf) + (wm + i * 16) * AS_LD + ks, AS_LD);
#pragma unroll
        for (int j = 0; j < 2; j++) wmma::mma_sync(acc[i][j], fa, fb[j], acc[i][j]);
      }
    }
    if (t + 1 < tiles) store(buf ^ 1);
    __syncthreads();
  }
  // Each warp writes its fragments through its own 16 x 16 scratch (in the tiles' memory, free now),
  // applying alpha and beta.
  float* const cs = smem + warp * 256;
#pragma unroll
  for (int i = 0; i < 4; i++) {
#pragma unroll
    for (int j = 0; j < 2; j++) {
      wmma::store_matrix_sync(cs, acc[i][j], 16, wmma::mem_row_major);
      __syncwarp();
      for (int e = lane; e < 256; e += 32) {
        int r = m0 + wm + i * 16 + (e >> 4), c = n0 + wn + j * 16 + (e & 15);
        if (r < m && c < n) {
          float* p = C + (long)r * ldc + c;
          float v = alpha * cs[e];
          *p = beta == 0.f ? v : v + beta * *p;
        }
      }
      __syncwarp();
    }
  }
}

}  // namespace

#define CORTADO_GEMM(name, impl, minBlocks)                                                          \
  extern "C" __global__ void __launch_bounds__(256, minBlocks)                                               \
      name(int m, int n, int k, float alpha, const float* __restrict__ A, int lda, long sA,                  \
           const float* __restrict__ B, int ldb, long sB, float beta, float* __restrict__ C, int ldc, long sC,   \
           int splits, int kc) {                                                                             \
    impl(m, n, k, alpha, A, lda, sA, B, ldb, sB, beta, C, ldc, sC, splits, kc);                              \
  }

CORTADO_GEMM(gemm_f32_nn, (gemm_f32<128, false, false>), 2)
CORTADO_GEMM(gemm_f32_nt, (gemm_f32<128, false, true>), 2)
CORTADO_GEMM(gemm_f32_tn, (gemm_f32<128, true, false>), 2)
CORTADO_GEMM(gemm_f32_tt, (gemm_f32<128, true, true>), 2)
CORTADO_GEMM(gemm_f32m64_nn, (gemm_f32<64, false, false>), 3)
CORTADO_GEMM(gemm_f32m64_nt, (gemm_f32<64, false, true>), 3)
CORTADO_GEMM(gemm_f32m64_tn, (gemm_f32<64, true, false>), 3)
CORTADO_GEMM(gemm_f32m64_tt, (gemm_f32<64, true, true>), 3)
CORTADO_GEMM(gemm_tf32_nn, (gemm_tf32<false, false>), 2)
CORTADO_GEMM(gemm_tf32_nt, (gemm_tf32<false, true>), 2)
CORTADO_GEMM(gemm_tf32_tn, (gemm_tf32<true, false>), 2)
CORTADO_GEMM(gemm_tf32_tt, (gemm_tf32<true, true>), 2)

// Split-K's second pass: C[p] = alpha * sum over s of W[p * splits + s] + beta * C[p], W's slices m x n dense.
extern "C" __global__ void gemm_splitk_sum(int batch, int splits, int m, int n, const float* __restrict__ W,
                                           float alpha, float beta, float* __restrict__ C, int ldc, long sC) {
  const long mn = (long)m * n;
  CORTADO_LOOP(idx, batch * mn) {
    long p = idx / mn, e = idx % mn;
    const float* w = W + p * splits * mn + e;
    float s = 0.f;
#pragma unroll 8
    for (int i = 0; i < splits; i++) s += w[i * mn];
    float* c = C + p * sC + (e / n) * ldc + e % n;
    *c = beta == 0.f ? alpha * s : alpha * s + beta * *c;
  }
}
