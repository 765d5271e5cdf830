package org.cortado.kernels;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.net.Net;
import org.cortado.engine.tensor.Tensor;
import org.cortado.engine.train.Benchmark;
import org.cortado.engine.train.Trainer;

/**
 * Training throughput on the GPU: a config's net at a batch size, synthetic batches uploaded from the
 * heap every step, the loss read back every step (as a training loop that displays it does), timed
 * over {@code iters} steps after 20 warm-up steps; the median of {@code rounds} rounds. Prints one JSON
 * object: {@code {"net", "batch", "precision", "img_per_s", "ms_per_step", "launches_per_step"}}, and to
 * stderr the time of each layer over {@code iters} more steps, synchronized after each layer. {@code kernels/gpu/torch_train.py}
 * times the same nets in PyTorch the same way.
 * Usage: {@code TrainBench CONFIG BATCH [ITERS [ROUNDS [f32|tf32]]]}.
 */
public final class TrainBench {
    private TrainBench() {}

    public static void main(String[] args) {
        CortadoConfig config = CortadoConfig.load(Path.of(args[0]));
        int batch = Integer.parseInt(args[1]);
        int iters = args.length > 2 ? Integer.parseInt(args[2]) : 200;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        CudaOps.Precision precision = args.length > 4 ? CudaOps.Precision.valueOf(args[4].toUpperCase(Locale.ROOT))
                : CudaOps.Precision.F32;
        try (CudaDevice device = CudaDevice.open(0); Trainer trainer = new Trainer(config)) {
            Net net = trainer.trainNet();
            net.setBatchSize(batch);
            Map<String, Tensor> data = Benchmark.synthetic(net, config.seed());
            float[][] inputs = net.inputs().stream().map(in -> data.get(in.name()).data()).toArray(float[][]::new);
            try (CudaNet gpu = CudaNet.open(device, net, precision); CudaSolver solver = new CudaSolver(device, trainer.solver())) {
                for (int i = 0; i < 20; i++) {
                    gpu.step(solver, inputs);
                }
                double[] ms = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    gpu.synchronize();
                    long t0 = System.nanoTime();
                    for (int i = 0; i < iters; i++) {
                        gpu.step(solver, inputs);
                    }
                    gpu.synchronize();
                    ms[r] = (System.nanoTime() - t0) / 1e6 / iters;
                }
                Arrays.sort(ms);
                double median = ms[rounds / 2];
                long launched = device.launches();
                gpu.profile(true);
                for (int i = 0; i < iters; i++) {
                    gpu.step(solver, inputs);
                }
                gpu.profile(false);
                long launches = (device.launches() - launched) / iters;
                StringBuilder layers = new StringBuilder();
                for (int l = 0; l < net.layers().size(); l++) {
                    double[] t = gpu.layerMillis(l);
                    layers.append(String.format(Locale.ROOT, "%s%s %.3f/%.3f", l == 0 ? "" : ", ",
                            net.layers().get(l).name(), t[0] / iters, t[1] / iters));
                }
                System.err.println(config.name() + " per layer, ms forward/backward (synchronized): " + layers);
                System.out.printf(Locale.ROOT, "{\"net\": \"%s\", \"batch\": %d, \"precision\": \"%s\", \"img_per_s\": %.1f, "
                        + "\"ms_per_step\": %.4f, \"launches_per_step\": %d}%n", config.name(), batch,
                        precision.name().toLowerCase(Locale.ROOT), batch * 1000.0 / median, median, launches);
            }
        }
    }
}
