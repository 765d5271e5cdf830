package org.cortado.engine.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.cortado.engine.DataFormatException;
import org.cortado.engine.tensor.Tensor;

/**
 * numpy {@code .npz} archives: a zip of {@code .npy} members, as written by {@code np.savez}
 * (stored) and {@code np.savez_compressed} (deflated). Member {@code name.npy} is array {@code name}.
 * Members are read with {@link Npy}, so they support the same dtypes.
 */
public final class Npz {
    private static final String SUFFIX = ".npy";
    /** numpy stamps every member with the zip epoch; doing the same keeps archives reproducible. */
    private static final LocalDateTime ZIP_EPOCH = LocalDateTime.of(1980, 1, 1, 0, 0);

    private Npz() {}

    /**
     * Reads every array in the archive, in archive order.
     *
     * @throws DataFormatException naming the file (and member) if the file is missing, not a zip,
     *     holds a member that is not an {@code .npy}, or holds a malformed array
     */
    public static LinkedHashMap<String, Tensor> read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new DataFormatException("npz file " + file + " does not exist");
        }
        LinkedHashMap<String, Tensor> arrays = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry entry = entries.nextElement();
                String name = entry.getName();
                if (!name.endsWith(SUFFIX)) {
                    throw new DataFormatException("npz file " + file + ": member '" + name + "' is not an .npy array");
                }
                try (InputStream in = zip.getInputStream(entry)) {
                    arrays.put(name.substring(0, name.length() - SUFFIX.length()),
                            Npy.read(in, file + " member " + name, entry.getSize()));
                }
            }
        } catch (ZipException e) {
            throw new DataFormatException("npz file " + file + " is not a valid zip archive: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new DataFormatException("cannot read npz file " + file + ": " + e.getMessage(), e);
        }
        return arrays;
    }

    /** Writes {@code arrays} uncompressed, like {@code np.savez}; see {@link #write(Path, SequencedMap, boolean)}. */
    public static void write(Path file, SequencedMap<String, Tensor> arrays) {
        write(file, arrays, false);
    }

    /**
     * Writes each array as member {@code key.npy} ({@code <f4}, C order), in map order, replacing
     * the file.
     *
     * @param compressed deflate the members, like {@code np.savez_compressed}; otherwise store them
     * @throws UncheckedIOException naming the file if writing fails
     */
    public static void write(Path file, SequencedMap<String, Tensor> arrays, boolean compressed) {
        try (ZipOutputStream zip = new ZipOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
            for (Map.Entry<String, Tensor> e : arrays.entrySet()) {
                ZipEntry entry = new ZipEntry(e.getKey() + SUFFIX);
                entry.setTimeLocal(ZIP_EPOCH);
                if (compressed) {
                    entry.setMethod(ZipEntry.DEFLATED);
                } else {
                    // A stored entry needs its size and CRC up front: serialise once to measure.
                    entry.setMethod(ZipEntry.STORED);
                    CrcCounter measure = new CrcCounter();
                    Npy.writeTo(measure, e.getValue());
                    entry.setSize(measure.count);
                    entry.setCompressedSize(measure.count);
                    entry.setCrc(measure.crc.getValue());
                }
                zip.putNextEntry(entry);
                Npy.writeTo(zip, e.getValue());
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write npz file " + file + ": " + e.getMessage(), e);
        }
    }

    /** Discards what is written, keeping its length and CRC-32. */
    private static final class CrcCounter extends OutputStream {
        final CRC32 crc = new CRC32();
        long count;

        @Override
        public void write(int b) {
            crc.update(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            crc.update(b, off, len);
            count += len;
        }
    }
}
