package org.cortado.engine.net;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SequencedSet;
import org.cortado.engine.ConfigException;
import org.cortado.engine.layers.Layer;
import org.cortado.engine.solver.Param;
import org.cortado.engine.tensor.Blob;

/**
 * A net cut into contiguous stages, as the pipeline runs it: stage {@code s} owns layers
 * {@code [start(s), end(s))} of the net and their learnable blobs.
 *
 * <p>What crosses a cut at layer {@code t} is {@link #live(int) live(t)}: the blobs some layer before
 * {@code t} produced and some layer from {@code t} on reads (activations, and the labels on their
 * way to the loss). In forward, stage {@code s} receives {@code live(start(s))} and sends
 * {@code live(end(s))}; in backward it receives the gradients of {@link #gradients(int)
 * gradients(end(s))} and sends those of {@code gradients(start(s))}: the live blobs whose producer
 * runs in backward. Blobs are named, so each stage may hold its own copy of the net.
 *
 * <p>Cuts are given as layer names of the config (the first layer of each stage after the first),
 * so one list of cuts serves the TRAIN and the TEST net: a stage starts at the first layer of the
 * net at or after its cut in config order (a layer of the other phase only moves it along). A cut may
 * not separate a BatchNorm from the Scale folded into it.
 */
public final class StagePlan {
    private final Net net;
    private final int[] bounds; // stage s = layers [bounds[s], bounds[s + 1])

    private StagePlan(Net net, int[] bounds) {
        this.net = net;
        this.bounds = bounds;
    }

    /** One stage holding the whole net. */
    public static StagePlan single(Net net) {
        return new StagePlan(net, new int[] {0, net.layers().size()});
    }

    /**
     * Stages starting at the layers named in {@code cuts}, in order.
     *
     * @param configOrder every layer name of the config, in config order (both phases)
     * @param where       names the setting in errors (e.g. {@code "pipeline.stages"})
     */
    public static StagePlan at(Net net, List<String> configOrder, List<String> cuts, String where) {
        Map<String, Integer> order = new HashMap<>();
        for (int i = 0; i < configOrder.size(); i++) {
            order.put(configOrder.get(i), i);
        }
        int[] position = configPositions(net, order);
        int[] bounds = new int[cuts.size() + 2];
        bounds[cuts.size() + 1] = net.layers().size();
        for (int c = 0; c < cuts.size(); c++) {
            String cut = cuts.get(c);
            Integer p = order.get(cut);
            if (p == null) {
                throw new ConfigException(where + "[" + c + "]: no layer named \"" + cut + "\" in the net");
            }
            int l = 0;
            while (l < position.length && position[l] < p) {
                l++;
            }
            if (net.foldedLayers().contains(cut)) {
                throw new ConfigException(where + "[" + c + "]: cannot cut at \"" + cut + "\": this Scale is folded into the"
                        + " BatchNorm before it; cut before the BatchNorm or after the Scale");
            }
            if (l <= bounds[c] || l >= net.layers().size()) {
                throw new ConfigException(where + "[" + c + "]: a cut at \"" + cut + "\" leaves an empty stage in the "
                        + net.phase() + " net; cuts must name layers in config order, after the first layer");
            }
            bounds[c + 1] = l;
        }
        return new StagePlan(net, bounds);
    }

    /**
     * {@code stages} contiguous stages whose summed per-layer costs are as even as possible (the
     * largest stage as small as it can be: the pipeline runs at the pace of its slowest stage).
     * {@code cost[l]} is layer {@code l}'s measured time. Never cuts before a folded Scale.
     */
    public static StagePlan balanced(Net net, int stages, long[] cost) {
        int n = net.layers().size();
        if (cost.length != n) {
            throw new IllegalArgumentException("cost has " + cost.length + " entries for " + n + " layers");
        }
        List<Integer> allowed = new ArrayList<>(); // layers a stage may start at
        for (int l = 1; l < n; l++) {
            if (!net.foldedLayers().contains(net.layers().get(l).name())) {
                allowed.add(l);
            }
        }
        int k = Math.max(1, Math.min(stages, allowed.size() + 1));
        long[] prefix = new long[n + 1];
        for (int l = 0; l < n; l++) {
            prefix[l + 1] = prefix[l] + Math.max(0, cost[l]);
        }
        // best[j][i]: the smallest largest-stage cost splitting layers [0, starts(i)) into j stages,
        // where starts = {0} + allowed + {n}; the classic linear-partition dynamic program.
        int[] starts = new int[allowed.size() + 2];
        for (int i = 0; i < allowed.size(); i++) {
            starts[i + 1] = allowed.get(i);
        }
        starts[starts.length - 1] = n;
        int m = starts.length;
        long[][] best = new long[k + 1][m];
        int[][] from = new int[k + 1][m];
        for (long[] row : best) {
            java.util.Arrays.fill(row, Long.MAX_VALUE);
        }
        best[0][0] = 0;
        for (int j = 1; j <= k; j++) {
            for (int i = 1; i < m; i++) {
                for (int h = j - 1; h < i; h++) {
                    if (best[j - 1][h] == Long.MAX_VALUE) {
                        continue;
                    }
                    long v = Math.max(best[j - 1][h], prefix[starts[i]] - prefix[starts[h]]);
                    if (v < best[j][i]) {
                        best[j][i] = v;
                        from[j][i] = h;
                    }
                }
            }
        }
        int[] bounds = new int[k + 1];
        int i = m - 1;
        for (int j = k; j >= 1; j--) {
            bounds[j] = starts[i];
            i = from[j][i];
        }
        return new StagePlan(net, bounds);
    }

