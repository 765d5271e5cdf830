package org.cortado.engine.net;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.cortado.engine.solver.Param;
import org.cortado.engine.tensor.Blob;

/**
 * How a data-parallel replica sends its gradients while its backward still runs: the layers cut, from
 * the last, into ranges whose params hold about {@code bucketFloats} values each. Backward over range
 * {@code [from, to)} (see {@link Net#backward(int, int, double)}) finishes the gradients of the
 * bucket's params: each param sits in the bucket of the first layer that uses it (a shared param is
 * complete only once its earliest user has run backward; a Scale folded into its BatchNorm, {@link
 * Net#foldedScales}, gets its gradients from the BatchNorm's backward).
 *
 * @param buckets the ranges, last layers first (the order backward produces them)
 */
public record GradientBuckets(List<Bucket> buckets) {
    /** Layers {@code [from, to)} and the indices (into {@link Net#params()}) of the params they complete. */
    public record Bucket(int from, int to, List<Integer> params) {}

    public static GradientBuckets of(Net net, long bucketFloats) {
        if (bucketFloats <= 0) {
            throw new IllegalArgumentException("bucketFloats must be > 0, got " + bucketFloats);
        }
        List<Param> params = net.params();
        Map<Blob, Integer> firstUser = new IdentityHashMap<>();
        List<org.cortado.engine.layers.Layer> layers = net.layers();
        Map<String, Integer> index = new java.util.HashMap<>();
        for (int l = 0; l < layers.size(); l++) {
            index.put(layers.get(l).name(), l);
        }
        for (int l = 0; l < layers.size(); l++) {
            // A Scale folded into its BatchNorm gets its gradients from the BatchNorm's backward.
            String into = net.foldedScales().get(layers.get(l).name());
            int user = into != null ? index.get(into) : l;
            for (Blob b : layers.get(l).params()) {
                firstUser.merge(b, user, Math::min);
            }
        }
        // params completed at each layer
        List<List<Integer>> at = new ArrayList<>();
        for (int l = 0; l < layers.size(); l++) {
            at.add(new ArrayList<>());
        }
        for (int i = 0; i < params.size(); i++) {
            Integer l = firstUser.get(params.get(i).blob());
            if (l == null) {
                throw new IllegalStateException("param " + params.get(i).name() + " belongs to no layer of net " + net.name());
            }
            at.get(l).add(i);
        }
        List<Bucket> out = new ArrayList<>();
        int to = layers.size();
        long size = 0;
        List<Integer> in = new ArrayList<>();
        for (int l = layers.size() - 1; l >= 0; l--) {
            for (int i : at.get(l)) {
                in.add(i);
                size += params.get(i).blob().count();
            }
            if (size >= bucketFloats && l > 0) {
                Collections.sort(in);
                out.add(new Bucket(l, to, List.copyOf(in)));
                to = l;
                size = 0;
                in.clear();
            }
        }
        if (in.isEmpty() && !out.isEmpty()) { // layers without params before the first: they join the last bucket
            Bucket last = out.removeLast();
            out.add(new Bucket(0, last.to(), last.params()));
        } else {
            Collections.sort(in);
            out.add(new Bucket(0, to, List.copyOf(in)));
        }
        return new GradientBuckets(List.copyOf(out));
    }
}
