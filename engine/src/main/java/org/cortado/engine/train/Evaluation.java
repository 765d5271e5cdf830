package org.cortado.engine.train;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import org.cortado.engine.WeightsException;
import org.cortado.engine.net.Net;
import org.cortado.engine.net.Phase;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Tensor;

/**
 * Scores weights on a config's test data, as Caffe's {@code caffe test}: the TEST-phase net forward
 * on the test batches, and per output blob (loss, accuracy) its mean over the samples (each batch's
 * mean weighted by its size, so a short last batch counts for what it holds).
 */
public final class Evaluation {
    private Evaluation() {}

    /** Output means over {@code samples} samples in {@code batches} batches. */
    public record Score(SequencedMap<String, Double> outputs, long samples, int batches) {}

    /**
     * @param batches test batches to run; 0 for the whole test set
     * @throws WeightsException when the weights lack a layer of the net (naming {@code source})
     */
    public static Score score(org.cortado.engine.config.CortadoConfig config, Path configDir,
                              Map<String, List<Tensor>> weights, String source, int batches) {
        try (Trainer t = new Trainer(config);
             TrainingData data = TrainingData.open(config, t.trainNet(), configDir, s -> { })) {
            Net net = t.testNet();
            var report = net.copyWeights(weights, source);
            if (!report.notInFile().isEmpty()) {
                throw new WeightsException(source + ": no weights for layers " + report.notInFile() + " of the net");
            }
            TrainingData.Source test = data.source(Phase.TEST);
            int n = batches > 0 ? Math.min(batches, test.batchesPerEpoch()) : test.batchesPerEpoch();
            List<Blob> outputs = Trainer.outputs(net);
            SequencedMap<String, Double> sums = new LinkedHashMap<>();
            long samples = 0;
            for (int i = 0; i < n; i++) {
                Map<String, Tensor> b = data.batch(Phase.TEST, 0, i);
                int size = b.get(data.labelBlob()).dim(0);
                Trainer.feed(net, b);
                net.forward();
                for (Blob o : outputs) {
                    sums.merge(o.name(), Trainer.outputValue(o.x(), o.count()) * size, Double::sum);
                }
                samples += size;
            }
            for (var e : sums.entrySet()) {
                e.setValue(e.getValue() / Math.max(1, samples));
            }
            return new Score(sums, samples, n);
        }
    }
}
