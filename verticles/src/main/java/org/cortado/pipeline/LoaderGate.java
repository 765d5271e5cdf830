package org.cortado.pipeline;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;

/**
 * A node's one door for batch requests: the only consumer of {@link Addresses#loaderRequests} on the
 * node, it hands each request to one of the node's own ShardLoaders ({@link Addresses#loaderRequestsHere}).
 *
 * <p>Why one per node: the clustered event bus picks a node for each message by the number of
 * consumers each node has on the address, and Vert.x 5 gives a node with one consumer no share at all
 * once another node has more (its weights count consumers from 0). A worker started with
 * {@code --loaders 1} beside one with {@code --loaders 2} would never be asked. With one consumer per
 * node every node that serves the run gets an equal share of the requests, and its loaders take turns
 * on them; a node's {@code --loaders} sets how many it reads at once.
 */
public final class LoaderGate extends VerticleBase {
    private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);
    private final Addresses addresses;

    public LoaderGate(Addresses addresses) {
        this.addresses = addresses;
    }

    @Override
    public Future<?> start() {
        var bus = vertx.eventBus();
        String here = addresses.loaderRequestsHere();
        return bus.<TensorMessage>consumer(addresses.loaderRequests(), m -> bus.send(here, m.body(), LOCAL)).completion();
    }
}
