package org.cortado.engine.data;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
import org.cortado.engine.DataFormatException;

/**
 * Decompressed HDF5 chunks, least recently used first out, bounded in bytes: of one dataset, or
 * shared by the datasets of a {@link ShardSet} (keys carry the reader that owns the chunk), so that
 * the most recently read chunks stay whichever file they come from.
 *
 * <p>The lock guards only the map: a chunk is decompressed by the first thread that asks for it,
 * outside the lock, and threads asking for the same chunk meanwhile wait for that result instead of
 * decompressing it again:
 *
 * <pre>
 *   get(k):  lock { slot = map[k]; if absent: map[k] = new slot, this thread loads }
 *            loader:  bytes = load()  (no lock)  lock { count bytes, evict LRU } ; slot.complete(bytes)
 *            others:  slot.join()
 *   failure: lock { remove slot } ; slot fails, waiters rethrow the loader's error
 * </pre>
 *
 * Only loaded chunks count towards the capacity, and only they are evicted; a chunk larger than the
 * whole capacity serves the read that loaded it and is not kept. Evicting a chunk never disturbs a
 * reader still copying from it: it simply stops being reachable from the cache.
 */
final class Hdf5ChunkCache {
    private final long capacity;
    private final LinkedHashMap<Key, Slot> slots = new LinkedHashMap<>(16, 0.75f, true); // access order
    private long resident;

    /** A chunk of one reader. */
    private record Key(Object owner, long chunk) {}

    private static final class Slot {
        final CompletableFuture<byte[]> value = new CompletableFuture<>();
        int bytes; // counted in resident once loaded, 0 while loading
    }

    Hdf5ChunkCache(long capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("chunk cache capacity must be >= 0 bytes, got " + capacity);
        }
        this.capacity = capacity;
    }

    /** The chunk under {@code key}, loaded by {@code loader} if no thread has it or is loading it. */
    byte[] get(Object owner, long chunk, Supplier<byte[]> loader) {
        Key key = new Key(owner, chunk);
        Slot slot;
        boolean load;
        synchronized (this) {
            slot = slots.get(key);
            load = slot == null;
            if (load) {
                slot = new Slot();
                slots.put(key, slot);
            }
        }
        if (!load) {
            return await(slot);
        }
        byte[] bytes;
        try {
            bytes = loader.get();
        } catch (RuntimeException | Error e) {
            synchronized (this) {
                slots.remove(key, slot);
            }
            slot.value.completeExceptionally(e);
            throw e;
        }
        synchronized (this) {
            if (bytes.length > capacity) {
                slots.remove(key, slot);
            } else if (slots.get(key) == slot) { // not cleared while loading
                slot.bytes = bytes.length;
                resident += bytes.length;
                evictBeyondCapacity(slot);
            }
        }
        slot.value.complete(bytes);
        return bytes;
    }

    private void evictBeyondCapacity(Slot keep) {
        for (Iterator<Map.Entry<Key, Slot>> it = slots.entrySet().iterator(); resident > capacity && it.hasNext(); ) {
            Slot s = it.next().getValue();
            if (s != keep && s.bytes > 0) {
                resident -= s.bytes;
                it.remove();
            }
        }
    }

    private static byte[] await(Slot slot) {
        try {
            return slot.value.join();
        } catch (CompletionException e) {
            // Rethrown from this thread, so its stack trace shows where this reader asked.
            if (e.getCause() instanceof DataFormatException d) {
                throw new DataFormatException(d.getMessage(), d);
            }
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    /** Bytes of the chunks held. */
    synchronized long residentBytes() {
        return resident;
    }

    synchronized void clear() {
        slots.clear();
        resident = 0;
    }

    /** Drops the chunks of {@code owner} (a reader being closed). */
    synchronized void clear(Object owner) {
        for (Iterator<Map.Entry<Key, Slot>> it = slots.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Key, Slot> e = it.next();
            if (e.getKey().owner() == owner) {
                resident -= e.getValue().bytes;
                it.remove();
            }
        }
    }
}
