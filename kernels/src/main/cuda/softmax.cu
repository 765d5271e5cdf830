// Softmax over the channel axis of (outer, channels, inner), and Caffe's SoftmaxWithLoss on top of it.
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
