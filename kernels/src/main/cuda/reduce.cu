// Reductions and element-wise helpers. CPU ops: org.cortado.engine.ops.Elementwise (sum, sumsq, axpy,
// scale) and the bias gradient of org.cortado.engine.ops.Conv / the InnerProduct layer.
#include "common.cuh"

// out[blockIdx.x] = the sum (or sum of squares) of this block's grid-stride share of x, in double; a
// second launch with one block sums the partials. reduce_sum_final writes a float.
extern "C" __global__ void reduce_sum_partial(long n, const float* __restrict__ x, int squares,
                                              double* __restrict__ partial) {
  double s = 0;
  CORTADO_LOOP(i, n) {
    float v = x[i];
    s += squares ? (double)v * v : (double)v;
  }
  s = cortado_block_sum(s);
  if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

extern "C" __global__ void reduce_sum_final(int parts, const double* __restrict__ partial, float* __restrict__ out) {
  double s = 0;
  for (int i = threadIdx.x; i < parts; i += blockDim.x) s += partial[i];
  s = cortado_block_sum(s);
  if (threadIdx.x == 0) out[0] = (float)s;
}

// db[c] = beta * db[c] + sum over n < N and s < S of dy[(n*C + c)*S + s]: one block per channel.
extern "C" __global__ void channel_sum(int N, int C, long S, const float* __restrict__ dy, float beta,
                                       float* __restrict__ db) {
  const int c = blockIdx.x;
  const long m = (long)N * S;
  double s = 0;
  for (long i = threadIdx.x; i < m; i += blockDim.x) s += dy[((i / S) * C + c) * S + i % S];
  s = cortado_block_sum(s);
  if (threadIdx.x == 0) db[c] = (float)(beta == 0.f ? s : s + (double)beta * db[c]);
}

// y[i] = a * x[i] + y[i]
extern "C" __global__ void axpy(long n, float a, const float* __restrict__ x, float* __restrict__ y) {
  CORTADO_LOOP(i, n) { y[i] = fmaf(a, x[i], y[i]); }
}

// x[i] = a * x[i]
extern "C" __global__ void scale(long n, float a, float* __restrict__ x) {
  CORTADO_LOOP(i, n) { x[i] *= a; }
}

// x[i] = v
extern "C" __global__ void fill(long n, float v, float* __restrict__ x) {
  CORTADO_LOOP(i, n) { x[i] = v; }
}

// y[(r, c)] += bias[c] for a row-major (rows, cols) y: an InnerProduct's bias.
extern "C" __global__ void add_row_bias(long rows, int cols, const float* __restrict__ bias, float* __restrict__ y) {
  CORTADO_LOOP(i, rows * cols) { y[i] += bias[i % cols]; }
}

// db[c] = beta * db[c] + sum over rows of dy[(r, c)]: one thread per column, rows summed in double.
extern "C" __global__ void column_sum(long rows, int cols, const float* __restrict__ dy, float beta,
                                      float* __restrict__ db) {
  CORTADO_LOOP(c, cols) {
    double s = 0;
    for (long r = 0; r < rows; r++) s += dy[r * cols + c];
    db[c] = (float)(beta == 0.f ? s : s + (double)beta * db[c]);
  }
}
