package org.cortado.engine.net;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.Set;
import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.WeightsException;
import org.cortado.engine.config.Json;
import org.cortado.engine.layers.BatchNorm;
import org.cortado.engine.layers.Input;
import org.cortado.engine.layers.Layer;
import org.cortado.engine.layers.LayerConfig;
import org.cortado.engine.layers.LayerContext;
import org.cortado.engine.layers.LayerRegistry;
import org.cortado.engine.layers.ParamSpec;
import org.cortado.engine.ops.Parallel;
import org.cortado.engine.solver.Param;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Shapes;
import org.cortado.engine.tensor.Tensor;

/**
 * A DAG of layers over named blobs, built from the {@code net} part of a config for one phase, as
 * Caffe's {@code Net}:
 * <ul>
 *   <li>layers run in config order; a bottom must name a top of an earlier layer;</li>
 *   <li>a top with the same name as its bottom makes the layer work in place (ReLU, Dropout);</li>
 *   <li>a blob read by several layers gets an implicit {@code Split} layer, whose backward sums
 *       the gradients coming back from each reader;</li>
 *   <li>layers outside the phase ({@code include}/{@code exclude}) are left out;</li>
 *   <li>the loss is {@code sum over tops of loss_weight * sum(top)}; backward starts by setting each
 *       loss top's diff to its weight;</li>
 *   <li>layers that do not lead to the loss, or whose inputs need no gradient and that have no
 *       learnable blob with {@code lr_mult > 0}, are skipped in backward;</li>
 *   <li>learnable blobs with the same {@code param.name} are one blob (parameter sharing).</li>
 * </ul>
 * Configuration errors are found while building, before any training, and name the JSON path.
 */
public final class Net {
    private final String name;
    private final Phase phase;
    private final List<Layer> layers = new ArrayList<>();
    private final List<List<Blob>> bottoms = new ArrayList<>();
    private final List<List<Blob>> tops = new ArrayList<>();
    private final List<boolean[]> propagateDown = new ArrayList<>();
    private final List<Boolean> needsBackward = new ArrayList<>();
    private final List<double[]> lossWeights = new ArrayList<>();
    private final Map<String, Blob> blobs = new LinkedHashMap<>();
    private final List<Param> params = new ArrayList<>();
    private long[] forwardNanos;
    private long[] backwardNanos;
    private boolean profiling;

    private Net(String name, Phase phase) {
        this.name = name;
        this.phase = phase;
    }

    /** Builds the net described by {@code netJson} (the config's {@code net} object) for {@code phase}. */
    public static Net build(Json netJson, Phase phase, Parallel parallel, long seed) {
        Net net = new Net(netJson.getString("name", "net"), phase);
        List<Json> layerJsons = netJson.objects("layers");
        netJson.rejectUnknown();
        if (layerJsons.isEmpty()) {
            throw netJson.error("layers", "a net needs at least one layer");
        }
        List<LayerConfig> configs = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (Json lj : layerJsons) {
            LayerConfig c = LayerConfig.parse(lj);
            if (!names.add(c.name())) {
                throw lj.error("name", "duplicate layer name \"" + c.name() + "\"");
            }
            if (c.inPhase(phase)) {
                configs.add(c);
            } else {
                lj.markUsed(lj.node().properties().stream().map(Map.Entry::getKey).toArray(String[]::new));
            }
        }
        LayerContext ctx = new LayerContext(phase, parallel, seed);
        Splits.Result wired = Splits.insert(configs);
        net.wire(wired.layers(), wired.rebinding(), ctx);
        return net;
    }

