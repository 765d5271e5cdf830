package org.cortado.engine.data;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.cortado.engine.DataFormatException;

/**
 * numpy {@code .npy} files: the one parser of their header, a memory-mapped {@link ArrayReader}, and
 * a writer whose bytes equal {@code np.save}'s.
 *
 * <p>The format (numpy's {@code lib/format.py}): the magic {@code \x93NUMPY}, the format version
 * (1.0, 2.0 or 3.0), the header length (16 bits little-endian in 1.0, 32 bits in 2.0 and 3.0), and
 * a header that is a Python dict literal, padded with spaces and a newline so the data starts on a
 * 64-byte boundary:
 *
 * <pre>
 *   0           \x93NUMPY, major, minor (1 byte each), header length (2 or 4 bytes)
 *   8 + 2 or 4  {'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }      \n
 *   dataOffset  count(shape) * itemsize bytes, C (row-major) or Fortran (column-major) order
 * </pre>
 *
 * <p>Dtypes: {@code b1 u1 i1 i2 i4 i8 f2 f4 f8} ({@link DType}), little- or big-endian; {@code |} (no
 * order, one-byte types) and {@code =} (native) read as little-endian, the order of every machine
 * that writes .npy files today. Complex, string, object, datetime and structured dtypes are refused.
 *
 * <p>Reading: {@link #open(Path)} maps the file; {@link #rows} of a C-order array are zero-copy
 * slices of the mapping, rows of a Fortran-order array are gathered into a fresh C-order buffer.
 * The file must hold exactly the bytes its header declares. Every malformed input raises {@link
 * DataFormatException} naming the file and the offset; nothing is allocated from a size the file
 * has not been checked to hold.
 */
public final class NpyFile implements ArrayReader {
    /** Files up to this size are read into memory instead of mapped (see {@link #open}). */
    static final long SMALL_FILE_BYTES = 1 << 20;

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** numpy pads the header so the data starts on a 64-byte boundary (for memory mapping). */
    private static final int ALIGN = 64;
    /** numpy leaves room in the header for the growing axis to reach this many digits. */
    private static final int GROWTH_AXIS_MAX_DIGITS = 21;
    /** A numeric array's header is a few hundred bytes (numpy caps the rank at 64): 16 MiB is damage. */
    private static final long MAX_HEADER_BYTES = 1 << 24;
    /** The largest ByteBuffer (and Java array) this reader hands out. */
    static final int MAX_BUFFER = Integer.MAX_VALUE - 8;
    /** Rows are written and converted in pieces of about this many bytes. */
    static final int CHUNK_BYTES = 1 << 20;

    private final String source;
    private final Header header;
    private final int[] shape;
    private final int rows;
    private final int rowElements;
    private final int rowBytes;
    /** The data region only: {@code header.dataBytes()} bytes in the file's order and layout. */
    private final MemorySegment data;
    private final long resident;
    /** Releases what backs {@code data} (unmaps the file); null where the owner releases it. */
    private final Runnable onClose;
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * A parsed {@code .npy} header.
     *
     * @param version      the format's major version: 1, 2 or 3 (the minor is always 0)
     * @param dtype        element type
     * @param order        the data's byte order
     * @param fortranOrder whether the data is stored column-major
     * @param shape        dimensions; {@code []} for a 0-d array
     * @param dataOffset   where the data starts in the file
     */
    public record Header(int version, DType dtype, ByteOrder order, boolean fortranOrder, int[] shape, long dataOffset) {
        public Header {
            shape = shape.clone();
        }

        @Override
        public int[] shape() {
            return shape.clone();
        }

        /** numpy's type string, e.g. {@code <f4}. */
        public String descr() {
            return dtype.numpyDescr(order);
        }

        /** Bytes of data the header declares; saturates at Long.MAX_VALUE for absurd shapes. */
        public long dataBytes() {
            long n = dtype.size;
            for (int d : shape) {
                if (d == 0) {
                    return 0;
                }
                n = n > Long.MAX_VALUE / d ? Long.MAX_VALUE : n * d;
            }
            return n;
        }
    }

    /**
     * Decompressed from a deflated archive member: re-reading any row after a close costs inflating
     * the whole member, so to a sampler the member is one chunk ({@link #chunkRows()}).
     */
    private boolean inflated;

