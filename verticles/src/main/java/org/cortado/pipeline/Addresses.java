package org.cortado.pipeline;

/**
 * Every event-bus address of a run, in one place: {@code cortado.<run>.<component>.<what>}.
 *
 * <pre>
 *   loader.requests        coordinator → any node's LoaderGate  batch request (phase, epoch, index, ids)
 *   loader.requests.here   LoaderGate → a ShardLoader of its node (local)  the same request
 *   augment.batches        ShardLoader → any Augmenter        raw batch (uint8 or float32 pixels, labels, ids)
 *   coordinator.batches    Augmenter → Coordinator            float batch, ready for stage 0
 *   coordinator.outputs    last Stage → Coordinator           loss and other outputs of a micro-batch
 *   coordinator.steps      Optimizer → Coordinator            a step's update is applied
 *   coordinator.failures   any → Coordinator                  a component failed (the message names the cause)
 *   coordinator.layers     Optimizer → Coordinator            per-layer stats of a sampled step (dashboard.layer_stats_every)
 *   coordinator.notices    cluster worker → Coordinator       what a worker could not do (its data is missing or differs); logged once
 *   stage.N.forward        Coordinator / Stage N-1 → Stage N  activations of a micro-batch
 *   stage.N.backward       Stage N+1 → Stage N                gradients of a micro-batch
 *   stage.N.params         Optimizer → Stage N                the updated params
 *   stage.N.weights        Coordinator → Stage N (request)    the stage's weights, for a snapshot
 *   optimizer.grads        Stage → Optimizer                  a stage's params and gradients after a step
 *   optimizer.state        Coordinator → Optimizer (request)  the solver state, for a snapshot
 *   optimizer.rate         Coordinator → Optimizer (request)  a new learning rate, from the next update on
 *   control                anyone → Coordinator               {"action": pause | resume | stop | snapshot} or {"action": lr, "lr": x}
 *   metrics                Coordinator → everyone (publish)   one JSON object per step, test pass and epoch
 *   layers                 Coordinator → everyone (publish)   per-layer stats, one object per sampled step
 *   coordinator.nodes      cluster Members → Coordinator (request)  the batches each node has served so far
 *   replicas               cluster worker → Coordinator       a data-parallel replica is ready: {"id"} (its node; said every second)
 *   replica.ID.forward     Coordinator → replica ID           a micro-batch of a step, for forward and backward there
 *   replica.ID.weights     Coordinator / Optimizer → replica ID  the weights a step starts from
 *   optimizer.replica.grads  replica → Optimizer              a bucket of a replica's summed gradients of a step
 *   coordinator.makeup     Optimizer → Coordinator            replicas that did not answer a step: their share runs here
 *   optimizer.dropped      Coordinator → Optimizer            a replica computes nothing more in the steps handed out: {"replica", "through"}
 *   members                worker → cluster Members           a worker serves the run: {"node", "address", "loaders", "augmenters", "replica"}
 *   cluster                cluster Members → everyone (publish)  the members table, once a second
 * </pre>
 */
public record Addresses(String run) {
    /**
     * This process's name on the cluster ({@code pid@host}): augmenters stamp it on the batches they
     * send, so the coordinator can count what each node serves.
     */
    public static final String NODE = java.lang.management.ManagementFactory.getRuntimeMXBean().getName();

    private String a(String what) {
        return "cortado." + run + "." + what;
    }

    public String loaderRequests() {
        return a("loader.requests");
    }

    /** Where a node's {@link LoaderGate} hands requests to the node's own ShardLoaders (local consumers only). */
    public String loaderRequestsHere() {
        return a("loader.requests.here");
    }

    public String augmentBatches() {
        return a("augment.batches");
    }

    public String coordinatorBatches() {
        return a("coordinator.batches");
    }

    /** A test batch's outputs (loss, accuracy), from the last stage; a training step's travel with its gradients. */
    public String coordinatorOutputs() {
        return a("coordinator.outputs");
    }

    public String coordinatorSteps() {
        return a("coordinator.steps");
    }

    public String coordinatorFailures() {
        return a("coordinator.failures");
    }

    public String coordinatorNotices() {
        return a("coordinator.notices");
    }

    public String coordinatorLayers() {
        return a("coordinator.layers");
    }

    public String layers() {
        return a("layers");
    }

    public String stageForward(int stage) {
        return a("stage." + stage + ".forward");
    }

    public String stageBackward(int stage) {
        return a("stage." + stage + ".backward");
    }

    public String stageParams(int stage) {
        return a("stage." + stage + ".params");
    }

    public String stageWeights(int stage) {
        return a("stage." + stage + ".weights");
    }

    public String optimizerGrads() {
        return a("optimizer.grads");
    }

    /** After a failure mid-step: hand the stages their params back unchanged (the step is dropped). */
    public String optimizerAbort() {
        return a("optimizer.abort");
    }

    public String optimizerRate() {
        return a("optimizer.rate");
    }

    public String optimizerState() {
        return a("optimizer.state");
    }

    public String control() {
        return a("control");
    }

    public String metrics() {
        return a("metrics");
    }

    public String coordinatorNodes() {
        return a("coordinator.nodes");
    }

    public String replicas() {
        return a("replicas");
    }

    public String replicaForward(String id) {
        return a("replica." + id + ".forward");
    }

    public String replicaWeights(String id) {
        return a("replica." + id + ".weights");
    }

    public String optimizerReplicaGrads() {
        return a("optimizer.replica.grads");
    }

    public String optimizerDropped() {
        return a("optimizer.dropped");
    }

    public String coordinatorMakeup() {
        return a("coordinator.makeup");
    }

    public String members() {
        return a("members");
    }

    public String cluster() {
        return a("cluster");
    }
}
