// Fused solver updates: regularization, the update rule and w -= update in one pass over a parameter.
// CPU op: org.cortado.engine.ops.Updates (what org.cortado.engine.solver.Solver runs per parameter), the
// same formulas in the same order (nvcc may fuse a multiply and an add: one rounding fewer than the CPU).
// g is the (already iter_size-normalized) gradient; decay is weight_decay * decay_mult; l1 selects L1
// instead of L2; a is the lr times lr_mult.

__device__ __forceinline__ float regularized(float g, float w, float decay, int l1) {
  if (decay == 0.f) return g;
  if (l1) return g + decay * (float)((w > 0.f) - (w < 0.f));
  return fmaf(decay, w, g);
}

// SGD with momentum, Caffe's form: h = mu*h + a*g; w -= h. Nesterov: w -= (1+mu)*h_new - mu*h_old.
extern "C" __global__ void sgd_update(long n, float a, float mu, float decay, int l1, int nesterov,
                                      float* __restrict__ w, const float* __restrict__ g, float* __restrict__ h) {
  for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long)blockDim.x * gridDim.x) {
    float gi = regularized(g[i], w[i], decay, l1);
    float prev = h[i];
    float hi = mu * prev + a * gi;
    h[i] = hi;
    w[i] -= nesterov ? (1 + mu) * hi - mu * prev : hi;
  }
}

// Adam: h = (1-mu)*g + mu*h; h2 = (1-mu2)*g^2 + mu2*h2; w -= step * h / (sqrt(h2) + delta), step = a times
// the bias correction (computed on the host in double, as Caffe does). adamw: decoupled decay
// w -= a*decay*w first, and g is not regularized.
extern "C" __global__ void adam_update(long n, float a, float step, float mu, float mu2, float delta, float decay,
                                       int l1, int adamw, float* __restrict__ w, const float* __restrict__ g,
                                       float* __restrict__ h, float* __restrict__ h2) {
  for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long)blockDim.x * gridDim.x) {
    float wi = w[i];
    float gi = g[i];
    if (adamw) {
      wi -= (a * decay) * wi;
    } else {
      gi = regularized(gi, wi, decay, l1);
    }
    float m1 = (1 - mu) * gi + mu * h[i];
    float m2 = (1 - mu2) * (gi * gi) + mu2 * h2[i];
    h[i] = m1;
    h2[i] = m2;
    w[i] = wi - step * (m1 / (sqrtf(m2) + delta));
  }
}

// AdaGrad, RMSProp and AdaDelta (rule 0, 1, 2), Caffe's ComputeUpdateValue then w -= update, after the same
// regularization. AdaGrad: h += g^2, w -= a * g / (sqrt(h) + delta). RMSProp: h = (1-rho)*g^2 + rho*h, then
// as AdaGrad (rho passed as mu). AdaDelta: h = (1-mu)*g^2 + mu*h; d = g * sqrt((h2 + delta) / (h + delta));
// h2 = (1-mu)*d^2 + mu*h2; w -= a * d.
extern "C" __global__ void adaptive_update(long n, int rule, float a, float mu, float delta, float decay, int l1,
                                           float* __restrict__ w, const float* __restrict__ g, float* __restrict__ h,
                                           float* __restrict__ h2) {
  for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long)blockDim.x * gridDim.x) {
    float wi = w[i];
    float gi = regularized(g[i], wi, decay, l1);
    float hi;
    if (rule == 0) {
      hi = h[i] + gi * gi;
    } else {
      hi = (1 - mu) * (gi * gi) + mu * h[i];
    }
    h[i] = hi;
    if (rule == 2) {
      float d = gi * sqrtf((h2[i] + delta) / (hi + delta));
      h2[i] = (1 - mu) * (d * d) + mu * h2[i];
      w[i] = wi - a * d;
    } else {
      w[i] = wi - a * (gi / (sqrtf(hi) + delta));
    }
  }
}
