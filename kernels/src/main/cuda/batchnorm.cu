// Caffe's BatchNorm (no scale or shift) on (N, C, S). CPU op: org.cortado.engine.layers.BatchNorm.
// One block per channel reduces that channel's N*S values in double; 256 threads per block.
#include "common.cuh"

// TRAIN statistics: mean[c], invStd[c] = 1/sqrt(var + eps) with the biased variance, and the running sums
// updated as the layer does (mean_sum = mean + f * mean_sum, var_sum = m/(m-1) * var + f * var_sum).
extern "C" __global__ void bn_train_stats(int N, int C, int S, const float* __restrict__ x, float f, float eps,
                                          float* __restrict__ mean, float* __restrict__ invStd,
                                          float* __restrict__ meanSum, float* __restrict__ varSum) {
  const int c = blockIdx.x;
  const long m = (long)N * S;
  double s = 0, sq = 0;
  for (long i = threadIdx.x; i < m; i += blockDim.x) {
    float v = x[((i / S) * C + c) * (long)S + i % S];
    s += v;
    sq += (double)v * v;
  }
  s = cortado_block_sum(s);
  sq = cortado_block_sum(sq);
  if (threadIdx.x == 0) {
    double mu = s / m;
    double var = fmax(0.0, sq / m - mu * mu);
    mean[c] = (float)mu;
    invStd[c] = (float)(1.0 / sqrt(var + eps));
    double correction = m > 1 ? (double)m / (m - 1) : 1.0;
    meanSum[c] = (float)(mu + f * meanSum[c]);
    varSum[c] = (float)(correction * var + f * varSum[c]);
  }
}

// y = (x - mean[c]) * invStd[c]
extern "C" __global__ void bn_normalize(int N, int C, int S, const float* __restrict__ x, const float* __restrict__ mean,
                                        const float* __restrict__ invStd, float* __restrict__ y) {
  CORTADO_LOOP(i, (long)N * C * S) {
    int c = (i / S) % C;
    y[i] = (x[i] - mean[c]) * invStd[c];
  }
}

// TRAIN backward: dx = (dy - mean_c(dy) - y * mean_c(dy * y)) * invStd[c], y the normalized output.
extern "C" __global__ void bn_backward(int N, int C, int S, const float* __restrict__ y, const float* __restrict__ dy,
                                       const float* __restrict__ invStd, float* __restrict__ dx) {
  const int c = blockIdx.x;
  const long m = (long)N * S;
  double sdy = 0, sdyy = 0;
  for (long i = threadIdx.x; i < m; i += blockDim.x) {
    long k = ((i / S) * C + c) * (long)S + i % S;
    sdy += dy[k];
    sdyy += (double)dy[k] * y[k];
  }
  sdy = cortado_block_sum(sdy);
  sdyy = cortado_block_sum(sdyy);
  __shared__ float means[2];
  if (threadIdx.x == 0) {
    means[0] = (float)(sdy / m);
    means[1] = (float)(sdyy / m);
  }
  __syncthreads();
  const float a = means[0], b = means[1], is = invStd[c];
  for (long i = threadIdx.x; i < m; i += blockDim.x) {
    long k = ((i / S) * C + c) * (long)S + i % S;
    dx[k] = (dy[k] - a - y[k] * b) * is;
  }
}
