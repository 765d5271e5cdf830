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
