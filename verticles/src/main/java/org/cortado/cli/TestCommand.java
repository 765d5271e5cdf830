package org.cortado.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.io.CaffeWeights;
import org.cortado.engine.train.Evaluation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cortado test}: Caffe's {@code caffe test}, scoring weights on the config's test data. */
@Command(name = "test", mixinStandardHelpOptions = true,
        description = {"Score weights on the config's test data (Caffe's `caffe test`): the TEST-phase net,",
                "the mean of each output blob (loss, accuracy) over the samples."})
final class TestCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CONFIG", description = "pipeline config (JSON) with data.test")
    Path config;

    @Option(names = "--weights", required = true, paramLabel = "W.caffemodel.h5", description = "weights, Caffe HDF5 layout")
    Path weights;

    @Option(names = "--iterations", defaultValue = "0", paramLabel = "N",
            description = "test batches (default: the whole test set)")
    int iterations;

    @Option(names = "--set", paramLabel = "path=value", description = "override a config value")
    List<String> sets = List.of();

    @Option(names = "--json", description = "print one JSON object (samples, batches, and each output) as the last line")
    boolean json;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CortadoConfig cfg = TrainCommand.resolve(config, sets);
        Evaluation.Score score = Evaluation.score(cfg, config.toAbsolutePath().getParent(), CaffeWeights.read(weights),
                weights.toString(), iterations);
        PrintWriter out = spec.commandLine().getOut();
        for (var e : score.outputs().entrySet()) {
            out.printf("%s = %.6f%n", e.getKey(), e.getValue());
        }
        out.printf("(%d samples, %d batches)%n", score.samples(), score.batches());
        if (json) {
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("samples", score.samples()).put("batches", score.batches());
            score.outputs().forEach(o::put);
            out.println(o.toString());
        }
        out.flush();
        return 0;
    }
}
