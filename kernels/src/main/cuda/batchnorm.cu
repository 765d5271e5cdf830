// Per-channel and per-row normalization and affine maps. CPU ops: org.cortado.engine.layers.BatchNorm (with
// a Scale folded into it, as the engine's Net folds the Caffe idiom BatchNorm + Scale),
// org.cortado.engine.layers.Scale and org.cortado.engine.layers.MVN. BatchNorm views its bottom as
// (N, C, S); Scale as (outer, dim, inner); MVN as (rows, D). The reductions run one block per channel (per
// row for MVN), in double; 256 threads per block.
#include "common.cuh"

// Block c's sums over channel c of an (outer, C, inner) layout: sum(a) and sum(a * b), in double, valid in
// thread 0. Every thread has finished reading a and b when it returns (the sums synchronize the block).
__device__ __forceinline__ void channel_sums(long outer, int C, long inner, int c, const float* a, const float* b,
                                             double& sa, double& sab) {
  sa = 0;
  sab = 0;
  for (long i = threadIdx.x; i < outer * inner; i += blockDim.x) {
    long k = ((i / inner) * C + c) * inner + i % inner;
    sa += a[k];
    sab += (double)a[k] * b[k];
  }
  sa = cortado_block_sum(sa);
  sab = cortado_block_sum(sab);
}

// TRAIN statistics: mean[c], invStd[c] = 1/sqrt(var + eps) with the biased variance, and the running sums
// updated as the layer does (mean_sum = mean + f * mean_sum, var_sum = m/(m-1) * var + f * var_sum,
// factor = f * factor + 1).
extern "C" __global__ void bn_train_stats(int N, int C, int S, const float* __restrict__ x, float f, float eps,
                                          float* __restrict__ mean, float* __restrict__ invStd,
                                          float* __restrict__ meanSum, float* __restrict__ varSum,
                                          float* __restrict__ factor) {
  const int c = blockIdx.x;
  const long m = (long)N * S;
  double s, sq;
  channel_sums(N, C, S, c, x, x, s, sq);
  if (threadIdx.x == 0) {
    double mu = s / m;
    double var = fmax(0.0, sq / m - mu * mu);
    mean[c] = (float)mu;
    invStd[c] = (float)(1.0 / sqrt(var + eps));
    double correction = m > 1 ? (double)m / (m - 1) : 1.0;
    meanSum[c] = (float)(mu + f * meanSum[c]);
    varSum[c] = (float)(correction * var + f * varSum[c]);
    if (c == 0) factor[0] = __fadd_rn(__fmul_rn(f, factor[0]), 1.f);  // as the CPU rounds it, unfused
  }
}

// Global statistics (TEST, use_global_stats): mean = mean_sum / factor, var = var_sum / factor (both 0
// while the factor is 0).
extern "C" __global__ void bn_global_stats(int C, const float* __restrict__ meanSum, const float* __restrict__ varSum,
                                           const float* __restrict__ factor, float eps, float* __restrict__ mean,
                                           float* __restrict__ invStd) {
  CORTADO_LOOP(c, C) {
    double s = factor[0] == 0.f ? 0.0 : 1.0 / factor[0];
    mean[c] = (float)(s * meanSum[c]);
    invStd[c] = (float)(1.0 / sqrt(s * varSum[c] + eps));
  }
}

// xnorm = (x - mean[c]) * invStd[c]; y = xnorm, or gamma[c] * xnorm + beta[c] with a folded Scale (gamma
// non-null; beta may be null). y may be x (in place).
extern "C" __global__ void bn_forward(int N, int C, int S, const float* x, const float* __restrict__ mean,
                                      const float* __restrict__ invStd, const float* __restrict__ gamma,
                                      const float* __restrict__ beta, float* __restrict__ xnorm, float* y) {
  CORTADO_LOOP(i, (long)N * C * S) {
    int c = (i / S) % C;
    float v = (x[i] - mean[c]) * invStd[c];
    xnorm[i] = v;
    y[i] = gamma == nullptr ? v : __fadd_rn(__fmul_rn(v, gamma[c]), beta == nullptr ? 0.f : beta[c]);
  }
}

// Backward, one block per channel. With batch statistics:
//   dx = g * (dy - mean_c(dy) - xnorm * mean_c(dy * xnorm)) * invStd[c],  g = gamma[c] or 1;
// with global statistics: dx = g * dy * invStd[c]. With a folded Scale also dgamma[c] += sum(dy * xnorm) and
// dbeta[c] += sum(dy) (dbeta may be null). dx may be null (no propagation) or dy (in place).
extern "C" __global__ void bn_backward(int N, int C, int S, const float* __restrict__ xnorm, const float* dy,
                                       const float* __restrict__ invStd, int global, const float* __restrict__ gamma,
                                       float* __restrict__ dgamma, float* __restrict__ dbeta, float* dx) {
  const int c = blockIdx.x;
  const long m = (long)N * S;
  __shared__ float means[2];
  if (gamma != nullptr || !global) {
    double sdy, sdyy;
    channel_sums(N, C, S, c, dy, xnorm, sdy, sdyy);
    if (threadIdx.x == 0) {
      if (dgamma != nullptr) dgamma[c] += (float)sdyy;
      if (dbeta != nullptr) dbeta[c] += (float)sdy;
      means[0] = (float)(sdy / m);
      means[1] = (float)(sdyy / m);
    }
  }
  __syncthreads();
  if (dx == nullptr) return;
  const float gs = (float)((gamma == nullptr ? 1.0 : (double)gamma[c]) * invStd[c]);
  if (global) {
    for (long i = threadIdx.x; i < m; i += blockDim.x) {
      long k = ((i / S) * C + c) * (long)S + i % S;
      dx[k] = dy[k] * gs;
    }
    return;
  }
  const float a = means[0], b = means[1];
  for (long i = threadIdx.x; i < m; i += blockDim.x) {
    long k = ((i / S) * C + c) * (long)S + i % S;
    dx[k] = (dy[k] - a - xnorm[k] * b) * gs;
  }
}

