// Reductions and element-wise helpers. CPU ops: org.cortado.engine.ops.Elementwise (sum, sumsq, axpy,
// scale), the bias gradient of org.cortado.engine.ops.Conv / the InnerProduct layer, and the layers
// org.cortado.engine.layers.Reduction and org.cortado.engine.layers.Tile.
#include "common.cuh"

// out[blockIdx.x] = the sum (or sum of squares) of this block's grid-stride share of x, in double; a
// second launch with one block sums the partials. reduce_sum_final writes a double.
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

extern "C" __global__ void reduce_sum_final(int parts, const double* __restrict__ partial, double* __restrict__ out) {
  double s = 0;
  for (int i = threadIdx.x; i < parts; i += blockDim.x) s += partial[i];
  s = cortado_block_sum(s);
  if (threadIdx.x == 0) out[0] = s;
}

// db[c] = beta * db[c] + sum over n < N and s < S of dy[(n*C + c)*S + s]: one block per channel, each
// thread with four loads in flight (one channel holds every position of the batch: 100k for a batch of
// 100 32x32 images, which one load at a time per thread would wait on).
extern "C" __global__ void channel_sum(int N, int C, long S, const float* __restrict__ dy, float beta,
                                       float* __restrict__ db) {
  const int c = blockIdx.x;
  const long m = (long)N * S, step = blockDim.x;
  auto at = [&](long i) { return dy[((i / S) * C + c) * S + i % S]; };
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  long i = threadIdx.x;
  for (; i + 3 * step < m; i += 4 * step) {
    float v0 = at(i), v1 = at(i + step), v2 = at(i + 2 * step), v3 = at(i + 3 * step);
    s0 += v0, s1 += v1, s2 += v2, s3 += v3;
  }
  for (; i < m; i += step) s0 += at(i);
  double s = cortado_block_sum((s0 + s1) + (s2 + s3));
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

// The Reduction layer's forward, one block per row of `inner` values: y[row] = scale * sum over the row of
// x (op 0 SUM, 3 MEAN), |x| (1 ASUM) or x * x (2 SUMSQ), summed in double; scale = coeff, coeff / inner for
// MEAN, as the CPU rounds it.
extern "C" __global__ void reduction_forward(long inner, int op, float coeff, const float* __restrict__ x,
                                             float* __restrict__ y) {
  const long off = (long)blockIdx.x * inner;
  double s = 0;
  for (long i = threadIdx.x; i < inner; i += blockDim.x) {
    float v = x[off + i];
    s += op == 1 ? fabs((double)v) : op == 2 ? (double)v * v : (double)v;
  }
  s = cortado_block_sum(s);
  if (threadIdx.x == 0) y[blockIdx.x] = (float)((op == 3 ? (double)coeff / inner : (double)coeff) * s);
}

// Its backward, one thread per element: dx = g (SUM, MEAN), signum(x) * g (ASUM), 2 x g (SUMSQ) with
// g = coeff * dy[row] (MEAN: coeff / inner * dy[row], rounded once).
extern "C" __global__ void reduction_backward(long outer, long inner, int op, float coeff, const float* __restrict__ x,
                                              const float* __restrict__ dy, float* __restrict__ dx) {
  CORTADO_LOOP(k, outer * inner) {
    long o = k / inner;
    float g = op == 3 ? (float)((double)coeff / inner * dy[o]) : coeff * dy[o];
    float v = x[k];
    float sign = v > 0.f ? 1.f : v < 0.f ? -1.f : v;  // Java's Math.signum: 0 and NaN pass through
    dx[k] = op == 1 ? sign * g : op == 2 ? 2.f * v * g : g;
  }
}

// The Tile layer: y (outer, tiles, inner) repeats each row of x (outer, inner) `tiles` times; the backward
// sums the tiles' gradients in tile order, as the CPU does.
extern "C" __global__ void tile_forward(long outer, int tiles, long inner, const float* __restrict__ x,
                                        float* __restrict__ y) {
  CORTADO_LOOP(k, outer * tiles * inner) {
    y[k] = x[k / (tiles * inner) * inner + k % inner];
  }
}

extern "C" __global__ void tile_backward(long outer, int tiles, long inner, const float* __restrict__ dy,
                                         float* __restrict__ dx) {
  CORTADO_LOOP(k, outer * inner) {
    const float* d = dy + k / inner * tiles * inner + k % inner;
    float s = d[0];
    for (int t = 1; t < tiles; t++) s += d[(long)t * inner];
    dx[k] = s;
  }
}
