package org.cortado.engine.net;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.cortado.engine.layers.Layer;
import org.cortado.engine.tensor.Blob;

/**
 * A net as a graph, for drawing it (as Netscope draws a prototxt): each layer with its type, bottom
 * and top blobs, the tops' shapes, its learnable parameter count and its forward FLOPs per image.
 * Edges are implied by blob names: a layer reads the blobs that earlier layers wrote.
 */
public record NetGraph(String name, String phase, long params, long flopsPerImage, List<Node> layers) {

    /** One layer: {@code params} excludes statistics (BatchNorm's running mean and variance), as {@link Net#paramCount()} does. */
    public record Node(String name, String type, List<String> bottoms, List<String> tops, List<int[]> topShapes,
                       long params, long flopsPerImage) {}

    /** Describes {@code net} at its current shapes. */
    public static NetGraph of(Net net) {
        List<Node> nodes = new ArrayList<>();
        int batch = Math.max(1, net.batchSize());
        for (int l = 0; l < net.layers().size(); l++) {
            Layer layer = net.layers().get(l);
            long params = 0;
            for (int i = 0; i < layer.params().size(); i++) {
                if (!layer.isStatistic(i)) {
                    params += layer.params().get(i).count();
                }
            }
            List<int[]> shapes = new ArrayList<>();
            for (Blob b : net.topsOf(l)) {
                shapes.add(b.shape());
            }
            nodes.add(new Node(layer.name(), layer.type(), net.bottomsOf(l).stream().map(Blob::name).toList(),
                    net.topsOf(l).stream().map(Blob::name).toList(), shapes, params, net.flops(l) / batch));
        }
        return new NetGraph(net.name(), net.phase().name(), net.paramCount(), net.flopsPerImage(), nodes);
    }

    /** As JSON: {@code {"name", "phase", "params", "flops_per_image", "layers": [{"name", "type", "bottoms", "tops", "top_shapes", "params", "flops"}]}}. */
    public String toJson() {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode().put("name", name).put("phase", phase).put("params", params)
                .put("flops_per_image", flopsPerImage);
        ArrayNode layers = root.putArray("layers");
        for (Node n : this.layers) {
            ObjectNode o = layers.addObject().put("name", n.name()).put("type", n.type());
            n.bottoms().forEach(o.putArray("bottoms")::add);
            n.tops().forEach(o.putArray("tops")::add);
            ArrayNode shapes = o.putArray("top_shapes");
            for (int[] s : n.topShapes()) {
                ArrayNode a = shapes.addArray();
                for (int d : s) {
                    a.add(d);
                }
            }
            o.put("params", n.params()).put("flops", n.flopsPerImage());
        }
        return root.toString();
    }
}