// Scale: y[o, d, i] = x[o, d, i] * s[d] (+ b[d]); b may be null; y may be x (in place).
extern "C" __global__ void scale_forward(int outer, int dim, int inner, const float* x, const float* __restrict__ s,
                                         const float* __restrict__ b, float* y) {
  CORTADO_LOOP(i, (long)outer * dim * inner) {
    int d = (i / inner) % dim;
    y[i] = __fadd_rn(__fmul_rn(x[i], s[d]), b == nullptr ? 0.f : b[d]);
  }
}

// Scale's backward, one block per d: db[d] += sum(dy); ds[d] += sum(dy * x) (ds[d] = ... when the scale is a
// bottom, accumulate 0); dx = dy * s[d]. db, ds and dx may each be null; dx may be dy (in place); x is the
// forward's input (a copy of it when the layer ran in place).
extern "C" __global__ void scale_backward(int outer, int dim, int inner, const float* __restrict__ x, const float* dy,
                                          const float* __restrict__ s, float* __restrict__ ds, int accumulate,
                                          float* __restrict__ db, float* dx) {
  const int d = blockIdx.x;
  const long m = (long)outer * inner;
  if (ds != nullptr || db != nullptr) {
    double sdy, sdyx;
    channel_sums(outer, dim, inner, d, dy, x, sdy, sdyx);
    if (threadIdx.x == 0) {
      if (db != nullptr) db[d] += (float)sdy;
      if (ds != nullptr) ds[d] = accumulate ? ds[d] + (float)sdyx : (float)sdyx;
    }
  }
  __syncthreads();
  if (dx == nullptr) return;
  const float sd = s[d];
  for (long i = threadIdx.x; i < m; i += blockDim.x) {
    long k = ((i / inner) * dim + d) * (long)inner + i % inner;
    dx[k] = dy[k] * sd;
  }
}

// MVN's forward, one block per row of D values: mean and the population std = sqrt(mean((x - mean)^2)) in
// double, two passes as the CPU; y = (x - mean) * is with is = 1 / (std + eps) (1 without normalize), kept
// in invStd[row] for the backward. y may be x (every read of x precedes the barriers before the writes).
extern "C" __global__ void mvn_forward(long D, int normalize, float eps, const float* x, double* __restrict__ invStd,
                                       float* y) {
  __shared__ double shared_mean, shared_is;
  const long base = (long)blockIdx.x * D;
  double s = 0;
  for (long i = threadIdx.x; i < D; i += blockDim.x) s += x[base + i];
  s = cortado_block_sum(s);
  if (threadIdx.x == 0) shared_mean = s / D;
  __syncthreads();
  const double mean = shared_mean;
  double is = 1;
  if (normalize) {
    double q = 0;
    for (long i = threadIdx.x; i < D; i += blockDim.x) {
      double d = x[base + i] - mean;
      q += d * d;
    }
    q = cortado_block_sum(q);
    if (threadIdx.x == 0) shared_is = 1.0 / (sqrt(q / D) + (double)eps);
    __syncthreads();
    is = shared_is;
  }
  if (threadIdx.x == 0) invStd[blockIdx.x] = is;
  for (long i = threadIdx.x; i < D; i += blockDim.x) y[base + i] = (float)((x[base + i] - mean) * is);
}

// MVN's backward (Caffe's formula), one block per row: with normalize,
// dx = (dy - mean(dy) - y * mean(dy * y)) * invStd[row], else dx = dy - mean(dy). dx may be dy.
extern "C" __global__ void mvn_backward(long D, int normalize, const double* __restrict__ invStd, const float* y,
                                        const float* dy, float* dx) {
  __shared__ double shared_dy, shared_dyy;
  const long base = (long)blockIdx.x * D;
  double sdy, sdyy;
  channel_sums(1, 1, D, 0, dy + base, y + base, sdy, sdyy);
  if (threadIdx.x == 0) {
    shared_dy = sdy / D;
    shared_dyy = sdyy / D;
  }
  __syncthreads();
  const double meanDy = shared_dy, meanDyY = shared_dyy, is = invStd[blockIdx.x];
  for (long i = threadIdx.x; i < D; i += blockDim.x) {
    long k = base + i;
    dx[k] = normalize ? (float)((dy[k] - meanDy - y[k] * meanDyY) * is) : (float)(dy[k] - meanDy);
  }
}
