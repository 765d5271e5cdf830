// Element-wise activations. CPU op: org.cortado.engine.ops.Activations (same formulas; Caffe's ReLU
// gradient at 0 is the slope). The backward of Sigmoid and TanH reads the output y. Every kernel here may
// run in place (y = x, dx = dy): each thread reads and writes its own element only.
#include "common.cuh"

extern "C" __global__ void relu_forward(long n, float slope, const float* x, float* y) {
  CORTADO_LOOP(i, n) {
    float v = x[i];
    y[i] = fmaxf(v, 0.f) + slope * fminf(v, 0.f);
  }
}

extern "C" __global__ void relu_backward(long n, float slope, const float* x, const float* dy,
                                         float* dx) {
  CORTADO_LOOP(i, n) { dx[i] = dy[i] * (x[i] > 0.f ? 1.f : slope); }
}

extern "C" __global__ void sigmoid_forward(long n, const float* x, float* y) {
  CORTADO_LOOP(i, n) { y[i] = (float)(1.0 / (1.0 + exp(-(double)x[i]))); }
}

extern "C" __global__ void sigmoid_backward(long n, const float* y, const float* dy,
                                            float* dx) {
  CORTADO_LOOP(i, n) {
    float s = y[i];
    dx[i] = dy[i] * s * (1.f - s);
  }
}

extern "C" __global__ void tanh_forward(long n, const float* x, float* y) {
  CORTADO_LOOP(i, n) { y[i] = (float)tanh((double)x[i]); }
}

extern "C" __global__ void tanh_backward(long n, const float* y, const float* dy,
                                         float* dx) {
  CORTADO_LOOP(i, n) {
    float t = y[i];
    dx[i] = dy[i] * (1.f - t * t);
  }
}

// ELU (CPU op: org.cortado.engine.layers.ELU): y = x > 0 ? x : alpha * expm1(x); backward
// dx = x > 0 ? dy : dy * (y + alpha), where x may be the output (in place keeps the sign, alpha >= 0).
extern "C" __global__ void elu_forward(long n, float alpha, const float* x, float* y) {
  CORTADO_LOOP(i, n) {
    float v = x[i];
    y[i] = v > 0.f ? v : (float)(alpha * expm1((double)v));
  }
}

extern "C" __global__ void elu_backward(long n, float alpha, const float* x, const float* y, const float* dy,
                                        float* dx) {
  CORTADO_LOOP(i, n) { dx[i] = x[i] > 0.f ? dy[i] : __fmul_rn(dy[i], __fadd_rn(y[i], alpha)); }
}

// PReLU (CPU op: org.cortado.engine.layers.PReLU) on (N, C, inner) with one slope per channel (a shared
// slope is C = 1 over (N, 1, C * inner)): y = max(x, 0) + w[c] * min(x, 0). y may be x.
extern "C" __global__ void prelu_forward(long n, int C, long inner, const float* x, const float* __restrict__ w,
                                         float* y) {
  CORTADO_LOOP(i, n) {
    float v = x[i];
    y[i] = __fadd_rn(fmaxf(v, 0.f), __fmul_rn(w[(i / inner) % C], fminf(v, 0.f)));
  }
}

// PReLU backward, one block per channel: dw[c] += sum of dy * x where x <= 0 (in double); then, if dx is not
// null, dx = x > 0 ? dy : w[c] * dy. x is the forward's input (a copy when in place); dx may be dy.
extern "C" __global__ void prelu_backward(int N, int C, long inner, const float* __restrict__ x, const float* dy,
                                          const float* __restrict__ w, float* __restrict__ dw, float* dx) {
  const int c = blockIdx.x;
  const long m = (long)N * inner;
  double s = 0;
  for (long i = threadIdx.x; i < m; i += blockDim.x) {
    long k = ((i / inner) * C + c) * inner + i % inner;
    if (x[k] <= 0.f) s += (double)dy[k] * x[k];
  }
  s = cortado_block_sum(s);
  if (threadIdx.x == 0) dw[c] += (float)s;
  __syncthreads();
  if (dx == nullptr) return;
  const float slope = w[c];
  for (long i = threadIdx.x; i < m; i += blockDim.x) {
    long k = ((i / inner) * C + c) * inner + i % inner;
    dx[k] = x[k] > 0.f ? dy[k] : slope * dy[k];
  }
}

// ---- the other element-wise layers, each as its CPU layer computes it (org.cortado.engine.layers.*):
// where the CPU rounds through double, so do these. None of them may run in place unless its CPU layer
// allows it (Exp and Swish do: their backward reads the output).

// AbsVal: y = |x|; dx = dy * sign(x) (0 at 0).
extern "C" __global__ void absval_forward(long n, const float* x, float* y) {
  CORTADO_LOOP(i, n) { y[i] = fabsf(x[i]); }
}