    private void wire(List<LayerConfig> configs, Set<String> rebinding, LayerContext ctx) {
        Map<String, String> producedBy = new HashMap<>();
        for (LayerConfig c : configs) {
            Layer layer = create(c, ctx);
            checkCount(c, "bottom", c.bottoms().size(), layer.minBottoms(), layer.maxBottoms());
            checkCount(c, "top", c.tops().size(), layer.minTops(), layer.maxTops());
            List<Blob> bottom = new ArrayList<>();
            for (String b : c.bottoms()) {
                Blob blob = blobs.get(b);
                if (blob == null) {
                    throw new ConfigException(c.path() + ".bottom: unknown blob \"" + b
                            + "\" (no earlier layer has it as a top)");
                }
                bottom.add(blob);
            }
            List<Blob> top = new ArrayList<>();
            for (String t : c.tops()) {
                boolean inPlace = c.bottoms().contains(t);
                if (inPlace && !layer.allowsInPlace()) {
                    throw new ConfigException(c.path() + ".top: layer type " + c.type()
                            + " cannot work in place (top \"" + t + "\" is also a bottom)");
                }
                if (!inPlace && blobs.containsKey(t) && !rebinding.contains(c.name())) {
                    throw new ConfigException(c.path() + ".top: blob \"" + t + "\" is already produced by layer '"
                            + producedBy.get(t) + "'");
                }
                Blob blob = inPlace ? blobs.get(t) : new Blob(t);
                blobs.put(t, blob);
                producedBy.put(t, c.name());
                top.add(blob);
            }
            layer.setUp(bottom, top);
            layer.reshape(bottom, top);
            layers.add(layer);
            bottoms.add(bottom);
            tops.add(top);
            double[] lw = new double[top.size()];
            if (c.lossWeights().length > top.size()) {
                throw new ConfigException(c.path() + ".loss_weight: " + c.lossWeights().length
                        + " values for " + top.size() + " tops");
            }
            for (int i = 0; i < lw.length; i++) {
                lw[i] = i < c.lossWeights().length ? c.lossWeights()[i] : (layer.isLoss() && i == 0 ? 1 : 0);
            }
            lossWeights.add(lw);
        }
        collectParams();
        planBackward();
        if (foldScales) {
            foldScales();
        }
        forwardNanos = new long[layers.size()];
        backwardNanos = new long[layers.size()];
    }

    /** The layer of {@code c}; a config error in its fields also names the layer ({@code ... (layer 'conv1', Convolution)}). */
    private static Layer create(LayerConfig c, LayerContext ctx) {
        try {
            return LayerRegistry.create(c, ctx);
        } catch (ConfigException e) {
            String who = " (layer '" + c.name() + "', " + c.type() + ")";
            throw new ConfigException(e.problems().stream().map(p -> p + who).toList());
        }
    }

    private static void checkCount(LayerConfig c, String what, int n, int min, int max) {
        if (n < min || n > max) {
            String want = min == max ? String.valueOf(min) : max == Integer.MAX_VALUE ? "at least " + min : min + " to " + max;
            throw new ConfigException(c.path() + "." + what + ": layer type " + c.type() + " takes " + want + " "
                    + what + (max == 1 && min == 1 ? "" : "s") + ", got " + n);
        }
    }

    /** Learnable blobs in layer order; a shared {@code param.name} makes later layers use the first blob. */
    private void collectParams() {
        Map<String, Param> owners = new HashMap<>();
        for (Layer layer : layers) {
            for (int i = 0; i < layer.params().size(); i++) {
                ParamSpec spec = layer.config().param(i);
                Blob blob = layer.params().get(i);
                String id = layer.name() + "/" + i;
                if (!spec.name().isEmpty()) {
                    Param owner = owners.get(spec.name());
                    if (owner != null) {
                        if (!Arrays.equals(owner.blob().shape(), blob.shape())) {
                            throw new ShapeException("layer '" + layer.name() + "': shared param \"" + spec.name()
                                    + "\" has shape " + Shapes.str(blob.shape()) + " here and "
                                    + Shapes.str(owner.blob().shape()) + " in its owner");
                        }
                        layer.shareParam(i, owner.blob());
                        continue;
                    }
                    owners.put(spec.name(), new Param(id, blob, spec.lrMult(), spec.decayMult()));
                }
                params.add(new Param(id, blob, spec.lrMult(), spec.decayMult()));
            }
        }
    }