    private NpyFile(String source, Header header, MemorySegment data, long resident, Runnable onClose) {
        this.source = source;
        this.header = header;
        this.shape = header.shape;
        this.rows = shape.length == 0 ? 1 : shape[0];
        long elements = 1;
        for (int i = 1; i < shape.length; i++) {
            elements *= shape[i]; // cannot overflow: checked() bounds a row by 2 GiB
        }
        this.rowElements = (int) elements;
        this.rowBytes = (int) (elements * header.dtype.size);
        this.data = data;
        this.resident = resident;
        this.onClose = onClose;
    }

    // ---- opening ------------------------------------------------------------------------------

    /**
     * Maps {@code file} (reads it, when small) and parses its header. Files up to 2 GiB are mapped
     * plainly and unmapped by the GC; larger ones into an arena that {@link #close()} releases.
     * Either way {@code rows} fails after close.
     *
     * @throws DataFormatException naming the file (and offset) if it is missing, malformed, holds
     *     more or fewer bytes than its header declares, or has an unsupported dtype
     */
    public static NpyFile open(Path file) {
        return open(file, SMALL_FILE_BYTES);
    }

    /** {@link #open(Path)}, reading files up to {@code smallFileBytes} into memory instead of mapping them. */
    static NpyFile open(Path file, long smallFileBytes) {
        String source = file.toString();
        try {
            // A small file (a label array) is read whole: it is read whole at open anyway, and a
            // mapping would hold address space until the GC finds it.
            if (Files.size(file) <= smallFileBytes) {
                byte[] bytes = Files.readAllBytes(file);
                return of(source, MemorySegment.ofArray(bytes).asReadOnly(), bytes.length, null);
            }
        } catch (NoSuchFileException e) {
            throw new DataFormatException("npy file " + file + " does not exist", e);
        } catch (IOException e) {
            throw new DataFormatException("cannot read npy file " + file + ": " + e.getMessage(), e);
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size <= Integer.MAX_VALUE) {
                // A plain mapping: unmapped by the GC once unreachable. Mapping into a shared arena
                // (below) unmaps at close, but each close stops every thread for a handshake,
                // which costs more than the whole read of a small shard.
                MemorySegment npy = size == 0 ? MemorySegment.ofArray(new byte[0])
                        : MemorySegment.ofBuffer(channel.map(FileChannel.MapMode.READ_ONLY, 0, size));
                return of(source, npy, 0, null);
            }
            Arena arena = Arena.ofShared();
            boolean opened = false;
            try {
                NpyFile reader = of(source, channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena), 0, arena::close);
                opened = true;
                return reader;
            } finally {
                if (!opened) {
                    arena.close();
                }
            }
        } catch (NoSuchFileException e) {
            throw new DataFormatException("npy file " + file + " does not exist", e);
        } catch (IOException e) {
            throw new DataFormatException("cannot read npy file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads one array from {@code in} into memory and leaves the stream just after its data, so
     * arrays saved one after another into one stream can be read in turn. Does not close {@code in}.
     * The data is read as it arrives, so a header declaring more than the stream holds fails as
     * truncated without allocating the declared size.
     *
     * @param source names the stream in error messages (a file name, an archive member)
     * @throws DataFormatException naming {@code source} if the stream is malformed or truncated
     */
    public static NpyFile read(String source, InputStream in) {
        try {
            byte[] prelude = in.readNBytes(MAGIC.length + 2);
            int lengthBytes = lengthFieldSize(source, MemorySegment.ofArray(prelude));
            byte[] lengthField = in.readNBytes(lengthBytes);
            // Little-endian, so a 2-byte field zero-extended to 4 bytes reads the same.
            long headerLength = ByteBuffer.wrap(Arrays.copyOf(lengthField, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt()
                    & 0xffffffffL;
            if (lengthField.length == lengthBytes && headerLength > MAX_HEADER_BYTES) {
                throw new DataFormatException(source + ": header length " + headerLength + " at offset 8 is larger"
                        + " than any numeric array needs (" + MAX_HEADER_BYTES + " bytes)");
            }
            // readNBytes(n) grows its buffer as bytes arrive, so a short stream allocates little.
            byte[] text = lengthField.length < lengthBytes ? new byte[0] : in.readNBytes((int) headerLength);
            ByteBuffer head = ByteBuffer.allocate(prelude.length + lengthField.length + text.length);
            head.put(prelude).put(lengthField).put(text);
            Header h = parseHeader(source, MemorySegment.ofArray(head.array()));
            long need = h.dataBytes();
            if (need > MAX_BUFFER) {
                throw new DataFormatException(source + ": " + declared(h) + ", more than an in-memory array holds (2 GiB)");
            }
            byte[] bytes = in.readNBytes((int) need);
            if (bytes.length < need) {
                throw new DataFormatException(source + ": truncated: " + declared(h) + " but only " + bytes.length
                        + " bytes follow");
            }
            return checked(source, h, MemorySegment.ofArray(bytes).asReadOnly(), bytes.length, null);
        } catch (IOException e) {
            throw new DataFormatException("cannot read npy data from " + source + ": " + e.getMessage(), e);
        }
    }

    /**
     * A reader over a whole {@code .npy} image ({@code npy} holds exactly the header and the data),
     * for archive members: a slice of a mapped archive, or an inflated member in memory.
     *
     * @param resident the bytes of {@code npy} held on the heap (0 for a mapping)
     * @param onClose  runs once on {@link #close()}; null if the caller releases {@code npy}
     */
    /** {@link #of}, for a member inflated from a deflated archive entry (see {@link #chunkRows()}). */
    static NpyFile ofInflated(String source, MemorySegment npy, long resident, Runnable onClose) {
        NpyFile f = of(source, npy, resident, onClose);
        f.inflated = true;
        return f;
    }

    /** Rows read together: all of them for an inflated archive member, else 1 (mapped or in memory). */
    @Override
    public int chunkRows() {
        return inflated ? Math.max(1, rows()) : 1;
    }

    static NpyFile of(String source, MemorySegment npy, long resident, Runnable onClose) {
        Header h = parseHeader(source, npy);
        long available = npy.byteSize() - h.dataOffset;
        long need = h.dataBytes();
        if (need > available) {
            throw new DataFormatException(source + ": truncated: " + declared(h) + " but only " + available
                    + " bytes follow");
        }
        if (need < available) {
            throw new DataFormatException(source + ": " + declared(h) + " but " + (available - need)
                    + " more bytes follow");
        }
        return checked(source, h, npy.asSlice(h.dataOffset, need), resident, onClose);
    }

    /** The reader, once the data is known to be there; refuses rows too large for one buffer. */
    private static NpyFile checked(String source, Header h, MemorySegment data, long resident, Runnable onClose) {
        int[] s = h.shape;
        long row = h.dtype.size; // saturating: the rest of an empty array's shape may be absurd
        for (int i = 1; i < s.length; i++) {
            row = s[i] == 0 ? 0 : row > Long.MAX_VALUE / s[i] ? Long.MAX_VALUE : row * s[i];
        }
        if (row > MAX_BUFFER) {
            throw new DataFormatException(source + ": rows of " + row + " bytes (shape " + shapeRepr(s)
                    + ") are larger than this reader supports (2 GiB a row)");
        }
        return new NpyFile(source, h, data, resident, onClose);
    }

    /** The part of every size message: what the header declares and where the data starts. */
    private static String declared(Header h) {
        return "header declares shape " + shapeRepr(h.shape) + " of " + h.descr() + " (" + h.dataBytes()
                + " bytes of data at offset " + h.dataOffset + ")";
    }

    // ---- ArrayReader --------------------------------------------------------------------------

    /** The parsed header: version, byte order, memory layout, data offset. */
    public Header header() {
        return header;
    }

    @Override
    public String source() {
        return source;
    }

    @Override
    public DType dtype() {
        return header.dtype;
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int rowElements() {
        return rowElements;
    }

    /**
     * {@inheritDoc}
     *
     * <p>C order: a read-only slice of the mapping (or of the in-memory member), no copy. Fortran
     * order: the rows gathered into a new buffer.
     *
     * @throws IllegalArgumentException if the rows exceed one buffer (2 GiB): read fewer at a time
     * @throws IllegalStateException    if the reader is closed
     */
    @Override
    public ByteBuffer rows(int start, int count) {
        Objects.checkFromIndexSize(start, count, rows);
        if (closed.get() || !data.scope().isAlive()) { // closed itself, or the archive it is a view of
            throw new IllegalStateException(source + " is closed");
        }
        long bytes = (long) count * rowBytes;
        if (bytes > MAX_BUFFER) {
            throw new IllegalArgumentException(source + ": " + count + " rows of " + rowBytes
                    + " bytes do not fit one buffer (2 GiB); read fewer rows at a time");
        }
        if (header.fortranOrder && shape.length > 1) {
            return gatherFortran(start, count);
        }
        return data.asSlice((long) start * rowBytes, bytes).asByteBuffer().order(header.order);
    }

    /**
     * Gathers rows of a column-major array into row-major order. In Fortran order element
     * {@code (i0, rest)} sits at {@code i0 + d0 * f(rest)}, {@code f} being the column-major rank of
     * {@code rest} over axes 1..; so for each {@code rest} the requested rows are {@code count}
     * consecutive elements of the file, which land {@code rowElements} apart in the output.
     */
    private ByteBuffer gatherFortran(int start, int count) {
        int size = header.dtype.size;
        int rank = shape.length;
        byte[] out = new byte[count * rowBytes]; // (count, d1, ..., dk) C order
        if (out.length == 0) { // also spares walking a huge row of an empty array
            return ByteBuffer.wrap(out).order(header.order);
        }
        MemorySegment dst = MemorySegment.ofArray(out);
        int[] cStride = new int[rank]; // strides of axes 1.. inside one C-order row
        cStride[rank - 1] = 1;
        for (int ax = rank - 2; ax >= 1; ax--) {
            cStride[ax] = cStride[ax + 1] * shape[ax + 1];
        }
        int[] idx = new int[rank];
        long inRow = 0; // C offset of idx inside a row
        long d0 = shape[0];
        for (long f = 0; f < rowElements; f++) {
            long src = (f * d0 + start) * size;
            long dstAt = inRow * size;
            for (int j = 0; j < count; j++) {
                copyElement(src + (long) j * size, dst, dstAt + (long) j * rowBytes, size);
            }
            // Advance idx with axis 1 fastest (column-major), tracking its row-major offset.
            for (int ax = 1; ax < rank; ax++) {
                inRow += cStride[ax];
                if (++idx[ax] < shape[ax]) {
                    break;
                }
                inRow -= (long) cStride[ax] * shape[ax];
                idx[ax] = 0;
            }
        }
        return ByteBuffer.wrap(out).order(header.order);
    }

    /** Copies one element's raw bytes; the byte order is kept, as both sides use the same layout. */
    private void copyElement(long from, MemorySegment dst, long to, int size) {
        switch (size) {
            case 1 -> dst.set(ValueLayout.JAVA_BYTE, to, data.get(ValueLayout.JAVA_BYTE, from));
            case 2 -> dst.set(ValueLayout.JAVA_SHORT_UNALIGNED, to, data.get(ValueLayout.JAVA_SHORT_UNALIGNED, from));
            case 4 -> dst.set(ValueLayout.JAVA_INT_UNALIGNED, to, data.get(ValueLayout.JAVA_INT_UNALIGNED, from));
            default -> dst.set(ValueLayout.JAVA_LONG_UNALIGNED, to, data.get(ValueLayout.JAVA_LONG_UNALIGNED, from));
        }
    }

    /** The bytes of an inflated archive member or a stream read into memory; 0 for a mapped file. */
    @Override
    public long residentBytes() {
        return resident;
    }

    /** Unmaps the file (buffers handed out before become unusable); later calls do nothing. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true) && onClose != null) {
            onClose.run();
        }
    }

    @Override
    public String toString() {
        return "NpyFile[" + source + ", " + header.descr() + " " + shapeRepr(shape)
                + (header.fortranOrder ? " fortran" : "") + "]";
    }

    // ---- writing ------------------------------------------------------------------------------

    /**
     * Writes {@code array} to {@code file} as {@code np.save} would: C order, the array's dtype and
     * byte order, format 1.0 unless the header needs 2.0. Replaces the file.
     *
     * @throws UncheckedIOException naming the file if writing fails
     */
    public static void write(Path file, ArrayReader array) {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file))) {
            writeTo(out, array);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write npy file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes {@code array} to {@code out} as {@link #write(Path, ArrayReader)} does. Does not close
     * {@code out}.
     *
     * @throws UncheckedIOException if writing fails
     */
    public static void write(OutputStream out, ArrayReader array) {
        try {
            writeTo(out, array);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write npy data of " + array.source() + ": " + e.getMessage(), e);
        }
    }

    /** The header, then the rows in chunks of about {@link #CHUNK_BYTES}. */
    private static void writeTo(OutputStream out, ArrayReader array) throws IOException {
        ByteOrder order = array.rows(0, 0).order();
        out.write(headerBytes(array.dtype(), order, false, array.shape()));
        int rowBytes = array.rowElements() * array.dtype().size;
        int perChunk = Math.max(1, CHUNK_BYTES / Math.max(1, rowBytes));
        byte[] copy = null;
        for (int start = 0; start < array.rows(); start += perChunk) {
            ByteBuffer b = array.rows(start, Math.min(perChunk, array.rows() - start));
            if (b.hasArray()) {
                out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
            } else { // read-only or direct (a mapping): copy through the heap
                if (copy == null || copy.length < b.remaining()) {
                    copy = new byte[b.remaining()];
                }
                int n = b.remaining();
                b.get(copy, 0, n);
                out.write(copy, 0, n);
            }
        }
    }

    /** The size of the file {@link #write(Path, ArrayReader)} makes of {@code array}. */
    static long fileSize(ArrayReader array) {
        return headerBytes(array.dtype(), ByteOrder.LITTLE_ENDIAN, false, array.shape()).length
                + (long) array.rows() * array.rowElements() * array.dtype().size;
    }

    /**
     * The header {@code np.save} writes for such an array, magic to newline: the dict's keys
     * sorted, the shape as Python prints a tuple, room for the growing axis (the first, the last in
     * Fortran order) to reach 21 digits, spaces up to a 64-byte boundary; format 1.0, or 2.0 when the
     * header does not fit 1.0's 16-bit length.
     */
    public static byte[] headerBytes(DType dtype, ByteOrder order, boolean fortranOrder, int[] shape) {
        StringBuilder dict = new StringBuilder("{'descr': '").append(dtype.numpyDescr(order))
                .append("', 'fortran_order': ").append(fortranOrder ? "True" : "False")
                .append(", 'shape': ").append(shapeRepr(shape)).append(", }");
        if (shape.length > 0) {
            int growing = shape[fortranOrder ? shape.length - 1 : 0];
            dict.append(" ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - Integer.toString(growing).length())));
        }
        byte[] text = dict.toString().getBytes(StandardCharsets.ISO_8859_1);
        int hlen = text.length + 1; // + the closing newline
        int lengthBytes = 2;
        int pad = ALIGN - (MAGIC.length + 2 + lengthBytes + hlen) % ALIGN;
        if (hlen + pad > 0xffff) { // version 1.0 stores the header length in 16 bits
            lengthBytes = 4;
            pad = ALIGN - (MAGIC.length + 2 + lengthBytes + hlen) % ALIGN;
        }
        ByteBuffer out = ByteBuffer.allocate(MAGIC.length + 2 + lengthBytes + hlen + pad).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) (lengthBytes == 2 ? 1 : 2)).put((byte) 0);
        if (lengthBytes == 2) {
            out.putShort((short) (hlen + pad));
        } else {
            out.putInt(hlen + pad);
        }
        out.put(text).put(" ".repeat(pad).getBytes(StandardCharsets.ISO_8859_1)).put((byte) '\n');
        return out.array();
    }

    /** Python's repr of a shape tuple: {@code ()}, {@code (3,)}, {@code (2, 3)}. */
    static String shapeRepr(int[] shape) {
        if (shape.length == 1) {
            return "(" + shape[0] + ",)";
        }
        return Arrays.stream(shape).mapToObj(Integer::toString).collect(Collectors.joining(", ", "(", ")"));
    }

    // ---- header -------------------------------------------------------------------------------

    private static final Set<String> KEYS = Set.of("descr", "fortran_order", "shape");
    private static final Pattern DESCR = Pattern.compile("([<>|=]?)([a-zA-Z])(\\d+)");

    /**
     * Checks the magic and format version at the start of {@code npy} and returns the size of the
     * header length field that follows (2 bytes in 1.0, 4 in 2.0 and 3.0).
     */
    private static int lengthFieldSize(String source, MemorySegment npy) {
        long length = npy.byteSize();
        for (int i = 0; i < Math.min(length, MAGIC.length); i++) {
            if (npy.get(ValueLayout.JAVA_BYTE, i) != MAGIC[i]) {
                throw new DataFormatException(source + ": not an npy file (bad magic at offset 0: expected \\x93NUMPY)");
            }
        }
        if (length < MAGIC.length + 2) {
            throw new DataFormatException(source + ": truncated: " + length
                    + " bytes, too short for the npy magic and format version at offset 0");
        }
        int major = npy.get(ValueLayout.JAVA_BYTE, 6) & 0xff;
        int minor = npy.get(ValueLayout.JAVA_BYTE, 7) & 0xff;
        if (major < 1 || major > 3 || minor != 0) {
            throw new DataFormatException(source + ": unsupported npy format version " + major + "." + minor
                    + " at offset 6 (supported: 1.0, 2.0, 3.0)");
        }
        return major == 1 ? 2 : 4;
    }

    /** Parses the header at the start of {@code npy}, which may end right after the header. */
    private static Header parseHeader(String source, MemorySegment npy) {
        int lengthBytes = lengthFieldSize(source, npy);
        int major = npy.get(ValueLayout.JAVA_BYTE, 6);
        long length = npy.byteSize();
        long headerOffset = MAGIC.length + 2 + lengthBytes;
        if (length < headerOffset) {
            throw new DataFormatException(source + ": truncated in the header length at offset 8 (" + length
                    + " bytes in all)");
        }
        long headerLength = lengthBytes == 2
                ? npy.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8) & 0xffffL
                : npy.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8) & 0xffffffffL;
        if (headerOffset + headerLength > length) {
            throw new DataFormatException(source + ": truncated in the header: " + headerLength
                    + " bytes declared at offset 8 from offset " + headerOffset + ", " + (length - headerOffset)
                    + " present");
        }
        if (headerLength > MAX_HEADER_BYTES) {
            throw new DataFormatException(source + ": header length " + headerLength + " at offset 8 is larger than"
                    + " any numeric array needs (" + MAX_HEADER_BYTES + " bytes)");
        }
        byte[] bytes = npy.asSlice(headerOffset, headerLength).toArray(ValueLayout.JAVA_BYTE);
        String text;
        if (major == 3) { // 3.0 stores the header as UTF-8 (for unicode field names), 1.0 and 2.0 as latin1
            try {
                text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                throw new DataFormatException(source + ": header at offset " + headerOffset + " is not valid UTF-8");
            }
        } else {
            text = new String(bytes, StandardCharsets.ISO_8859_1);
        }
        Map<?, ?> dict;
        try {
            dict = new PyLiteral(text, major <= 2).parseDict();
        } catch (IllegalArgumentException e) {
            throw new DataFormatException(source + ": malformed header at offset " + headerOffset + ": "
                    + e.getMessage() + " in " + excerpt(text));
        }
        // numpy requires exactly these keys (format.py, _read_array_header).
        if (!dict.keySet().equals(KEYS)) {
            throw new DataFormatException(source + ": header at offset " + headerOffset
                    + " must have exactly the keys 'descr', 'fortran_order' and 'shape', not "
                    + dict.keySet().stream().map(PyLiteral::repr).sorted().collect(Collectors.joining(", ", "[", "]")));
        }
        if (!(dict.get("fortran_order") instanceof Boolean fortran)) {
            throw new DataFormatException(source + ": header at offset " + headerOffset
                    + ": fortran_order is not a bool: " + PyLiteral.repr(dict.get("fortran_order")));
        }
        Object descr = dict.get("descr");
        DType dtype = null;
        ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        Matcher m = descr instanceof String s ? DESCR.matcher(s) : null;
        if (m != null && m.matches() && m.group(3).length() <= 2) {
            dtype = DType.of(m.group(2).charAt(0), Integer.parseInt(m.group(3)));
            order = m.group(1).equals(">") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        }
        if (dtype == null) {
            String why = descr instanceof List<?> ? ": structured arrays are not supported"
                    : descr instanceof PyLiteral.Tuple ? ": sub-array dtypes are not supported" : "";
            throw new DataFormatException(source + ": unsupported dtype " + PyLiteral.repr(descr)
                    + " in the header at offset " + headerOffset + why
                    + " (supported: b1 u1 i1 i2 i4 i8 f2 f4 f8, little- or big-endian)");
        }
        if (!(dict.get("shape") instanceof PyLiteral.Tuple(List<Object> dims))) {
            throw new DataFormatException(source + ": header at offset " + headerOffset + ": shape is not a tuple: "
                    + PyLiteral.repr(dict.get("shape")));
        }
        int[] shape = new int[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
                throw new DataFormatException(source + ": bad dimension " + PyLiteral.repr(dims.get(i))
                        + " in header shape " + PyLiteral.repr(dict.get("shape")) + " at offset " + headerOffset
                        + " (each must be an int in [0, 2^31))");
            }
            shape[i] = (int) (long) d;
        }
        return new Header(major, dtype, order, fortran, shape, headerOffset + headerLength);
    }

    /** The header text for a message, shortened if a damaged length made it huge. */
    private static String excerpt(String text) {
        String s = text.strip();
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }

    // ---- the header's Python literal ----------------------------------------------------------

    /**
     * Parses the Python literal of an npy header, as numpy does with {@code ast.literal_eval}: a
     * dict of strings, ints, booleans, None, tuples and lists. Ints come back as Long, tuples as
     * {@link Tuple}, lists as List, dicts as Map. Throws IllegalArgumentException on anything else,
     * and on nesting deeper than any dtype needs (so damaged input cannot exhaust the stack).
     */
    private static final class PyLiteral {
        private static final int MAX_DEPTH = 32;
        private final String s;
        /** Versions 1.0 and 2.0 may come from Python 2, which wrote longs as {@code 3L}. */
        private final boolean python2Longs;
        private int pos;
        private int depth;

        /** A Python tuple, told apart from a list for numpy's "shape is a tuple" check. */
        record Tuple(List<Object> items) {}

        PyLiteral(String s, boolean python2Longs) {
            this.s = s;
            this.python2Longs = python2Longs;
        }

        Map<?, ?> parseDict() {
            Object v = value();
            skipSpace();
            if (pos != s.length()) {
                throw new IllegalArgumentException("unexpected text at column " + pos);
            }
            if (!(v instanceof Map<?, ?> m)) {
                throw new IllegalArgumentException("expected a dict");
            }
            return m;
        }

        private Object value() {
            skipSpace();
            if (pos >= s.length()) {
                throw new IllegalArgumentException("unexpected end");
            }
            char c = s.charAt(pos);
            if (c == '{' || c == '(' || c == '[') {
                if (++depth > MAX_DEPTH) {
                    throw new IllegalArgumentException("nested deeper than " + MAX_DEPTH + " at column " + pos);
                }
                Object v = c == '{' ? dict() : sequence(c == '(' ? ')' : ']');
                depth--;
                return v;
            }
            if (c == '\'' || c == '"') {
                return string();
            }
            return c == '-' || c == '+' || Character.isDigit(c) ? integer() : word();
        }

        private Map<Object, Object> dict() {
            Map<Object, Object> m = new LinkedHashMap<>();
            pos++; // '{'
            while (!peek('}')) {
                Object key = value();
                if (key instanceof Map<?, ?> || key instanceof List<?>) {
                    throw new IllegalArgumentException("unhashable dict key at column " + pos);
                }
                expect(':');
                m.put(key, value());
                if (!peek('}')) {
                    expect(',');
                }
            }
            pos++;
            return m;
        }

        /** A list, a tuple, or a parenthesized value: {@code (3)} is 3, {@code (3,)} a tuple. */
        private Object sequence(char close) {
            List<Object> items = new ArrayList<>();
            boolean comma = false;
            pos++; // '(' or '['
            while (!peek(close)) {
                items.add(value());
                if (!peek(close)) {
                    expect(',');
                    comma = true;
                }
            }
            pos++;
            if (close == ']') {
                return items;
            }
            if (items.size() == 1 && !comma) {
                return items.getFirst();
            }
            return new Tuple(items);
        }

        private String string() {
            char quote = s.charAt(pos++);
            StringBuilder v = new StringBuilder();
            while (true) {
                if (pos >= s.length()) {
                    throw new IllegalArgumentException("unterminated string");
                }
                char c = s.charAt(pos++);
                if (c == quote) {
                    return v.toString();
                }
                if (c == '\n') {
                    throw new IllegalArgumentException("newline in a string at column " + (pos - 1));
                }
                if (c == '\\' && pos < s.length()) {
                    char e = s.charAt(pos++);
                    switch (e) {
                        case 'n' -> v.append('\n');
                        case 't' -> v.append('\t');
                        case 'r' -> v.append('\r');
                        case '0' -> v.append('\0');
                        case '\\', '\'', '"' -> v.append(e);
                        default -> v.append('\\').append(e); // Python keeps unknown escapes as they are
                    }
                } else {
                    v.append(c);
                }
            }
        }

        private Long integer() {
            int start = pos;
            StringBuilder digits = new StringBuilder();
            if (s.charAt(pos) == '-' || s.charAt(pos) == '+') {
                if (s.charAt(pos) == '-') {
                    digits.append('-');
                }
                pos++;
                skipSpace();
            }
            while (pos < s.length() && (Character.isDigit(s.charAt(pos)) || s.charAt(pos) == '_')) {
                if (s.charAt(pos) != '_') { // Python allows 1_000
                    digits.append(s.charAt(pos));
                }
                pos++;
            }
            if (python2Longs && pos < s.length() && (s.charAt(pos) == 'L' || s.charAt(pos) == 'l')) {
                pos++;
            }
            if (pos < s.length() && (s.charAt(pos) == '.' || s.charAt(pos) == 'e' || s.charAt(pos) == 'j')) {
                throw new IllegalArgumentException("not an int at column " + start);
            }
            try {
                return Long.parseLong(digits.toString());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad int '" + s.substring(start, pos) + "' at column " + start);
            }
        }

        private Object word() {
            int start = pos;
            while (pos < s.length() && Character.isLetter(s.charAt(pos))) {
                pos++;
            }
            return switch (s.substring(start, pos)) {
                case "True" -> Boolean.TRUE;
                case "False" -> Boolean.FALSE;
                case "None" -> NONE;
                default -> throw new IllegalArgumentException(
                        "unexpected character '" + s.charAt(start) + "' at column " + start);
            };
        }

        private boolean peek(char c) {
            skipSpace();
            if (pos >= s.length()) {
                throw new IllegalArgumentException("unexpected end");
            }
            return s.charAt(pos) == c;
        }

        private void expect(char c) {
            if (!peek(c)) {
                throw new IllegalArgumentException("expected '" + c + "' at column " + pos);
            }
            pos++;
        }

        private void skipSpace() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }

        /** Python's None; a marker rather than null, so a missing key and None differ. */
        static final Object NONE = new Object() {
            @Override
            public String toString() {
                return "None";
            }
        };

        /** Python's repr of a parsed value, for messages. */
        static String repr(Object v) {
            return switch (v) {
                case null -> "(missing)";
                case String str -> "'" + str + "'";
                case Boolean b -> b ? "True" : "False";
                case Tuple(List<Object> items) -> items.size() == 1 ? "(" + repr(items.getFirst()) + ",)"
                        : items.stream().map(PyLiteral::repr).collect(Collectors.joining(", ", "(", ")"));
                case List<?> list -> list.stream().map(PyLiteral::repr).collect(Collectors.joining(", ", "[", "]"));
                case Map<?, ?> map -> map.entrySet().stream().map(e -> repr(e.getKey()) + ": " + repr(e.getValue()))
                        .collect(Collectors.joining(", ", "{", "}"));
                default -> v.toString();
            };
        }
    }
}
