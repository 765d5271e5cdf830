// Element-wise activations. CPU op: org.cortado.engine.ops.Activations (same formulas; Caffe's ReLU
// gradient at 0 is the slope). The backward of Sigmoid and TanH reads the output y.
#include "common.cuh"

extern "C" __global__ void relu_forward(long n, float slope, const float* __restrict__ x, float* __restrict__ y) {
  CORTADO_LOOP(i, n) {
    float v = x[i];
    y[i] = fmaxf(v, 0.f) + slope * fminf(v, 0.f);
  }
}

extern "C" __global__ void relu_backward(long n, float slope, const float* __restrict__ x, const float* __restrict__ dy,
                                         float* __restrict__ dx) {
  CORTADO_LOOP(i, n) { dx[i] = dy[i] * (x[i] > 0.f ? 1.f : slope); }
}

extern "C" __global__ void sigmoid_forward(long n, const float* __restrict__ x, float* __restrict__ y) {
  CORTADO_LOOP(i, n) { y[i] = (float)(1.0 / (1.0 + exp(-(double)x[i]))); }
}

extern "C" __global__ void sigmoid_backward(long n, const float* __restrict__ y, const float* __restrict__ dy,
                                            float* __restrict__ dx) {
  CORTADO_LOOP(i, n) {
    float s = y[i];
    dx[i] = dy[i] * s * (1.f - s);
  }
}

extern "C" __global__ void tanh_forward(long n, const float* __restrict__ x, float* __restrict__ y) {
  CORTADO_LOOP(i, n) { y[i] = (float)tanh((double)x[i]); }
}

extern "C" __global__ void tanh_backward(long n, const float* __restrict__ y, const float* __restrict__ dy,
                                         float* __restrict__ dx) {
  CORTADO_LOOP(i, n) {
    float t = y[i];
    dx[i] = dy[i] * (1.f - t * t);
  }
}
