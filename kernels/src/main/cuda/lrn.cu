// Local response normalization. CPU op: org.cortado.engine.layers.LRN (Caffe's LRN) on (N, C, H, W), one
// thread per element, sums in double. ACROSS_CHANNELS: s = k + alpha / size * (sum of x^2 over the size
// channels around c); WITHIN_CHANNEL: s = 1 + alpha / size^2 * (sum over the size x size square around
// (h, w)); windows clipped at the borders; y = x * s^-beta.
#include "common.cuh"

extern "C" __global__ void lrn_forward(int N, int C, int H, int W, int size, float alpha, float beta, float k,
                                       int across, const float* __restrict__ x, float* __restrict__ scale,
                                       float* __restrict__ y) {
  const int pre = (size - 1) / 2;
  const long hw = (long)H * W;
  CORTADO_LOOP(p, (long)N * C * hw) {
    long plane = p / hw;
    int c = (int)(plane % C), h = (int)((p % hw) / W), w = (int)(p % W);
    long n = plane / C;
    double sum = 0, s;
    if (across) {
      for (int c2 = max(0, c - pre); c2 <= min(C - 1, c + pre); c2++) {
        double v = x[(n * C + c2) * hw + (long)h * W + w];
        sum += v * v;
      }
      s = k + (double)(alpha / (float)size) * sum;  // the CPU divides in float here
    } else {
      for (int h2 = max(0, h - pre); h2 <= min(H - 1, h + pre); h2++) {
        for (int w2 = max(0, w - pre); w2 <= min(W - 1, w + pre); w2++) {
          double v = x[plane * hw + (long)h2 * W + w2];
          sum += v * v;
        }
      }
      s = 1 + alpha / ((double)size * size) * sum;
    }
    scale[p] = (float)s;
    y[p] = (float)(x[p] * pow(s, -(double)beta));
  }
}

// dx[p] = dy[p] * scale[p]^-beta - 2 alpha beta / window * x[p] * (sum over the q whose window holds p of
// dy[q] * y[q] / scale[q]); the windows are symmetric, so those q are p's own window.
extern "C" __global__ void lrn_backward(int N, int C, int H, int W, int size, float alpha, float beta, int across,
                                        const float* __restrict__ x, const float* __restrict__ y,
                                        const float* __restrict__ scale, const float* __restrict__ dy,
                                        float* __restrict__ dx) {
  const int pre = (size - 1) / 2;
  const long hw = (long)H * W;
  const double coeff = 2.0 * alpha * beta / (across ? (double)size : (double)size * size);
  CORTADO_LOOP(p, (long)N * C * hw) {
    long plane = p / hw;
    int c = (int)(plane % C), h = (int)((p % hw) / W), w = (int)(p % W);
    long n = plane / C;
    double acc = 0;
    if (across) {
      for (int c2 = max(0, c - pre); c2 <= min(C - 1, c + pre); c2++) {
        long q = (n * C + c2) * hw + (long)h * W + w;
        acc += (double)dy[q] * y[q] / scale[q];
      }
    } else {
      for (int h2 = max(0, h - pre); h2 <= min(H - 1, h + pre); h2++) {
        for (int w2 = max(0, w - pre); w2 <= min(W - 1, w + pre); w2++) {
          long q = plane * hw + (long)h2 * W + w2;
          acc += (double)dy[q] * y[q] / scale[q];
        }
      }
    }
    dx[p] = (float)(dy[p] * pow((double)scale[p], -(double)beta) - coeff * x[p] * acc);
  }
}
