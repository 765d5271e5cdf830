// Element-wise combinations and strided copies. CPU ops: org.cortado.engine.layers.Eltwise (SUM, PROD, MAX
// with Caffe's tie-breaking), Dropout (y = x * mask, the mask drawn on the host from the layer's own
// stream), Concat and Slice (rows of a (outer, inner) view copied between blobs), Crop (a window copied),
// Embed (rows of the weights gathered by index, and their gradients added back in the CPU's order).
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

// Crop (org.cortado.engine.layers.Crop): y, of dims (d0, d1, ..., d5) (leading dims 1 for lower ranks), is the
// window of x whose element for y's index (i0, ..., i5) is x[base + i0*s0 + ... + i5*s5] (base: the offsets
// times x's strides). Forward (back = 0): y[i] = x[at(i)]; backward (back = 1): x[at(i)] = y[i], with x the
// bottom's gradient (zeroed before) and y the top's.
extern "C" __global__ void crop_copy(long n, int d1, int d2, int d3, int d4, int d5, long s0, long s1, long s2,
                                     long s3, long s4, long s5, long base, float* __restrict__ x,
                                     float* __restrict__ y, int back) {
  CORTADO_LOOP(i, n) {
    long t = i, at = base;
    at += (t % d5) * s5; t /= d5;
    at += (t % d4) * s4; t /= d4;
    at += (t % d3) * s3; t /= d3;
    at += (t % d2) * s2; t /= d2;
    at += (t % d1) * s1; t /= d1;
    at += t * s0;
    if (back) {
      x[at] = y[i];
    } else {
      y[i] = x[at];
    }
  }
}

// The Embed layer's forward, one thread per output element: row n of y (m rows of K) is row index[n] of w
// (dim rows of K), plus b when there is one. An index that is not an integer in [0, dim) leaves its row 0
// and is reported in bad (its position + 1; the first any thread saw).
extern "C" __global__ void embed_forward(long m, int K, int dim, const float* __restrict__ index,
                                         const float* __restrict__ w, const float* __restrict__ b,
                                         float* __restrict__ y, int* __restrict__ bad) {
  CORTADO_LOOP(k, m * K) {
    long n = k / K;
    int j = (int)(k % K);
    float v = index[n];
    if (!(v >= 0.f && v < (float)dim && floorf(v) == v)) {
      if (j == 0) atomicCAS(bad, 0, (int)n + 1);
      y[k] = 0.f;
      continue;
    }
    float x = w[(long)v * K + j];
    y[k] = b == nullptr ? x : __fadd_rn(x, b[j]);
  }
}

// Its weight gradient, one thread per column j: dw[index[n]][j] += dy[n][j] for n = 0, 1, ... in order,
// the CPU's order, so the sums round alike (no atomics). The forward has checked the indices.
extern "C" __global__ void embed_backward(long m, int K, const float* __restrict__ index, const float* __restrict__ dy,
                                          float* __restrict__ dw) {
  CORTADO_LOOP(j, K) {
    for (long n = 0; n < m; n++) {
      long r = (long)index[n];
      dw[r * K + j] += dy[n * K + j];
    }
  }
}
