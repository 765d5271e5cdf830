package org.cortado.engine.config;

/**
 * The solver fields that say when things happen, with Caffe's names and defaults: {@code max_iter}
 * (required, > 0), {@code test_interval} (0: never), {@code test_iter} (batches per test pass, default
 * 0 meaning "the whole test set" where the loader knows its size), {@code test_initialization} (true:
 * test before the first step), {@code display} (0: never), {@code snapshot} (0: only at the end),
 * {@code snapshot_prefix}.
 */
public record Schedule(long maxIter, int testInterval, int testIter, boolean testInitialization, int display,
                       int snapshot, String snapshotPrefix) {

    public static Schedule parse(Json solver) {
        long maxIter = solver.getLong("max_iter", -1);
        if (maxIter <= 0) {
            throw solver.error("max_iter", maxIter == -1 ? "required (number of training iterations)"
                    : "must be > 0, got " + maxIter);
        }
        return new Schedule(maxIter,
                solver.nonNegative("test_interval", solver.getInt("test_interval", 0)),
                solver.nonNegative("test_iter", solver.getInt("test_iter", 0)),
                solver.getBool("test_initialization", true),
                solver.nonNegative("display", solver.getInt("display", 0)),
                solver.nonNegative("snapshot", solver.getInt("snapshot", 0)),
                solver.getString("snapshot_prefix", ""));
    }
}