    public Net net() {
        return net;
    }

    public int stages() {
        return bounds.length - 1;
    }

    /** First layer of stage {@code s}. */
    public int start(int s) {
        return bounds[s];
    }

    /** One past the last layer of stage {@code s}. */
    public int end(int s) {
        return bounds[s + 1];
    }

    /** The cut points as layer names (the first layer of every stage but the first). */
    public List<String> cutNames() {
        List<String> names = new ArrayList<>();
        for (int s = 1; s < stages(); s++) {
            names.add(net.layers().get(bounds[s]).name());
        }
        return names;
    }

    /** Blobs produced before layer {@code t} and read from {@code t} on, by name, in first-read order. */
    public SequencedSet<String> live(int t) {
        java.util.Set<Blob> produced = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (int l = 0; l < t; l++) {
            produced.addAll(net.topsOf(l));
        }
        SequencedSet<String> out = new LinkedHashSet<>();
        for (int l = t; l < net.layers().size(); l++) {
            for (Blob b : net.bottomsOf(l)) {
                if (produced.contains(b)) {
                    out.add(b.name());
                }
            }
        }
        return out;
    }

    /** The blobs of {@link #live(int) live(t)} whose gradient flows back across the cut. */
    public SequencedSet<String> gradients(int t) {
        SequencedSet<String> live = live(t);
        SequencedSet<String> out = new LinkedHashSet<>();
        for (String name : live) {
            // The last layer before t that wrote the blob (in-place layers write it again).
            for (int l = t - 1; l >= 0; l--) {
                if (net.topsOf(l).stream().anyMatch(b -> b.name().equals(name))) {
                    if (net.needsBackward(l)) {
                        out.add(name);
                    }
                    break;
                }
            }
        }
        return out;
    }

    /** The learnable params of stage {@code s}'s layers, in net order (shared blobs once). */
    public List<Param> params(int s) {
        java.util.Set<Blob> mine = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (int l = start(s); l < end(s); l++) {
            mine.addAll(net.layers().get(l).params());
        }
        List<Param> out = new ArrayList<>();
        for (Param p : net.params()) {
            if (mine.contains(p.blob())) {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * Checks that no learnable blob is shared between layers of different stages (each stage owns
     * its params); the message names the layers.
     */
    public void requireOwnedParams(String where) {
        Map<Blob, Integer> owner = new java.util.IdentityHashMap<>();
        Map<Blob, String> ownerLayer = new java.util.IdentityHashMap<>();
        for (int s = 0; s < stages(); s++) {
            for (int l = start(s); l < end(s); l++) {
                Layer layer = net.layers().get(l);
                for (Blob b : layer.params()) {
                    Integer o = owner.putIfAbsent(b, s);
                    ownerLayer.putIfAbsent(b, layer.name());
                    if (o != null && o != s) {
                        throw new ConfigException(where + ": layers '" + ownerLayer.get(b) + "' (stage " + o + ") and '"
                                + layer.name() + "' (stage " + s + ") share a param; put them in one stage");
                    }
                }
            }
        }
    }

    /** Config order position of each net layer; an implicit Split takes its producer's. */
    private static int[] configPositions(Net net, Map<String, Integer> order) {
        int[] pos = new int[net.layers().size()];
        int last = -1;
        for (int l = 0; l < pos.length; l++) {
            Integer p = order.get(net.layers().get(l).name());
            last = p != null ? p : last;
            pos[l] = last;
        }
        return pos;
    }
}
