package org.cortado.engine.train;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import org.cortado.engine.ShapeException;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.net.Net;
import org.cortado.engine.net.Phase;
import org.cortado.engine.ops.Parallel;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;
import org.cortado.engine.tensor.Tensor;

/**
 * Caffe's {@code extract_features}: the TEST-phase net, with given weights, run forward on given
 * inputs, returning the values of the named blobs for every input row. The input goes straight into
 * the net's first input blob (no scaling or augmentation); it is fed in batches of {@code batch}
 * rows, and only the layers the wanted blobs depend on run.
 */
public final class FeatureExtractor {
    private FeatureExtractor() {}

    public static SequencedMap<String, Tensor> extract(CortadoConfig config, Map<String, List<Tensor>> weights,
                                                       String weightsSource, Tensor input, String inputSource,
                                                       List<String> blobNames, int batch) {
        try (Parallel par = new Parallel(config.threads())) {
            Net net = Net.build(config.net(), Phase.TEST, par, config.seed());
            net.copyWeights(weights, weightsSource);
            if (net.inputs().isEmpty()) {
                throw new ShapeException("net '" + net.name() + "' has no Input layer to feed " + inputSource);
            }
            Blob in = net.inputs().get(0);
            int[] want = in.shape();
            int[] got = input.shape();
            if (got.length != want.length || !java.util.Arrays.equals(
                    java.util.Arrays.copyOfRange(got, 1, got.length), java.util.Arrays.copyOfRange(want, 1, want.length))) {
                throw new ShapeException(inputSource + ": input shape " + Shapes.str(got) + " does not fit blob \""
                        + in.name() + "\" of shape " + Shapes.str(want) + " (any first dimension)");
            }
            for (String b : blobNames) {
                net.blob(b);
            }
            int n = got[0];
            int rowSize = input.count(1);
            int b = Math.max(1, Math.min(batch, n));
            SequencedMap<String, Tensor> out = new LinkedHashMap<>();
            for (int start = 0; start < n; start += b) {
                int rows = Math.min(b, n - start);
                net.setBatchSize(rows);
                System.arraycopy(input.data(), start * rowSize, in.x(), 0, rows * rowSize);
                net.forwardFor(new LinkedHashSet<>(blobNames));
                for (String name : blobNames) {
                    Blob blob = net.blob(name);
                    Tensor t = out.get(name);
                    if (t == null) {
                        int[] s = blob.shape();
                        if (s.length == 0 || s[0] != rows) {
                            throw new ShapeException("blob \"" + name + "\" has shape " + Shapes.str(s)
                                    + ": only blobs with one row per input can be extracted");
                        }
                        s[0] = n;
                        t = new Tensor(s);
                        out.put(name, t);
                    }
                    int per = blob.count(1);
                    System.arraycopy(blob.x(), 0, t.data(), start * per, rows * per);
                }
            }
            return out;
        }
    }
}
