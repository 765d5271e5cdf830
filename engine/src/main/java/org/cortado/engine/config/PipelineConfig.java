package org.cortado.engine.config;

import java.util.List;

/**
 * The {@code pipeline} section: how {@code cortado train} lays the work out over verticles.
 *
 * <pre>{@code
 * "pipeline": {
 *   "threads": 2,              // compute threads (default: all cores)
 *   "stages": ["conv2", "ip1"],// cut points: the first layer of each stage after the first;
 *                              // or "auto" (balanced by measured time, "stage_count" stages); default: one stage
 *   "stage_count": 2,          // with "auto"
 *   "micro_batches": 1,        // GPipe micro-batches per batch (each stage keeps one activation set per micro-batch)
 *   "loaders": 1,              // ShardLoader verticles in this process (0: only cluster workers load)
 *   "augmenters": 1,           // Augmenter verticles
 *   "data_threads": 1,         // threads the loaders, augmenters and the coordinator share
 *   "prefetch": 4,             // batch requests in flight (bounded: nothing is read faster than it is used)
 *   "request_timeout_ms": 10000, // a batch not back by then is requested again
 *   "device": "cpu"            // where the stages and the optimizer compute: "cpu" (default), "cuda" (GPU 0),
 *                              // "cuda:N" (GPU N) or "auto" (GPU 0 when there is a usable one, else the
 *                              // CPU); on a GPU, layers without CUDA kernels run on the host
 * }
 * }</pre>
 *
 * The top-level {@code snapshot} section: {@code every} (steps between snapshots; default the solver's
 * {@code snapshot}, 0 = only at the end and on stop) and {@code keep} (the newest snapshots kept, default 3).
 */
public record PipelineConfig(int threads, List<String> stages, boolean autoStages, int stageCount, int microBatches,
                             int loaders, int augmenters, int dataThreads, int prefetch, long requestTimeoutMs,
                             int snapshotEvery, int snapshotKeep, Device device) {

    public PipelineConfig {
        stages = List.copyOf(stages);
    }

    /** {@code pipeline.device}: where the stages and the optimizer compute. */
    public record Device(Kind kind, int ordinal) {
        public enum Kind { CPU, CUDA, AUTO }

        public static final Device CPU = new Device(Kind.CPU, 0);

        /** Parses {@code "cpu"}, {@code "auto"}, {@code "cuda"} or {@code "cuda:N"}; null when it is none of them. */
        static Device parse(String s) {
            return switch (s) {
                case "cpu" -> CPU;
                case "auto" -> new Device(Kind.AUTO, 0);
                case "cuda" -> new Device(Kind.CUDA, 0);
                default -> s.matches("cuda:\\d{1,3}") ? new Device(Kind.CUDA, Integer.parseInt(s.substring(5))) : null;
            };
        }

        @Override
        public String toString() {
            return kind == Kind.CUDA ? "cuda:" + ordinal : kind.name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Reads {@code pipeline} and {@code snapshot} of {@code root}; {@code solverSnapshot} is the solver's interval. */
    public static PipelineConfig parse(Json root, int solverSnapshot) {
        int threads = Runtime.getRuntime().availableProcessors();
        List<String> stages = List.of();
        boolean auto = false;
        int stageCount = 2;
        int micro = 1;
        int loaders = 1;
        int augmenters = 1;
        int dataThreads = 1;
        int prefetch = 4;
        long timeout = 10_000;
        Device device = Device.CPU;
        var p = root.optObject("pipeline");
        if (p.isPresent()) {
            Json j = p.get();
            threads = j.positive("threads", j.getInt("threads", threads));
            if (j.has("stages") && j.node().get("stages").isTextual()) {
                String s = j.getString("stages", "");
                if (!s.equals("auto")) {
                    throw j.error("stages", "expected \"auto\" or a list of layer names, got \"" + s + "\"");
                }
                auto = true;
            } else {
                stages = j.strings("stages");
            }
            stageCount = j.positive("stage_count", j.getInt("stage_count", stageCount));
            micro = j.positive("micro_batches", j.getInt("micro_batches", micro));
            loaders = j.nonNegative("loaders", j.getInt("loaders", loaders));
            augmenters = j.positive("augmenters", j.getInt("augmenters", augmenters));
            dataThreads = j.positive("data_threads", j.getInt("data_threads", dataThreads));
            prefetch = j.positive("prefetch", j.getInt("prefetch", prefetch));
            timeout = j.getLong("request_timeout_ms", timeout);
            if (timeout <= 0) {
                throw j.error("request_timeout_ms", "must be > 0, got " + timeout);
            }
            String d = j.getString("device", "cpu");
            device = Device.parse(d);
            if (device == null) {
                throw j.error("device", "expected \"cpu\", \"cuda\", \"cuda:N\" (a GPU's number) or \"auto\", got \""
                        + d + "\"");
            }
            j.rejectUnknown();
        }
        int every = solverSnapshot;
        int keep = 3;
        var s = root.optObject("snapshot");
        if (s.isPresent()) {
            Json j = s.get();
            every = j.nonNegative("every", j.getInt("every", every));
            keep = j.positive("keep", j.getInt("keep", keep));
            j.rejectUnknown();
        }
        return new PipelineConfig(threads, stages, auto, stageCount, micro, loaders, augmenters, dataThreads, prefetch, timeout,
                every, keep, device);
    }

    /** This config with {@code threads} replaced. */
    public PipelineConfig withThreads(int t) {
        return new PipelineConfig(t, stages, autoStages, stageCount, microBatches, loaders, augmenters, dataThreads, prefetch,
                requestTimeoutMs, snapshotEvery, snapshotKeep, device);
    }
}
