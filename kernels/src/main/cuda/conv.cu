// Convolution as im2col + GEMM over a whole batch. CPU op: org.cortado.engine.ops.Im2col with Caffe's
// column layout, applied to every image of the batch side by side: the column matrix is (C*kh*kw, N*P)
// with P = outH*outW, image n's columns at n*P (Im2col.im2col(g, x, n*C*H*W, col, n*P, N*P)). One GEMM
// then multiplies the weights with all images at once; the permutes move between (N, C, P) and (C, N*P).
// Deconvolution (org.cortado.engine.layers.Deconvolution) is the same ops with the roles swapped, plus
// channel_bias_add.
#include "common.cuh"

// col[(c*kh + i)*kw + j][n*P + oy*ow + ox] = x[n][c][oy*sh - ph + i*dh][ox*sw - pw + j*dw], 0 in the padding.
extern "C" __global__ void im2col_batch(int N, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw,
                                        int dh, int dw, int oh, int ow, const float* __restrict__ x,
                                        float* __restrict__ col) {
  const long P = (long)oh * ow, NP = N * P;
  CORTADO_LOOP(idx, (long)C * NP) {
    int ox = idx % ow;
    long t = idx / ow;
    int oy = t % oh;
    t /= oh;
    int n = t % N;
    int c = t / N;
    const float* xp = x + ((long)n * C + c) * H * W;
    float* cp = col + (long)c * kh * kw * NP + n * P + (long)oy * ow + ox;
    for (int i = 0; i < kh; i++) {
      int iy = oy * sh - ph + i * dh;
      for (int j = 0; j < kw; j++) {
        int ix = ox * sw - pw + j * dw;
        *cp = (iy >= 0 && iy < H && ix >= 0 && ix < W) ? xp[(long)iy * W + ix] : 0.f;
        cp += NP;
      }
    }
  }
}

// The adjoint: every image element sums the column entries that were copied from it (CPU op:
// Im2col.col2im). One thread per image element, no atomics, so the result is deterministic.
extern "C" __global__ void col2im_batch(int N, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw,
                                        int dh, int dw, int oh, int ow, const float* __restrict__ col,
                                        float* __restrict__ x) {
  const long P = (long)oh * ow, NP = N * P;
  const int extentH = (kh - 1) * dh + 1, extentW = (kw - 1) * dw + 1;
  CORTADO_LOOP(idx, (long)N * C * H * W) {
    int ix = idx % W + pw;
    long t = idx / W;
    int iy = t % H + ph;
    t /= H;
    int c = t % C;
    int n = t / C;
    int y0 = iy < extentH ? 0 : (iy - extentH) / sh + 1, y1 = min(iy / sh + 1, oh);
    int x0 = ix < extentW ? 0 : (ix - extentW) / sw + 1, x1 = min(ix / sw + 1, ow);
    float v = 0.f;
    for (int oy = y0; oy < y1; oy++) {
      int i = iy - oy * sh;
      if (i % dh != 0) continue;
      i /= dh;
      for (int ox = x0; ox < x1; ox++) {
        int j = ix - ox * sw;
        if (j % dw != 0) continue;
        j /= dw;
        v += col[((long)(c * kh + i) * kw + j) * NP + n * P + (long)oy * ow + ox];
      }
    }
    x[idx] = v;
  }
}

// dst (C, N*P) from src (N, C, P): a convolution's output gradient as the GEMM wants it.
extern "C" __global__ void nchw_to_cnp(int N, int C, long P, const float* __restrict__ src, float* __restrict__ dst) {
  CORTADO_LOOP(idx, (long)N * C * P) {
    long p = idx % P;
    long t = idx / P;
    int c = t % C;
    int n = t / C;
    dst[(long)c * N * P + n * P + p] = src[idx];
  }
}

// dst (N, C, P) from src (C, N*P), plus bias[c] when bias is not null: the GEMM's result as the output.
extern "C" __global__ void cnp_to_nchw_bias(int N, int C, long P, const float* __restrict__ src,
                                            const float* __restrict__ bias, float* __restrict__ dst) {
  CORTADO_LOOP(idx, (long)N * C * P) {
    long p = idx % P;
    long t = idx / P;
    int c = t % C;
    int n = t / C;
    float v = src[(long)c * N * P + n * P + p];
    dst[idx] = bias ? v + bias[c] : v;
  }
}

// y[n][c][p] += bias[c]: Deconvolution's bias (org.cortado.engine.layers.Deconvolution.forward), after the
// backward-data pass of the convolution from y to the layer's input has written y.
extern "C" __global__ void channel_bias_add(int N, int C, long P, const float* __restrict__ bias,
                                            float* __restrict__ y) {
  CORTADO_LOOP(idx, (long)N * C * P) { y[idx] = __fadd_rn(y[idx], bias[(idx / P) % C]); }
}