    private static volatile boolean foldScales = true;
    private final Map<String, String> folded = new LinkedHashMap<>();

    /** The Scale layers folded into a BatchNorm: Scale name to BatchNorm name. */
    public Map<String, String> foldedScales() {
        return Collections.unmodifiableMap(folded);
    }

    /**
     * Whether nets built from now on fold a BatchNorm's in-place Scale into it (on by default; see
     * {@link org.cortado.engine.layers.BatchNorm}). Off, for comparisons, the two layers run as written.
     */
    public static void setFoldScales(boolean on) {
        foldScales = on;
    }

    /**
     * Folds each {@code Scale} that works in place on the top of the {@code BatchNorm} just before it
     * into that BatchNorm: the two then take one pass over the activations each way instead of three.
     * Not where either top is a loss.
     */
    private void foldScales() {
        for (int l = 0; l + 1 < layers.size(); l++) {
            if (!(layers.get(l) instanceof BatchNorm bn)) {
                continue;
            }
            Blob y = tops.get(l).get(0);
            List<Blob> sb = bottoms.get(l + 1);
            boolean inPlaceOnY = !sb.isEmpty() && sb.get(0) == y && tops.get(l + 1).size() == 1
                    && tops.get(l + 1).get(0) == y;
            if (inPlaceOnY && lossWeights.get(l)[0] == 0 && lossWeights.get(l + 1)[0] == 0
                    && bn.fold(layers.get(l + 1), y, sb)) {
                folded.put(layers.get(l + 1).name(), bn.name());
                // The BatchNorm's backward now computes the Scale's gradients: it runs whenever the
                // Scale's would (with no bottom to propagate to when its input needs no gradient).
                needsBackward.set(l, needsBackward.get(l) || needsBackward.get(l + 1));
                l++;
            }
        }
    }

    /** Caffe's backward pruning: which layers must run backward and to which bottoms. */
    private void planBackward() {
        Set<Blob> needGrad = new HashSet<>();
        boolean[] need = new boolean[layers.size()];
        for (int l = 0; l < layers.size(); l++) {
            Layer layer = layers.get(l);
            boolean learns = false;
            for (int i = 0; i < layer.params().size(); i++) {
                learns |= layer.config().param(i).lrMult() != 0;
            }
            boolean any = learns;
            for (int i = 0; i < bottoms.get(l).size(); i++) {
                any |= layer.canPropagateDown(i) && needGrad.contains(bottoms.get(l).get(i));
            }
            need[l] = any;
            if (any) {
                needGrad.addAll(tops.get(l));
            }
        }
        // Only layers that lead to a loss need backward.
        Set<Blob> feedsLoss = new HashSet<>();
        for (int l = layers.size() - 1; l >= 0; l--) {
            boolean toLoss = false;
            for (int t = 0; t < tops.get(l).size(); t++) {
                toLoss |= lossWeights.get(l)[t] != 0 || feedsLoss.contains(tops.get(l).get(t));
            }
            need[l] &= toLoss;
            boolean[] down = new boolean[bottoms.get(l).size()];
            for (int i = 0; i < down.length; i++) {
                down[i] = need[l] && layers.get(l).canPropagateDown(i) && needGrad.contains(bottoms.get(l).get(i));
            }
            if (toLoss) {
                feedsLoss.addAll(bottoms.get(l));
            }
            propagateDown.add(0, down);
        }
        for (boolean b : need) {
            needsBackward.add(b);
        }
    }

    public String name() {
        return name;
    }

    public Phase phase() {
        return phase;
    }

    public List<Layer> layers() {
        return List.copyOf(layers);
    }

    /** The net's learnable blobs, one entry per distinct blob (shared ones once). */
    public List<Param> params() {
        return List.copyOf(params);
    }

