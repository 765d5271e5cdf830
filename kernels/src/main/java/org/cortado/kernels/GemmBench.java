package org.cortado.kernels;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * GEMM throughput on the GPU: {@code n x n x n} products in float32 and TF32, timed with CUDA events,
 * the median of 30 after 5 warm-ups, exactly as {@code kernels/gpu/torch_gemm.py} times torch.mm. One
 * JSON object per line: {@code {"n", "precision", "ms", "tflops"}}.
 * Usage: {@code GemmBench N...} (default 2048).
 */
public final class GemmBench {
    private GemmBench() {}

    public static void main(String[] args) {
        int[] sizes = args.length == 0 ? new int[] {2048} : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        try (CudaDevice device = CudaDevice.open(0)) {
            device.call(() -> {
                CudaOps ops = new CudaOps(device);
                SplittableRandom rng = new SplittableRandom(1);
                for (int n : sizes) {
                    float[] host = new float[n * n];
                    for (int i = 0; i < host.length; i++) {
                        host[i] = (float) rng.nextDouble(-1, 1);
                    }
                    try (DeviceArray a = device.upload(host); DeviceArray b = device.upload(host);
                         DeviceArray c = device.floats((long) n * n)) {
                        for (CudaOps.Precision p : CudaOps.Precision.values()) {
                            Runnable mm = () -> ops.gemm(p, false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
                            for (int i = 0; i < 5; i++) {
                                mm.run();
                            }
                            device.synchronize();
                            float[] ms = new float[30];
                            for (int i = 0; i < ms.length; i++) {
                                ms[i] = device.time(mm);
                            }
                            Arrays.sort(ms);
                            double median = (ms[14] + ms[15]) / 2.0;
                            System.out.printf(Locale.ROOT, "{\"n\": %d, \"precision\": \"%s\", \"ms\": %.4f, \"tflops\": %.2f}%n",
                                    n, p.name().toLowerCase(Locale.ROOT), median, 2.0 * n * n * n / median / 1e9);
                        }
                    }
                }
                return null;
            });
        }
    }
}