extern "C" __global__ void absval_backward(long n, const float* x, const float* dy, float* dx) {
  CORTADO_LOOP(i, n) {
    float v = x[i];
    dx[i] = v > 0.f ? dy[i] : v < 0.f ? -dy[i] : 0.f;
  }
}

// Power: y = (shift + scale * x)^power (the case power * scale == 0 is a fill, on the host);
// dx = dy * power * scale * (shift + scale * x)^(power - 1), power - 1 as the CPU rounds it (in float).
extern "C" __global__ void power_forward(long n, double power, double power_m1, double scale, double shift,
                                         const float* x, float* y) {
  CORTADO_LOOP(i, n) { y[i] = (float)pow(shift + scale * (double)x[i], power); }
}

extern "C" __global__ void power_backward(long n, double power, double power_m1, double scale, double shift,
                                          const float* x, const float* dy, float* dx) {
  const double diff_scale = power * scale;
  CORTADO_LOOP(i, n) {
    double d = diff_scale == 0 ? 0 : power == 1 ? diff_scale : diff_scale * pow(shift + scale * (double)x[i], power_m1);
    dx[i] = (float)(dy[i] * d);
  }
}

// Exp: y = outer * exp(inner * x) (inner = ln(base) * scale, outer = base^shift); dx = dy * y * inner.
// y may be x. (Each layer's kernels take the same constants both ways.)
extern "C" __global__ void exp_forward(long n, double inner, double outer, const float* x, float* y) {
  CORTADO_LOOP(i, n) { y[i] = (float)(outer * exp(inner * (double)x[i])); }
}

extern "C" __global__ void exp_backward(long n, double inner, double outer, const float* y, const float* dy, float* dx) {
  CORTADO_LOOP(i, n) { dx[i] = (float)((double)dy[i] * y[i] * inner); }
}

// Log: y = ln(shift + scale * x) / ln(base); dx = dy * (scale / ln(base)) / (shift + scale * x).
extern "C" __global__ void log_forward(long n, double scale, double shift, double log_base, const float* x, float* y) {
  CORTADO_LOOP(i, n) { y[i] = (float)(log(shift + scale * (double)x[i]) / log_base); }
}

extern "C" __global__ void log_backward(long n, double scale, double shift, double log_base, const float* x,
                                        const float* dy, float* dx) {
  const double num = scale / log_base;
  CORTADO_LOOP(i, n) { dx[i] = (float)(dy[i] * num / (shift + scale * (double)x[i])); }
}

// BNLL: y = x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); dx = dy * e / (e + 1), e = exp(min(x, 50)).
extern "C" __global__ void bnll_forward(long n, const float* x, float* y) {
  CORTADO_LOOP(i, n) {
    double v = x[i];
    y[i] = (float)(v > 0 ? v + log1p(exp(-v)) : log1p(exp(v)));
  }
}

extern "C" __global__ void bnll_backward(long n, const float* x, const float* dy, float* dx) {
  CORTADO_LOOP(i, n) {
    double v = x[i];
    double e = exp(v != v ? v : fmin(v, 50.0));  // NaN stays NaN, as Java's Math.min
    dx[i] = (float)(dy[i] * e / (e + 1));
  }
}

// Clip: y = max(lo, min(x, hi)) (NaN stays NaN, as Java's Math.min); dx = dy where lo <= x <= hi, else 0.
extern "C" __global__ void clip_forward(long n, float lo, float hi, const float* x, float* y) {
  CORTADO_LOOP(i, n) {
    float v = x[i];
    y[i] = v != v ? v : fmaxf(lo, fminf(v, hi));
  }
}

extern "C" __global__ void clip_backward(long n, float lo, float hi, const float* x, const float* dy, float* dx) {
  CORTADO_LOOP(i, n) {
    float v = x[i];
    dx[i] = v >= lo && v <= hi ? dy[i] : 0.f;
  }
}

// Threshold: y = x > t ? 1 : 0 (its gradient is 0 everywhere: a fill, on the host).
extern "C" __global__ void threshold_forward(long n, float t, const float* x, float* y) {
  CORTADO_LOOP(i, n) { y[i] = x[i] > t ? 1.f : 0.f; }
}

// Swish: s = sigmoid(beta * x) (kept, as a float, for the backward), y = x * s;
// dx = dy * (beta * y + s * (1 - beta * y)). y may be x.
extern "C" __global__ void swish_forward(long n, float beta, const float* x, float* s, float* y) {
  CORTADO_LOOP(i, n) {
    double v = x[i];
    double si = 1.0 / (1.0 + exp(-(double)beta * v));
    s[i] = (float)si;
    y[i] = (float)(v * si);
  }
}

extern "C" __global__ void swish_backward(long n, float beta, const float* y, const float* s, const float* dy,
                                          float* dx) {
  CORTADO_LOOP(i, n) {
    double by = (double)beta * y[i];
    dx[i] = (float)(dy[i] * (by + s[i] * (1 - by)));
  }
}
