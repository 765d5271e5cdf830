package org.cortado.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.cortado.engine.ConfigException;
import org.cortado.engine.caffe.CaffemodelImport;
import org.cortado.engine.caffe.PrototxtImport;
import org.cortado.engine.config.Json;
import org.cortado.engine.io.CaffeWeights;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cortado import …}: nets from other frameworks as Cortado configs and weights. */
@Command(name = "import", mixinStandardHelpOptions = true, description = "Convert nets from other frameworks.",
        subcommands = {ImportCommand.Caffe.class})
final class ImportCommand implements Runnable {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "caffe", mixinStandardHelpOptions = true,
            description = "A Caffe .prototxt as a config and, with --weights, a binary .caffemodel as HDF5 weights.")
    static final class Caffe implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "NET.prototxt", description = "Caffe net definition (text format)")
        Path prototxt;

        @Option(names = "--weights", paramLabel = "NET.caffemodel", description = "binary Caffe weights to convert")
        Path weights;

        @Option(names = "--out", required = true, arity = "1..2", paramLabel = "FILE",
                description = "CONFIG.json, then WEIGHTS.h5 (default with --weights: CONFIG with .caffemodel.h5 for .json)")
        List<Path> out = new ArrayList<>();

        @Option(names = "--input-shape", paramLabel = "C,H,W",
                description = "a sample's shape (without the batch) for data layers whose prototxt does not give it, e.g. 1,28,28")
        String inputShape;

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            CommandLine cl = spec.commandLine();
            Path config = out.get(0);
            if (out.size() == 2 && weights == null) {
                throw new CommandLine.ParameterException(cl, "--out " + out.get(1) + ": a weights file needs --weights");
            }
            Path weightsOut = weights == null ? null : out.size() == 2 ? out.get(1) : weightsBeside(config);

            var net = PrototxtImport.convert(prototxt, shape(cl));
            List<String> notes = new ArrayList<>(net.notes());
            CaffemodelImport.Result model = null;
            if (weights != null) {
                model = CaffemodelImport.convert(weights, Json.parse(net.toJson(), config.toString()));
                notes.addAll(model.notes());
            }
            // Both inputs converted: only now write, so a failure leaves no half of the pair behind.
            try {
                Files.writeString(config, net.toJson());
            } catch (IOException e) {
                throw new ConfigException("cannot write " + config + ": " + e);
            }
            PrintWriter o = cl.getOut();
            o.printf("%s: %d layers from %s%n", config, net.config().get("net").get("layers").size(), prototxt);
            if (model != null) {
                CaffeWeights.write(weightsOut, model.weights());
                o.printf("%s: weights of %d layers from %s%n", weightsOut, model.weights().size(), weights);
            }
            for (String n : notes) {
                o.println("note: " + n);
            }
            o.flush();
            return 0;
        }

        private int[] shape(CommandLine cl) {
            if (inputShape == null) {
                return null;
            }
            try {
                int[] dims = Arrays.stream(inputShape.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
                if (dims.length == 0 || Arrays.stream(dims).anyMatch(d -> d <= 0)) {
                    throw new NumberFormatException();
                }
                return dims;
            } catch (NumberFormatException e) {
                throw new CommandLine.ParameterException(cl, "--input-shape: expected positive integers such as 3,32,32, got "
                        + inputShape);
            }
        }

        static Path weightsBeside(Path config) {
            String name = config.getFileName().toString();
            String stem = name.endsWith(".json") ? name.substring(0, name.length() - 5) : name;
            return config.resolveSibling(stem + ".caffemodel.h5");
        }
    }
}
