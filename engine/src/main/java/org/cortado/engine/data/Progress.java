package org.cortado.engine.data;

/**
 * Told how far long work (an import, a statistics pass) has come; the CLI draws a bar on a terminal
 * or prints plain lines. Called from the working thread: keep it cheap.
 */
@FunctionalInterface
public interface Progress {
    Progress NONE = (done, total) -> {};

    /** {@code done} of {@code total} units (samples, bytes) finished; {@code total} may grow. */
    void update(long done, long total);
}
