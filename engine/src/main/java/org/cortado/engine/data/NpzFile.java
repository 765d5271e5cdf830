package org.cortado.engine.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.CRC32;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.cortado.engine.DataFormatException;

/**
 * numpy {@code .npz} archives: a zip of {@code .npy} members, member {@code NAME.npy} holding array
 * {@code NAME}, as {@code np.savez} (stored) and {@code np.savez_compressed} (deflated) write them,
 * zip64 extra fields included.
 *
 * <p>The zip structure is read by Apache commons-compress, whose {@link ZipFile} knows where each
 * member's data starts. The archive is memory-mapped once: a <em>stored</em> member's reader is a
 * slice of that mapping, exactly like an {@link NpyFile} (no copy, {@code residentBytes() == 0}); a
 * <em>deflated</em> member is inflated into memory when {@link #array} is called, checked against
 * its size and CRC-32, and counted by {@code residentBytes()}.
 *
 * <p>Member readers are views of the archive: they stay valid until the archive is closed, and
 * closing one releases nothing (the archive holds the mapping). {@link #openMember} gives a reader
 * that owns its archive instead.
 * Every malformed archive or member raises {@link DataFormatException} naming the file and member.
 */
public final class NpzFile implements AutoCloseable {
    private static final String SUFFIX = ".npy";
    /** Deflate cannot expand its input more than 1032 times (zlib's FAQ), so a larger claim is damage. */
    private static final long DEFLATE_MAX_RATIO = 1032;
    /** numpy stamps every member with the zip epoch; doing the same keeps archives reproducible. */
    private static final LocalDateTime ZIP_EPOCH = LocalDateTime.of(1980, 1, 1, 0, 0);

    private final Path file;
    private final ZipFile zip;
    private final Arena arena;
    /** The whole archive, mapped read-only. */
    private final MemorySegment mapped;
    /** Array name (member name without .npy) to entry, in archive order. */
    private final SequencedMap<String, ZipArchiveEntry> members;
    private final AtomicBoolean closed = new AtomicBoolean();

    private NpzFile(Path file, ZipFile zip, Arena arena, MemorySegment mapped,
            SequencedMap<String, ZipArchiveEntry> members) {
        this.file = file;
        this.zip = zip;
        this.arena = arena;
        this.mapped = mapped;
        this.members = members;
    }

