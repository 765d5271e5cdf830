// Element-wise combinations and strided copies. CPU ops: org.cortado.engine.layers.Eltwise (SUM, PROD, MAX
// with Caffe's tie-breaking), Dropout (y = x * mask, the mask drawn on the host from the layer's own
// stream), Concat and Slice (rows of a (outer, inner) view copied between blobs).
#include "common.cuh"

// out = a * b, element by element (out may be a or b)
extern "C" __global__ void mul(long n, const float* a, const float* b, float* out) {
  CORTADO_LOOP(i, n) { out[i] = a[i] * b[i]; }
}

// y = a * x (y may be x)
extern "C" __global__ void scale_copy(long n, float a, const float* x, float* y) {
  CORTADO_LOOP(i, n) { y[i] = a * x[i]; }
}

// y = a * x + y, rounded as the CPU's y += a * x (product, then sum)
extern "C" __global__ void axpy_unfused(long n, float a, const float* __restrict__ x, float* __restrict__ y) {
  CORTADO_LOOP(i, n) { y[i] = __fadd_rn(y[i], __fmul_rn(a, x[i])); }
}

// Eltwise PROD's unstable gradient: dx = dy * y / x
extern "C" __global__ void mul_div(long n, const float* __restrict__ dy, const float* __restrict__ y,
                                   const float* __restrict__ x, float* __restrict__ dx) {
  CORTADO_LOOP(i, n) { dx[i] = dy[i] * y[i] / x[i]; }
}

// Eltwise MAX over bottoms 0 and 1: y = x0 > x1 ? x0 : x1 (a tie goes to bottom 1, as in Caffe)
extern "C" __global__ void eltwise_max_first(long n, const float* __restrict__ x0, const float* __restrict__ x1,
                                             float* __restrict__ y, int* __restrict__ argmax) {
  CORTADO_LOOP(i, n) {
    bool first = x0[i] > x1[i];
    y[i] = first ? x0[i] : x1[i];
    argmax[i] = first ? 0 : 1;
  }
}

// Eltwise MAX, bottom b > 1: takes over where strictly greater (a tie keeps the earlier bottom)
extern "C" __global__ void eltwise_max_next(long n, const float* __restrict__ x, int b, float* __restrict__ y,
                                            int* __restrict__ argmax) {
  CORTADO_LOOP(i, n) {
    if (x[i] > y[i]) {
      y[i] = x[i];
      argmax[i] = b;
    }
  }
}

// Eltwise MAX backward for bottom b: dx = dy where b won, else 0
extern "C" __global__ void eltwise_max_backward(long n, int b, const int* __restrict__ argmax,
                                                const float* __restrict__ dy, float* __restrict__ dx) {
  CORTADO_LOOP(i, n) { dx[i] = argmax[i] == b ? dy[i] : 0.f; }
}

// dst[r * dstStride + j] = src[r * srcStride + j] for r < rows, j < width (src, dst already at their offsets)
extern "C" __global__ void copy_rows(long rows, long width, const float* __restrict__ src, long srcStride,
                                     float* __restrict__ dst, long dstStride) {
  CORTADO_LOOP(i, rows * width) {
    long r = i / width, j = i % width;
    dst[r * dstStride + j] = src[r * srcStride + j];
  }
}
