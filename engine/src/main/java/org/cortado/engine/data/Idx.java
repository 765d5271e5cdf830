package org.cortado.engine.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;
import org.cortado.engine.DataFormatException;

/**
 * IDX files (the format of MNIST and Fashion-MNIST), plain or gzip-compressed ({@code .gz}).
 *
 * <p>Layout: two zero bytes, a type byte ({@code 0x08} uint8, {@code 0x09} int8, {@code 0x0B} int16,
 * {@code 0x0C} int32, {@code 0x0D} float32, {@code 0x0E} float64), the number of dimensions, then
 * each dimension as a big-endian int32, then the data, big-endian, row-major.
 */
public final class Idx {
    private Idx() {}

    /**
     * Reads a whole IDX file into memory (its multi-byte elements stay big-endian: the returned
     * array's buffer has that order).
     *
     * @throws DataFormatException naming the file and offset if it is missing, damaged or truncated
     */
    public static NdArray read(Path file) {
        boolean gz = file.getFileName().toString().endsWith(".gz");
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = new BufferedInputStream(gz ? new GZIPInputStream(raw, 1 << 16) : raw, 1 << 16)) {
            return read(new DataInputStream(in), file + (gz ? " (after gunzip)" : ""));
        } catch (NoSuchFileException e) {
            throw new DataFormatException("IDX file " + file + " does not exist", e);
        } catch (ZipException e) {
            throw new DataFormatException(file + ": not a valid gzip file: " + e.getMessage(), e);
        } catch (EOFException e) {
            throw new DataFormatException(file + ": truncated (ends inside the header or gzip stream)", e);
        } catch (IOException e) {
            throw new DataFormatException("cannot read IDX file " + file + ": " + e.getMessage(), e);
        }
    }

    private static NdArray read(DataInputStream in, String source) throws IOException {
        int zero0 = in.readUnsignedByte();
        int zero1 = in.readUnsignedByte();
        int type = in.readUnsignedByte();
        int rank = in.readUnsignedByte();
        if (zero0 != 0 || zero1 != 0) {
            throw new DataFormatException(source + ": not an IDX file (bytes 0-1 must be zero, got "
                    + zero0 + ", " + zero1 + ")");
        }
        DType dtype = switch (type) {
            case 0x08 -> DType.U1;
            case 0x09 -> DType.I1;
            case 0x0B -> DType.I2;
            case 0x0C -> DType.I4;
            case 0x0D -> DType.F4;
            case 0x0E -> DType.F8;
            default -> throw new DataFormatException(source + ": unknown IDX type code 0x"
                    + Integer.toHexString(type) + " at offset 2 (known: 08 09 0B 0C 0D 0E)");
        };
        if (rank == 0) {
            throw new DataFormatException(source + ": IDX header declares 0 dimensions at offset 3");
        }
        int[] shape = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++) {
            shape[i] = in.readInt();
            if (shape[i] < 0) {
                throw new DataFormatException(source + ": dimension " + i + " at offset " + (4 + 4 * i)
                        + " is negative (" + shape[i] + ")");
            }
        }
        // The product of the dimensions can exceed even a long for an absurd header: checked
        // arithmetic, and a zero dimension means no data whatever the others say.
        long bytes;
        try {
            if (java.util.Arrays.stream(shape).anyMatch(d -> d == 0)) {
                count = 0;
            } else {
                for (int d : shape) {
                    count = Math.multiplyExact(count, (long) d);
                }
            }
            bytes = Math.multiplyExact(count, (long) dtype.size);
        } catch (ArithmeticException e) {
            throw new DataFormatException(source + ": header declares dimensions " + java.util.Arrays.toString(shape)
                    + ", more data than fits in a long; at most 2 GiB per file", e);
        }
        if (bytes > Integer.MAX_VALUE - 8) {
            throw new DataFormatException(source + ": header declares " + bytes + " bytes of data; at most 2 GiB per file");
        }
        // readNBytes grows its buffer as data arrives: a header that lies about a huge size fails as
        // truncated instead of allocating what it claims.
        byte[] data = in.readNBytes((int) bytes);
        long offset = 4 + 4L * rank;
        if (data.length < bytes) {
            throw new DataFormatException(source + ": truncated: the header declares " + bytes
                    + " bytes of data at offset " + offset + ", only " + data.length + " follow");
        }
        if (in.read() != -1) {
            throw new DataFormatException(source + ": more bytes follow the " + bytes
                    + " bytes of data the header declares at offset " + offset);
        }
        return new NdArray(source, dtype, shape, ByteBuffer.wrap(data).order(ByteOrder.BIG_ENDIAN));
    }
}