    /** The names of the learnable blobs, net order, each shared blob once: the solver state's order. */
    public List<String> paramNames() {
        List<String> names = new ArrayList<>();
        Set<Blob> seen = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Param p : params) {
            if (seen.add(p.blob())) {
                names.add(p.name());
            }
        }
        return names;
    }

    public boolean hasBlob(String blobName) {
        return blobs.containsKey(blobName);
    }

    public Blob blob(String blobName) {
        Blob b = blobs.get(blobName);
        if (b == null) {
            throw new ConfigException("net '" + name + "' (" + phase + ") has no blob \"" + blobName
                    + "\"; blobs: " + String.join(", ", blobs.keySet()));
        }
        return b;
    }

    public Set<String> blobNames() {
        return blobs.keySet();
    }

    /** The tops of the net's {@code Input} layers, in order: where batches are written. */
    public List<Blob> inputs() {
        List<Blob> in = new ArrayList<>();
        for (int l = 0; l < layers.size(); l++) {
            if (layers.get(l) instanceof Input) {
                in.addAll(tops.get(l));
            }
        }
        return in;
    }

    /** The batch size of the first input (its first dimension). */
    public int batchSize() {
        List<Blob> in = inputs();
        return in.isEmpty() || in.get(0).rank() == 0 ? 0 : in.get(0).dim(0);
    }

    /** Sets every input's first dimension to {@code batch} and reshapes the net. */
    public void setBatchSize(int batch) {
        if (batch < 1) {
            throw new ShapeException("batch size must be >= 1, got " + batch);
        }
        if (batch == batchSize()) {
            return;
        }
        for (Blob in : inputs()) {
            int[] s = in.shape();
            if (s.length > 0) {
                s[0] = batch;
                in.reshape(s);
            }
        }
        reshape();
    }

    /** Re-runs every layer's reshape (after an input changed shape). */
    public void reshape() {
        for (int l = 0; l < layers.size(); l++) {
            layers.get(l).reshape(bottoms.get(l), tops.get(l));
        }
    }

    /** Tells every layer which training pass comes next (see {@link Layer#beginPass}). */
    public void beginPass(long pass) {
        for (Layer l : layers) {
            l.beginPass(pass);
        }
    }

    /** Forward through every layer; returns the weighted loss. */
    public double forward() {
        for (int l = 0; l < layers.size(); l++) {
            forwardLayer(l);
        }
        return loss();
    }

    /**
     * Forward through layers {@code [from, to)} only: one pipeline stage's share. The blobs those
     * layers read from earlier layers must hold their values already. Returns the weighted loss of
     * the loss tops among these layers (0 when there are none).
     */
    public double forward(int from, int to) {
        java.util.Objects.checkFromToIndex(from, to, layers.size());
        for (int l = from; l < to; l++) {
            forwardLayer(l);
        }
        return loss(from, to);
    }

    /**
     * Forward through only the layers needed to compute {@code wanted} blobs (what
     * {@code cortado extract} asks for); returns nothing, the blobs hold the values.
     */
    public void forwardFor(Set<String> wanted) {
        Set<Blob> need = new HashSet<>();
        for (String w : wanted) {
            need.add(blob(w));
        }
        boolean[] run = new boolean[layers.size()];
        for (int l = layers.size() - 1; l >= 0; l--) {
            for (Blob t : tops.get(l)) {
                run[l] |= need.contains(t);
            }
            if (run[l]) {
                need.addAll(bottoms.get(l));
            }
        }
        for (int l = 0; l < layers.size(); l++) {
            if (run[l]) {
                forwardLayer(l);
            }
        }
    }

    private void forwardLayer(int l) {
        long t0 = profiling ? System.nanoTime() : 0;
        layers.get(l).forward(bottoms.get(l), tops.get(l));
        if (profiling) {
            forwardNanos[l] += System.nanoTime() - t0;
        }
    }

    /** The loss weight of layer {@code l}'s top {@code t} (0 for a top that is not a loss). */
    public double lossWeight(int l, int t) {
        return lossWeights.get(l)[t];
    }

    /** The weighted loss of the last forward. */
    public double loss() {
        return loss(0, layers.size());
    }

    private double loss(int from, int to) {
        double loss = 0;
        for (int l = from; l < to; l++) {
            double[] lw = lossWeights.get(l);
            for (int t = 0; t < lw.length; t++) {
                if (lw[t] != 0) {
                    Blob top = tops.get(l).get(t);
                    double s = 0;
                    for (int i = 0; i < top.count(); i++) {
                        s += top.x()[i];
                    }
                    loss += lw[t] * s;
                }
            }
        }
        return loss;
    }

    /** Backward from the loss tops; accumulates into the learnable blobs' diffs. */
    public void backward() {
        backward(0, layers.size(), 1);
    }

    /**
     * Backward through layers {@code [from, to)} only, last first: one pipeline stage's share. The
     * loss tops among these layers start from {@code lossScale * loss_weight} (a micro-batch of
     * {@code n} of a batch's {@code B} samples passes {@code n / B}, so that the summed gradients equal
     * the whole batch's); the diffs of the blobs that later layers read must hold their gradients
     * already. Accumulates into the learnable blobs' diffs.
     */
    public void backward(int from, int to, double lossScale) {
        java.util.Objects.checkFromToIndex(from, to, layers.size());
        for (int l = from; l < to; l++) {
            double[] lw = lossWeights.get(l);
            for (int t = 0; t < lw.length; t++) {
                if (lw[t] != 0) {
                    tops.get(l).get(t).diff().fill((float) (lw[t] * lossScale));
                }
            }
        }
        for (int l = to - 1; l >= from; l--) {
            if (needsBackward.get(l)) {
                long t0 = profiling ? System.nanoTime() : 0;
                layers.get(l).backward(tops.get(l), propagateDown.get(l), bottoms.get(l));
                if (profiling) {
                    backwardNanos[l] += System.nanoTime() - t0;
                }
            }
        }
    }

    /** Turns per-layer timing on (clearing the totals) or off (keeping them). */
    public void profile(boolean on) {
        if (on) {
            Arrays.fill(forwardNanos, 0);
            Arrays.fill(backwardNanos, 0);
        }
        profiling = on;
    }

    /** Total nanoseconds spent in layer {@code l}'s forward since {@link #profile(boolean)}. */
    public long forwardNanos(int l) {
        return forwardNanos[l];
    }

    public long backwardNanos(int l) {
        return backwardNanos[l];
    }

    /** Makes this net use {@code other}'s learnable blobs for layers of the same name (TEST shares TRAIN's). */
    public void shareParamsWith(Net other) {
        Map<String, Layer> byName = new HashMap<>();
        for (Layer l : other.layers) {
            byName.put(l.name(), l);
        }
        for (Layer l : layers) {
            Layer src = byName.get(l.name());
            if (src == null || l.params().isEmpty()) {
                continue;
            }
            if (src.params().size() != l.params().size()) {
                throw new ShapeException("layer '" + l.name() + "' has " + l.params().size() + " param blobs in the "
                        + phase + " net and " + src.params().size() + " in the " + other.phase + " net");
            }
            for (int i = 0; i < l.params().size(); i++) {
                if (!Arrays.equals(src.params().get(i).shape(), l.params().get(i).shape())) {
                    throw new ShapeException("layer '" + l.name() + "' param " + i + " has shape "
                            + Shapes.str(l.params().get(i).shape()) + " in the " + phase + " net and "
                            + Shapes.str(src.params().get(i).shape()) + " in the " + other.phase + " net");
                }
                l.shareParam(i, src.params().get(i));
            }
        }
        params.clear();
        collectParams();
    }

    /** The learnable blobs by layer name, in net order, for writing a weights file (Caffe's layout). */
    public SequencedMap<String, List<Tensor>> weights() {
        SequencedMap<String, List<Tensor>> out = new LinkedHashMap<>();
        for (Layer l : layers) {
            if (!l.params().isEmpty()) {
                List<Tensor> ts = new ArrayList<>();
                for (Blob b : l.params()) {
                    ts.add(b.data().copy());
                }
                out.put(l.name(), ts);
            }
        }
        return out;
    }

    /** What {@link #copyWeights} did: layers copied, layers of the file the net lacks, net layers the file lacks. */
    public record CopyReport(List<String> copied, List<String> notInNet, List<String> notInFile) {}

    /**
     * Copies weights by layer name (Caffe's {@code CopyTrainedLayersFrom}). A layer present in both with
     * a different number or shape of blobs is an error naming {@code source} and the layer.
     */
    public CopyReport copyWeights(Map<String, List<Tensor>> weights, String source) {
        List<String> copied = new ArrayList<>();
        List<String> notInNet = new ArrayList<>();
        List<String> notInFile = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Layer l : layers) {
            seen.add(l.name());
            if (l.params().isEmpty()) {
                continue;
            }
            List<Tensor> ts = weights.get(l.name());
            if (ts == null) {
                notInFile.add(l.name());
                continue;
            }
            if (ts.size() != l.params().size()) {
                throw new WeightsException(source + ": layer '" + l.name() + "' has " + ts.size()
                        + " param blobs in the file, the net expects " + l.params().size());
            }
            for (int i = 0; i < ts.size(); i++) {
                Blob p = l.params().get(i);
                if (!Arrays.equals(ts.get(i).shape(), p.shape())) {
                    throw new WeightsException(source + ": layer '" + l.name() + "' param " + i + " has shape "
                            + Shapes.str(ts.get(i).shape()) + " in the file, the net expects " + Shapes.str(p.shape()));
                }
            }
            for (int i = 0; i < ts.size(); i++) {
                l.params().get(i).data().copyFrom(ts.get(i));
            }
            copied.add(l.name());
        }
        for (String k : weights.keySet()) {
            if (!seen.contains(k) && !weights.get(k).isEmpty()) {
                notInNet.add(k);
            }
        }
        return new CopyReport(copied, notInNet, notInFile);
    }

    /**
     * Number of parameters: the values of the learnable blobs, each shared blob once, leaving out running
     * statistics ({@link Layer#isStatistic}: BatchNorm's mean, variance and factor), as PyTorch's
     * {@code sum(p.numel() for p in model.parameters())} counts them. Frozen blobs ({@code lr_mult 0}) count.
     */
    public long paramCount() {
        Set<Blob> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        long n = 0;
        for (Layer layer : layers) {
            for (int i = 0; i < layer.params().size(); i++) {
                Blob b = layer.params().get(i);
                if (!layer.isStatistic(i) && seen.add(b)) {
                    n += b.count();
                }
            }
        }
        return n;
    }

    /** Forward FLOPs of layer {@code l} for the current shapes, whole batch ({@link Layer#flops}). */
    public long flops(int l) {
        return layers.get(l).flops(bottoms.get(l), tops.get(l));
    }

    /** Forward FLOPs per image: the sum over the layers ({@link Layer#flops}) divided by the batch size. */
    public long flopsPerImage() {
        long n = 0;
        for (int l = 0; l < layers.size(); l++) {
            n += flops(l);
        }
        return n / Math.max(1, batchSize());
    }

    /** Whether layer {@code l} runs in backward (it leads to the loss and has something to compute). */
    /** Whether backward of layer {@code l} computes the gradient of its bottom {@code i}. */
    public boolean propagatesDown(int l, int i) {
        return propagateDown.get(l)[i];
    }

    public boolean needsBackward(int l) {
        return needsBackward.get(l);
    }

    /** The layers whose forward the net folded into an earlier layer (a Scale into its BatchNorm), by name. */
    public Set<String> foldedLayers() {
        return folded.keySet();
    }

    /** Bottoms and tops of layer {@code l} (for profiling reports and the pipeline's stages). */
    public List<Blob> bottomsOf(int l) {
        return List.copyOf(bottoms.get(l));
    }

    public List<Blob> topsOf(int l) {
        return List.copyOf(tops.get(l));
    }
}