    /**
     * Reads the archive's directory and maps the file. Members are parsed when asked for.
     *
     * @throws DataFormatException naming the file if it is missing, not a zip archive, or holds a
     *     member that is not an {@code .npy} (or the same member twice)
     */
    public static NpzFile open(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new DataFormatException("npz file " + file + " does not exist");
        }
        Arena arena = Arena.ofShared();
        ZipFile zip = null;
        boolean opened = false;
        try {
            zip = ZipFile.builder().setPath(file).get();
            MemorySegment mapped;
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            }
            SequencedMap<String, ZipArchiveEntry> members = new LinkedHashMap<>();
            for (ZipArchiveEntry entry : Collections.list(zip.getEntries())) {
                String name = entry.getName();
                if (!name.endsWith(SUFFIX)) {
                    throw new DataFormatException("npz file " + file + ": member '" + name + "' is not an .npy array");
                }
                if (members.putIfAbsent(name.substring(0, name.length() - SUFFIX.length()), entry) != null) {
                    throw new DataFormatException("npz file " + file + " holds member '" + name + "' twice");
                }
            }
            NpzFile npz = new NpzFile(file, zip, arena, mapped, members);
            opened = true;
            return npz;
        } catch (DataFormatException e) {
            throw e;
        } catch (FileSystemException e) {
            throw new DataFormatException("cannot read npz file " + file + ": " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            // A damaged archive can surface from the zip library as any exception; all mean the same.
            throw new DataFormatException("npz file " + file + " is not a valid zip archive: " + rootMessage(e), e);
        } finally {
            if (!opened) {
                closeQuietly(zip);
                arena.close();
            }
        }
    }

    /**
     * Opens one member as a reader that owns the archive: closing the reader closes the archive.
     *
     * @throws DataFormatException as {@link #open} and {@link #array} do
     */
    public static NpyFile openMember(Path file, String name) {
        NpzFile npz = open(file);
        try {
            return npz.array(name, npz::close);
        } catch (RuntimeException e) {
            npz.close();
            throw e;
        }
    }

    public Path file() {
        return file;
    }

    /** The arrays' names (members without {@code .npy}), in archive order. */
    public List<String> members() {
        return List.copyOf(members.keySet());
    }

    /**
     * Array {@code name}: a view of the mapping for a stored member, an inflated copy for a deflated
     * one (each call inflates again). Valid until this archive is closed; closing the reader
     * releases nothing.
     *
     * @throws DataFormatException naming the file and the members present if there is no such
     *     member, or naming the member if it is damaged
     */
    public NpyFile array(String name) {
        return array(name, null);
    }

    /** Synchronized: the zip library reads local headers and inflates through one shared channel. */
    private synchronized NpyFile array(String name, Runnable onClose) {
        if (closed.get()) {
            throw new IllegalStateException("npz file " + file + " is closed");
        }
        ZipArchiveEntry entry = members.get(name);
        if (entry == null) {
            throw new DataFormatException("npz file " + file + " has no member '" + name + "' (members: "
                    + String.join(", ", members.keySet()) + ")");
        }
        String source = file + " member " + entry.getName();
        if (entry.getMethod() == ZipArchiveEntry.STORED) {
            return NpyFile.of(source, storedData(entry, source), 0, onClose);
        }
        byte[] bytes = inflate(entry, source);
        return NpyFile.ofInflated(source, MemorySegment.ofArray(bytes).asReadOnly(), bytes.length, onClose);
    }

    /** A stored member's bytes: the slice of the mapping its local header points at. */
    private MemorySegment storedData(ZipArchiveEntry entry, String source) {
        long offset;
        try {
            // The library reads the member's local header (for its data offset) on first access.
            zip.getRawInputStream(entry).close();
            offset = entry.getDataOffset();
        } catch (IOException | RuntimeException e) {
            throw new DataFormatException(source + ": bad local file header: " + rootMessage(e), e);
        }
        long size = entry.getCompressedSize();
        if (entry.getSize() != size) {
            throw new DataFormatException(source + ": stored member declares " + entry.getSize()
                    + " bytes uncompressed but " + size + " stored");
        }
        if (offset < 0 || size < 0 || offset > mapped.byteSize() - size) {
            throw new DataFormatException(source + ": truncated: " + size + " bytes of data at offset " + offset
                    + " run past the end of the archive (" + mapped.byteSize() + " bytes)");
        }
        return mapped.asSlice(offset, size);
    }

    /**
     * A compressed member, inflated by the zip library and checked against the size and CRC-32 of
     * the archive's directory. The declared size is checked first, so a damaged directory cannot
     * make this allocate more than the member's compressed bytes could inflate to.
     */
    private byte[] inflate(ZipArchiveEntry entry, String source) {
        if (!zip.canReadEntryData(entry)) {
            throw new DataFormatException(source + ": compression method " + entry.getMethod()
                    + " or encryption is not supported (np.savez_compressed writes deflate, method 8)");
        }
        long declared = entry.getSize();
        long compressed = entry.getCompressedSize();
        long limit = NpyFile.MAX_BUFFER;
        if (entry.getMethod() == ZipArchiveEntry.DEFLATED && compressed >= 0) {
            limit = Math.min(limit, compressed * DEFLATE_MAX_RATIO + 1024);
        }
        if (declared > limit) {
            throw new DataFormatException(source + ": declares " + declared + " bytes uncompressed from " + compressed
                    + " compressed, more than " + (limit == NpyFile.MAX_BUFFER
                            ? "a compressed member may hold (2 GiB; save large arrays with np.savez to have them mapped)"
                            : "deflate can produce"));
        }
        byte[] bytes;
        try (InputStream in = zip.getInputStream(entry)) {
            if (declared >= 0) {
                bytes = new byte[(int) declared];
                int got = in.readNBytes(bytes, 0, bytes.length);
                if (got < declared) {
                    throw new DataFormatException(source + ": truncated: declares " + declared
                            + " bytes uncompressed but inflates to " + got);
                }
                if (in.read() >= 0) {
                    throw new DataFormatException(source + ": inflates to more than the " + declared + " bytes it declares");
                }
            } else { // size unknown: read what comes, growing as it arrives
                bytes = in.readNBytes((int) limit);
            }
        } catch (DataFormatException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new DataFormatException(source + ": cannot inflate: " + rootMessage(e), e);
        }
        if (entry.getCrc() >= 0) {
            CRC32 crc = new CRC32();
            crc.update(bytes);
            if (crc.getValue() != entry.getCrc()) {
                throw new DataFormatException(source + ": damaged: CRC-32 " + Long.toHexString(crc.getValue())
                        + " of the inflated data, " + Long.toHexString(entry.getCrc()) + " in the archive");
            }
        }
        return bytes;
    }

    /** Unmaps the archive; readers from {@link #array} become unusable. Later calls do nothing. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            closeQuietly(zip);
            arena.close();
        }
    }

    /** The innermost message: the zip library wraps the specific one ("data for x.npy overlaps ..."). */
    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() != null ? t.getMessage() : t.toString();
    }

    /** Closing a read-only zip can only fail in ways a reader can do nothing about. */
    private static void closeQuietly(ZipFile zip) {
        if (zip != null) {
            try {
                zip.close();
            } catch (IOException e) {
                // nothing was written; the mapping, which matters, is released by the arena
            }
        }
    }

    @Override
    public String toString() {
        return "NpzFile[" + file + ", " + members.keySet() + "]";
    }

    // ---- writing ------------------------------------------------------------------------------

    /**
     * Writes each array as member {@code NAME.npy} ({@link NpyFile#write(java.io.OutputStream,
     * ArrayReader)}: its dtype and byte order, C order), in map order, replacing the file.
     *
     * @param compressed deflate the members, like {@code np.savez_compressed}; otherwise store them,
     *                   like {@code np.savez}, so that readers map them
     * @throws UncheckedIOException naming the file if writing fails
     */
    public static void write(Path file, SequencedMap<String, ? extends ArrayReader> arrays, boolean compressed) {
        long epoch = ZIP_EPOCH.atZone(ZoneId.systemDefault()).toInstant().toEpochMilli();
        // On a seekable file the library patches sizes and CRCs into each local header afterwards,
        // so a stored member is written in one pass.
        try (ZipArchiveOutputStream zip = new ZipArchiveOutputStream(file)) {
            for (Map.Entry<String, ? extends ArrayReader> e : arrays.entrySet()) {
                ZipArchiveEntry entry = new ZipArchiveEntry(e.getKey() + SUFFIX);
                entry.setTime(epoch);
                entry.setMethod(compressed ? ZipArchiveEntry.DEFLATED : ZipArchiveEntry.STORED);
                entry.setSize(NpyFile.fileSize(e.getValue()));
                zip.putArchiveEntry(entry);
                NpyFile.write(zip, e.getValue());
                zip.closeArchiveEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write npz file " + file + ": " + e.getMessage(), e);
        } catch (UncheckedIOException e) {
            throw new UncheckedIOException("cannot write npz file " + file + ": " + e.getMessage(), e.getCause());
        }
    }
}
