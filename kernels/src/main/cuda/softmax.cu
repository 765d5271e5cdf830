// Softmax over the channel axis of (outer, channels, inner), and Caffe's SoftmaxWithLoss on top of it;
// Caffe's SigmoidCrossEntropyLoss (CPU: org.cortado.engine.layers.SigmoidCrossEntropyLoss), element-wise.
// CPU ops: org.cortado.engine.ops.Softmax (forward, backward) and the layer
// org.cortado.engine.layers.SoftmaxWithLoss (loss = -sum log(max(p[label], FLT_MIN)) / normalizer over the
// positions whose label is not the ignore label; dscores = (p - onehot(label)) * scale, 0 where ignored).
// One thread per (outer, inner) position; the channel loop is short for classification heads. The Softmax
// layer may run in place: softmax_forward's y may be x, softmax_backward's dx may be dy.
#include "common.cuh"
#include <cfloat>

extern "C" __global__ void softmax_forward(int outer, int channels, int inner, const float* x, float* y) {
  CORTADO_LOOP(pos, (long)outer * inner) {
    long base = (pos / inner) * channels * inner + pos % inner;
    float mx = -INFINITY;
    for (int c = 0; c < channels; c++) mx = fmaxf(mx, x[base + (long)c * inner]);
    double sum = 0;
    for (int c = 0; c < channels; c++) {
      double e = exp((double)(x[base + (long)c * inner] - mx));
      y[base + (long)c * inner] = (float)e;
      sum += e;
    }
    for (int c = 0; c < channels; c++) y[base + (long)c * inner] = (float)(y[base + (long)c * inner] / sum);
  }
}

extern "C" __global__ void softmax_backward(int outer, int channels, int inner, const float* __restrict__ y,
                                            const float* dy, float* dx) {
  CORTADO_LOOP(pos, (long)outer * inner) {
    long base = (pos / inner) * channels * inner + pos % inner;
    double dot = 0;
    for (int c = 0; c < channels; c++) dot += (double)dy[base + (long)c * inner] * y[base + (long)c * inner];
    for (int c = 0; c < channels; c++) {
      long k = base + (long)c * inner;
      dx[k] = (float)(y[k] * (dy[k] - dot));
    }
  }
}

// Per position: loss[pos] = -log(max(p[label], FLT_MIN)) and valid[pos] = 1, or both 0 where the label is
// the ignore label (hasIgnore != 0). A label outside [0, channels) sets bad[0] to pos + 1 (the host
// reports it) and counts as ignored. The host sums loss and valid with reduce_sum.
extern "C" __global__ void softmax_loss_forward(int outer, int channels, int inner, const float* __restrict__ prob,
                                                const float* __restrict__ label, int hasIgnore, int ignoreLabel,
                                                float* __restrict__ loss, float* __restrict__ valid,
                                                int* __restrict__ bad) {
  CORTADO_LOOP(pos, (long)outer * inner) {
    int l = (int)label[pos];
    long base = (pos / inner) * channels * inner + pos % inner;
    if ((hasIgnore && l == ignoreLabel) || l < 0 || l >= channels) {
      if (!(hasIgnore && l == ignoreLabel)) atomicCAS(bad, 0, (int)pos + 1);
      loss[pos] = 0.f;
      valid[pos] = 0.f;
    } else {
      loss[pos] = -logf(fmaxf(prob[base + (long)l * inner], FLT_MIN));
      valid[pos] = 1.f;
    }
  }
}

extern "C" __global__ void softmax_loss_backward(int outer, int channels, int inner, const float* __restrict__ prob,
                                                 const float* __restrict__ label, int hasIgnore, int ignoreLabel,
                                                 float scale, float* __restrict__ dx) {
  CORTADO_LOOP(pos, (long)outer * inner) {
    int l = (int)label[pos];
    long base = (pos / inner) * channels * inner + pos % inner;
    bool ignored = (hasIgnore && l == ignoreLabel) || l < 0 || l >= channels;
    for (int c = 0; c < channels; c++) {
      long k = base + (long)c * inner;
      dx[k] = ignored ? 0.f : (prob[k] - (c == l ? 1.f : 0.f)) * scale;
    }
  }
}

// SigmoidCrossEntropyLoss's forward, one thread per element: the sigmoid of the score (for the backward) and
// Caffe's stable loss term -(x (t - [x >= 0]) - log(1 + exp(x - 2 x [x >= 0]))), both in double as the CPU;
// an element whose target, truncated to an int, is the ignore label has loss 0 and does not count as valid.
extern "C" __global__ void sigmoid_xent_forward(long n, const float* __restrict__ x, const float* __restrict__ t,
                                                int hasIgnore, int ignoreLabel, float* __restrict__ sig,
                                                float* __restrict__ loss, float* __restrict__ valid) {
  CORTADO_LOOP(i, n) {
    double xi = x[i];
    sig[i] = (float)(1.0 / (1.0 + exp(-xi)));
    if (hasIgnore && (int)t[i] == ignoreLabel) {
      loss[i] = 0.f;
      valid[i] = 0.f;
    } else {
      double pos = xi >= 0 ? 1.0 : 0.0;
      loss[i] = (float)-(xi * (t[i] - pos) - log1p(exp(xi - 2 * xi * pos)));
      valid[i] = 1.f;
    }
  }
}

// Its backward: dx = (sigmoid(x) - t) * scale, 0 where the target is the ignore label.
extern "C" __global__ void sigmoid_xent_backward(long n, const float* __restrict__ sig, const float* __restrict__ t,
                                                 int hasIgnore, int ignoreLabel, float scale, float* __restrict__ dx) {
  CORTADO_LOOP(i, n) {
    dx[i] = hasIgnore && (int)t[i] == ignoreLabel ? 0.f : (sig[i] - t[i]) * scale;
  }
}
