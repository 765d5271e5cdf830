package org.cortado.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SequencedMap;
import java.util.concurrent.Callable;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.io.CaffeWeights;
import org.cortado.engine.io.Npy;
import org.cortado.engine.io.Npz;
import org.cortado.engine.tensor.Shapes;
import org.cortado.engine.tensor.Tensor;
import org.cortado.engine.train.FeatureExtractor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cortado extract}: Caffe's extract_features, from .npy inputs to an .npz of blobs. */
@Command(name = "extract", mixinStandardHelpOptions = true,
        description = "Run the TEST-phase net forward on inputs and save the named blobs (Caffe's extract_features).")
final class ExtractCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CONFIG", description = "pipeline config (JSON)")
    Path config;

    @Option(names = "--weights", required = true, paramLabel = "W.caffemodel.h5", description = "weights, Caffe HDF5 layout")
    Path weights;

    @Option(names = "--input", required = true, paramLabel = "X.npy",
            description = "inputs for the net's first input blob, any number of rows; fed as is")
    Path input;

    @Option(names = "--blobs", required = true, split = ",", paramLabel = "a,b", description = "blobs to save")
    List<String> blobs;

    @Option(names = "--out", required = true, paramLabel = "out.npz", description = "where to write the blobs")
    Path out;

    @Option(names = "--batch", defaultValue = "64", description = "rows per forward pass (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--threads", defaultValue = "0", description = "compute threads (default: the config's, else all cores)")
    int threads;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        CortadoConfig cfg = CortadoConfig.load(config);
        if (threads > 0) {
            cfg = cfg.withThreads(threads);
        }
        Tensor x = Npy.read(input);
        SequencedMap<String, Tensor> result = FeatureExtractor.extract(cfg, CaffeWeights.read(weights),
                weights.toString(), x, input.toString(), blobs, batch);
        Npz.write(out, result);
        PrintWriter o = spec.commandLine().getOut();
        for (var e : result.entrySet()) {
            o.printf("%s %s%n", e.getKey(), Shapes.str(e.getValue().shape()));
        }
        o.printf("wrote %s%n", out);
        o.flush();
        return 0;
    }

    @Override
    public String toString() {
        return "extract " + Arrays.asList(config, weights, input, blobs, out);
    }
}
