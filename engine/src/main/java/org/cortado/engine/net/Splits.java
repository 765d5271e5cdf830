package org.cortado.engine.net;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.cortado.engine.config.Json;
import org.cortado.engine.layers.LayerConfig;

/**
 * Caffe's {@code insert_splits}: where one version of a blob is read by more than one layer, a
 * {@code Split} layer is inserted right after its producer, with one top per reader
 * ({@code NAME_PRODUCER_split_K}); readers are rewired to their own top. Split's backward sums the
 * readers' gradients, so fan-out needs no special case anywhere else.
 *
 * <p>A blob's version changes when an in-place layer rewrites it; each version is counted on its own.
 */
final class Splits {
    private Splits() {}

    /**
     * The rewired layers, and the names of layers that were in place on a blob that now reaches them
     * through a split: they read their split copy and write a fresh blob under the old name, so the
     * other readers still see the value from before that layer.
     */
    record Result(List<LayerConfig> layers, java.util.Set<String> rebinding) {}

    static Result insert(List<LayerConfig> layers) {
        java.util.Set<String> rebinding = new java.util.HashSet<>();
        // Pass 1: for each (layer, top) version, how many later bottoms read it.
        Map<String, int[]> current = new HashMap<>(); // blob name -> {producer layer, top index}
        Map<Long, Integer> readers = new HashMap<>();
        for (int l = 0; l < layers.size(); l++) {
            LayerConfig c = layers.get(l);
            for (String b : c.bottoms()) {
                int[] v = current.get(b);
                if (v != null) {
                    readers.merge(key(v[0], v[1]), 1, Integer::sum);
                }
            }
            for (int t = 0; t < c.tops().size(); t++) {
                current.put(c.tops().get(t), new int[] {l, t});
            }
        }
        // Pass 2: rebuild with splits after producers of multiply-read versions.
        List<LayerConfig> out = new ArrayList<>();
        current.clear();
        Map<Long, Integer> handedOut = new HashMap<>();
        for (int l = 0; l < layers.size(); l++) {
            LayerConfig c = layers.get(l);
            List<String> bottoms = new ArrayList<>();
            for (String b : c.bottoms()) {
                int[] v = current.get(b);
                Integer n = v == null ? null : readers.get(key(v[0], v[1]));
                if (n != null && n > 1) {
                    int k = handedOut.merge(key(v[0], v[1]), 1, Integer::sum) - 1;
                    bottoms.add(splitName(b, layers.get(v[0]).name(), k));
                } else {
                    bottoms.add(b);
                }
            }
            for (int i = 0; i < bottoms.size(); i++) {
                if (!bottoms.get(i).equals(c.bottoms().get(i)) && c.tops().contains(c.bottoms().get(i))) {
                    rebinding.add(c.name());
                }
            }
            out.add(bottoms.equals(c.bottoms()) ? c : new LayerConfig(c.name(), c.type(), bottoms, c.tops(),
                    c.params(), c.includePhase(), c.excludePhase(), c.lossWeights(), c.json()));
            for (int t = 0; t < c.tops().size(); t++) {
                String top = c.tops().get(t);
                current.put(top, new int[] {l, t});
                Integer n = readers.get(key(l, t));
                if (n != null && n > 1) {
                    List<String> splitTops = new ArrayList<>();
                    for (int k = 0; k < n; k++) {
                        splitTops.add(splitName(top, c.name(), k));
                    }
                    String name = top + "_" + c.name() + "_split";
                    Json json = Json.of(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode(),
                            c.path() + " (implicit split of top \"" + top + "\")");
                    out.add(new LayerConfig(name, "Split", List.of(top), splitTops, List.of(), null, null,
                            new double[0], json));
                }
            }
        }
        return new Result(out, rebinding);
    }

    private static long key(int layer, int top) {
        return ((long) layer << 32) | top;
    }

    static String splitName(String blob, String producer, int k) {
        return blob + "_" + producer + "_split_" + k;
    }
}
