// Max and average pooling over independent (h, w) planes. CPU op: org.cortado.engine.ops.Pooling
// (Caffe's window placement; MAX: padding never wins, the first maximum in row-major order on ties,
// mask = its index y*w + x in the plane; AVE: divided by the window clipped to the padded plane).
// Backward overwrites dx and gathers: each input element sums the outputs whose windows hold it, so no
// atomics and the result is deterministic.
#include "common.cuh"

// The outputs [a, b) along one axis whose window holds input position i: o*s - p <= i < o*s - p + k.
__device__ __forceinline__ void covering(int i, int k, int s, int p, int outs, int& a, int& b) {
  a = (i + p < k) ? 0 : (i + p - k) / s + 1;
  b = min((i + p) / s + 1, outs);
}

#define POOL_ARGS int planes, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int oh, int ow

extern "C" __global__ void max_pool_forward(POOL_ARGS, const float* __restrict__ x, float* __restrict__ y,
                                            int* __restrict__ mask) {
  CORTADO_LOOP(idx, (long)planes * oh * ow) {
    int ox = idx % ow;
    int oy = (idx / ow) % oh;
    long p = idx / ((long)oh * ow);
    int y0 = oy * sh - ph, x0 = ox * sw - pw;
    int ya = max(y0, 0), yb = min(y0 + kh, h), xa = max(x0, 0), xb = min(x0 + kw, w);
    const float* xp = x + p * h * w;
    float best = xp[ya * w + xa];
    int arg = ya * w + xa;
    for (int iy = ya; iy < yb; iy++)
      for (int ix = xa; ix < xb; ix++) {
        float v = xp[iy * w + ix];
        if (v > best) { best = v; arg = iy * w + ix; }
      }
    y[idx] = best;
    if (mask) mask[idx] = arg;
  }
}

extern "C" __global__ void max_pool_backward(POOL_ARGS, const float* __restrict__ dy, const int* __restrict__ mask,
                                             float* __restrict__ dx) {
  CORTADO_LOOP(idx, (long)planes * h * w) {
    int ix = idx % w;
    int iy = (idx / w) % h;
    long p = idx / ((long)h * w);
    int oya, oyb, oxa, oxb;
    covering(iy, kh, sh, ph, oh, oya, oyb);
    covering(ix, kw, sw, pw, ow, oxa, oxb);
    const float* dyp = dy + p * oh * ow;
    const int* mp = mask + p * oh * ow;
    int self = iy * w + ix;
    float v = 0.f;
    for (int oy = oya; oy < oyb; oy++)
      for (int ox = oxa; ox < oxb; ox++)
        if (mp[oy * ow + ox] == self) v += dyp[oy * ow + ox];
    dx[idx] = v;
  }
}

extern "C" __global__ void ave_pool_forward(POOL_ARGS, const float* __restrict__ x, float* __restrict__ y) {
  CORTADO_LOOP(idx, (long)planes * oh * ow) {
    int ox = idx % ow;
    int oy = (idx / ow) % oh;
    long p = idx / ((long)oh * ow);
    int y0 = oy * sh - ph, x0 = ox * sw - pw;
    int size = (min(y0 + kh, h + ph) - y0) * (min(x0 + kw, w + pw) - x0);
    int ya = max(y0, 0), yb = min(y0 + kh, h), xa = max(x0, 0), xb = min(x0 + kw, w);
    const float* xp = x + p * h * w;
    float s = 0.f;
    for (int iy = ya; iy < yb; iy++)
      for (int ix = xa; ix < xb; ix++) s += xp[iy * w + ix];
    y[idx] = s / size;
  }
}

extern "C" __global__ void ave_pool_backward(POOL_ARGS, const float* __restrict__ dy, float* __restrict__ dx) {
  CORTADO_LOOP(idx, (long)planes * h * w) {
    int ix = idx % w;
    int iy = (idx / w) % h;
    long p = idx / ((long)h * w);
    int oya, oyb, oxa, oxb;
    covering(iy, kh, sh, ph, oh, oya, oyb);
    covering(ix, kw, sw, pw, ow, oxa, oxb);
    const float* dyp = dy + p * oh * ow;
    float v = 0.f;
    for (int oy = oya; oy < oyb; oy++) {
      int y0 = oy * sh - ph;
      int hh = min(y0 + kh, h + ph) - y0;
      for (int ox = oxa; ox < oxb; ox++) {
        int x0 = ox * sw - pw;
        v += dyp[oy * ow + ox] / (hh * (min(x0 + kw, w + pw) - x0));
      }
    }
    dx[idx] = v;
  }
}
