package org.cortado.engine.data;

/**
 * One open shard of a {@link ShardSet}: a file's (or a pair of {@code .npy} files') data array,
 * (N, C, H, W) or (N, H, W), and its label array, (N) or (N, 1).
 */
public interface Shard extends AutoCloseable {

    /** The file (or files) for messages. */
    String name();

    ArrayReader data();

    ArrayReader labels();

    @Override
    void close();

    /** How a shard set opens a shard, and opens it again after it was closed to stay in budget. */
    interface Opener {
        /** The file (or files) for messages, known without opening. */
        String name();

        Shard open();
    }

    /** A shard over two arrays already at hand (in memory, or opened by the caller). */
    static Shard of(String name, ArrayReader data, ArrayReader labels) {
        return new Shard() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public ArrayReader data() {
                return data;
            }

            @Override
            public ArrayReader labels() {
                return labels;
            }

            @Override
            public void close() {
                try (labels) {
                    data.close();
                }
            }
        };
    }
}
