package org.cortado.engine.io;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.cortado.engine.DataFormatException;
import org.cortado.engine.tensor.Tensor;

/**
 * numpy {@code .npy} files (format versions 1.0, 2.0 and 3.0), read into and written from float32
 * {@link Tensor}s.
 *
 * <p>Reading supports the little-endian dtypes {@code <f4 <f8 |u1 <i4 <i8} (converted to float32)
 * in C or Fortran order; Fortran-ordered data is transposed into the row-major layout of a Tensor.
 * Writing produces {@code <f4}, C order, format 1.0 (2.0 only when the header would not fit in
 * 1.0's 16-bit length), with the same header bytes as {@code np.save}.
 *
 * <p>Every malformed input raises {@link DataFormatException} naming the source and the problem.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** numpy pads the header so the data starts on a 64-byte boundary (for memory mapping). */
    private static final int ALIGN = 64;
    /** numpy leaves room in the header for the growing axis to reach this many digits. */
    private static final int GROWTH_AXIS_MAX_DIGITS = 21;
    private static final int CHUNK_FLOATS = 8192;

    private Npy() {}

    /**
     * Reads one array from {@code file}; the file must hold exactly the bytes its header declares.
     *
     * @throws DataFormatException if the file is missing, malformed or of an unsupported dtype
     */
    public static Tensor read(Path file) {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            return read(in, file.toString(), Files.size(file));
        } catch (NoSuchFileException e) {
            throw new DataFormatException("npy file " + file + " does not exist", e);
        } catch (IOException e) {
            throw new DataFormatException("cannot read npy file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads one array from {@code in} and leaves the stream just after its data, so several arrays
     * saved one after another into one stream can be read in turn. Does not close {@code in}.
     *
     * @param sourceName names the stream in error messages (a file name, an archive member)
     * @throws DataFormatException if the stream is malformed, truncated or of an unsupported dtype
     */
    public static Tensor read(InputStream in, String sourceName) {
        try {
            return read(in, sourceName, -1);
        } catch (IOException e) {
            throw new DataFormatException("cannot read npy data from " + sourceName + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes {@code tensor} to {@code file} as {@code <f4}, C order, replacing the file.
     *
     * @throws UncheckedIOException naming the file if writing fails
     */
    public static void write(Path file, Tensor tensor) {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file))) {
            writeTo(out, tensor);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write npy file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes {@code tensor} to {@code out} as {@code <f4}, C order. Does not close {@code out}.
     *
     * @throws UncheckedIOException if writing fails
     */
    public static void write(OutputStream out, Tensor tensor) {
        try {
            writeTo(out, tensor);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes the header and the {@code count()} valid floats, little-endian, in chunks. */
    static void writeTo(OutputStream out, Tensor tensor) throws IOException {
        out.write(header(tensor.shape()));
        ByteBuffer buf = ByteBuffer.allocate(CHUNK_FLOATS * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        float[] data = tensor.data();
        for (int start = 0; start < tensor.count(); start += CHUNK_FLOATS) {
            int n = Math.min(CHUNK_FLOATS, tensor.count() - start);
            buf.clear();
            buf.asFloatBuffer().put(data, start, n);
            out.write(buf.array(), 0, n * Float.BYTES);
        }
    }

    /**
     * Reads one array. With a known {@code length} (a file, an archive member; -1 if unknown) the
     * stream must end right after the data, which catches headers that declare fewer elements
     * than are stored, and a short stream is reported before anything large is allocated.
     */
    static Tensor read(InputStream in, String source, long length) throws IOException {
        Header h = readHeader(in, source);
        long nbytes = (long) h.count * h.dtype.size;
        String declared = "header declares shape " + shapeStr(h.shape) + " of " + h.dtype.descr + " (" + nbytes
                + " bytes of data at offset " + h.dataOffset + ")";
        if (length >= 0 && length - h.dataOffset < nbytes) {
            throw new DataFormatException(source + ": truncated: " + declared + " but only "
                    + Math.max(0, length - h.dataOffset) + " bytes follow");
        }
        if (length >= 0 && length - h.dataOffset > nbytes) {
            throw new DataFormatException(source + ": " + declared + " but " + (length - h.dataOffset - nbytes)
                    + " more bytes follow");
        }
        if (nbytes > Integer.MAX_VALUE - 8) {
            throw new DataFormatException(
                    source + ": array of " + nbytes + " bytes is larger than this reader supports (2 GiB)");
        }
        // With an unknown length, readNBytes(int) grows its buffer as data arrives, so a header
        // that lies about a huge shape fails as truncated instead of allocating the declared size.
        byte[] raw = length >= 0 ? new byte[(int) nbytes] : in.readNBytes((int) nbytes);
        int got = length >= 0 ? in.readNBytes(raw, 0, raw.length) : raw.length;
        if (got < nbytes) {
            throw new DataFormatException(source + ": truncated: " + declared + " but only " + got + " bytes follow");
        }
        float[] values = new float[h.count];
        h.dtype.decode(ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN), values);
        if (h.fortranOrder && h.shape.length > 1) {
            values = fortranToC(values, h.shape);
        }
        return new Tensor(values, h.shape);
    }

    // ---- header -------------------------------------------------------------------------------

    /** The parsed header; {@code dataOffset} is where the data starts, for error messages. */
    private record Header(Dtype dtype, boolean fortranOrder, int[] shape, int count, long dataOffset) {}

    private static Header readHeader(InputStream in, String source) throws IOException {
        byte[] magic = in.readNBytes(MAGIC.length + 2);
        int n = Math.min(magic.length, MAGIC.length);
        if (!Arrays.equals(magic, 0, n, MAGIC, 0, n)) {
            throw new DataFormatException(source + ": not an npy file (bad magic at offset 0: expected \\x93NUMPY)");
        }
        if (magic.length < MAGIC.length + 2) {
            throw new DataFormatException(source + ": truncated: " + magic.length
                    + " bytes, too short for the npy magic and format version at offset 0");
        }
        int major = magic[6];
        int lenBytes = switch (major) {
            case 1 -> 2;
            case 2, 3 -> 4;
            default -> throw new DataFormatException(source + ": unsupported npy format version " + major + "."
                    + magic[7] + " at offset 6 (supported: 1.0, 2.0, 3.0)");
        };
        byte[] lenField = in.readNBytes(lenBytes);
        if (lenField.length < lenBytes) {
            throw new DataFormatException(source + ": truncated in the header length at offset 8");
        }
        long headerLen = lenBytes == 2
                ? ByteBuffer.wrap(lenField).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xffffL
                : ByteBuffer.wrap(lenField).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
        if (headerLen > Integer.MAX_VALUE - 8) {
            throw new DataFormatException(source + ": header length " + headerLen + " at offset 8 is too large");
        }
        long headerOffset = 8 + lenBytes;
        byte[] headerBytes = in.readNBytes((int) headerLen);
        if (headerBytes.length < headerLen) {
            throw new DataFormatException(source + ": truncated in the header: " + headerLen
                    + " bytes declared at offset 8, " + headerBytes.length + " present");
        }
        // Versions 1 and 2 store the header as latin1, version 3 as UTF-8 (for unicode field names).
        String text = new String(headerBytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Map<?, ?> dict;
        try {
            dict = new LiteralParser(text).parseDict();
        } catch (IllegalArgumentException e) {
            throw new DataFormatException(source + ": malformed header at offset " + headerOffset + ": "
                    + e.getMessage() + " in " + text.strip());
        }
        Object descr = dict.get("descr");
        Object fortran = dict.get("fortran_order");
        Object shapeObj = dict.get("shape");
        if (!(descr instanceof String) || !(fortran instanceof Boolean) || !(shapeObj instanceof List<?> dims)) {
            throw new DataFormatException(source + ": header at offset " + headerOffset
                    + " needs 'descr' (string), 'fortran_order' (bool) and 'shape' (tuple): " + text.strip());
        }
        Dtype dtype = Dtype.of((String) descr);
        if (dtype == null) {
            throw new DataFormatException(source + ": unsupported dtype '" + descr + "' (supported: "
                    + Stream.of(Dtype.values()).map(d -> d.descr).collect(Collectors.joining(" ")) + ")");
        }
        int[] shape = new int[dims.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
                throw new DataFormatException(source + ": bad dimension " + dims.get(i) + " in header shape " + dims);
            }
            shape[i] = (int) (long) d;
            count *= d;
            if (count > Integer.MAX_VALUE - 8) {
                throw new DataFormatException(source + ": header shape " + dims + " has more than 2^31 elements");
            }
        }
        return new Header(dtype, (Boolean) fortran, shape, (int) count, headerOffset + headerLen);
    }

    /** The header bytes np.save writes for a C-order {@code <f4} array of this shape. */
    private static byte[] header(int[] shape) {
        StringBuilder dict = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': ")
                .append(shapeStr(shape)).append(", }");
        if (shape.length > 0) {
            dict.append(" ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - Integer.toString(shape[0]).length())));
        }
        byte[] text = dict.toString().getBytes(StandardCharsets.ISO_8859_1);
        int hlen = text.length + 1; // + the closing newline
        int lenBytes = 2;
        int pad = ALIGN - (MAGIC.length + 2 + lenBytes + hlen) % ALIGN;
        if (hlen + pad > 0xffff) { // version 1.0 stores the header length in 16 bits
            lenBytes = 4;
            pad = ALIGN - (MAGIC.length + 2 + lenBytes + hlen) % ALIGN;
        }
        ByteBuffer out = ByteBuffer.allocate(MAGIC.length + 2 + lenBytes + hlen + pad).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) (lenBytes == 2 ? 1 : 2)).put((byte) 0);
        if (lenBytes == 2) {
            out.putShort((short) (hlen + pad));
        } else {
            out.putInt(hlen + pad);
        }
        out.put(text).put(" ".repeat(pad).getBytes(StandardCharsets.ISO_8859_1)).put((byte) '\n');
        return out.array();
    }

    /** Python's repr of a shape tuple: {@code ()}, {@code (3,)}, {@code (2, 3)}. */
    private static String shapeStr(int[] shape) {
        if (shape.length == 1) {
            return "(" + shape[0] + ",)";
        }
        return Arrays.stream(shape).mapToObj(Integer::toString).collect(Collectors.joining(", ", "(", ")"));
    }

    /** Reorders column-major (first axis fastest) values into row-major order. */
    private static float[] fortranToC(float[] f, int[] shape) {
        int rank = shape.length;
        int[] cStride = new int[rank];
        cStride[rank - 1] = 1;
        for (int i = rank - 2; i >= 0; i--) {
            cStride[i] = cStride[i + 1] * shape[i + 1];
        }
        float[] c = new float[f.length];
        int[] idx = new int[rank];
        int cOffset = 0;
        for (float v : f) {
            c[cOffset] = v;
            // Advance the multi-index with axis 0 fastest, tracking the row-major offset.
            for (int ax = 0; ax < rank; ax++) {
                cOffset += cStride[ax];
                if (++idx[ax] < shape[ax]) {
                    break;
                }
                cOffset -= cStride[ax] * shape[ax];
                idx[ax] = 0;
            }
        }
        return c;
    }

    // ---- dtypes -------------------------------------------------------------------------------

    /** The element types read so far; each decodes a little-endian buffer into floats. */
    private enum Dtype {
        F4("<f4", 4) {
            @Override
            void decode(ByteBuffer src, float[] dst) {
                src.asFloatBuffer().get(dst);
            }
        },
        F8("<f8", 8) {
            @Override
            void decode(ByteBuffer src, float[] dst) {
                for (int i = 0; i < dst.length; i++) {
                    dst[i] = (float) src.getDouble();
                }
            }
        },
        U1("|u1", 1) {
            @Override
            void decode(ByteBuffer src, float[] dst) {
                for (int i = 0; i < dst.length; i++) {
                    dst[i] = src.get() & 0xff;
                }
            }
        },
        I4("<i4", 4) {
            @Override
            void decode(ByteBuffer src, float[] dst) {
                for (int i = 0; i < dst.length; i++) {
                    dst[i] = src.getInt();
                }
            }
        },
        I8("<i8", 8) {
            @Override
            void decode(ByteBuffer src, float[] dst) {
                for (int i = 0; i < dst.length; i++) {
                    dst[i] = src.getLong();
                }
            }
        };

        final String descr;
        final int size;

        Dtype(String descr, int size) {
            this.descr = descr;
            this.size = size;
        }

        /** Reads {@code dst.length} elements from {@code src}. */
        abstract void decode(ByteBuffer src, float[] dst);

        static Dtype of(String descr) {
            for (Dtype d : values()) {
                if (d.descr.equals(descr)) {
                    return d;
                }
            }
            return null;
        }
    }

    // ---- header dict parser -------------------------------------------------------------------

    /**
     * Parses the Python literal in an npy header: a dict of strings, ints, booleans, None and
     * tuples/lists (numpy reads it with {@code ast.literal_eval}). Integers come back as Long,
     * tuples and lists as List. Throws IllegalArgumentException on anything else.
     */
    private static final class LiteralParser {
        private final String s;
        private int pos;

        LiteralParser(String s) {
            this.s = s;
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
            return switch (c) {
                case '{' -> dict();
                case '(' -> sequence(')');
                case '[' -> sequence(']');
                case '\'', '"' -> string();
                default -> c == '-' || Character.isDigit(c) ? integer() : word();
            };
        }

        private Map<Object, Object> dict() {
            Map<Object, Object> m = new LinkedHashMap<>();
            pos++; // '{'
            while (!peek('}')) {
                Object key = value();
                expect(':');
                m.put(key, value());
                if (!peek('}')) {
                    expect(',');
                }
            }
            pos++;
            return m;
        }

        private List<Object> sequence(char close) {
            List<Object> items = new ArrayList<>();
            pos++; // '(' or '['
            while (!peek(close)) {
                items.add(value());
                if (!peek(close)) {
                    expect(',');
                }
            }
            pos++;
            return items;
        }

        private String string() {
            char quote = s.charAt(pos++);
            int end = s.indexOf(quote, pos);
            if (end < 0) {
                throw new IllegalArgumentException("unterminated string at column " + pos);
            }
            String v = s.substring(pos, end);
            pos = end + 1;
            return v;
        }

        private Long integer() {
            int start = pos;
            if (s.charAt(pos) == '-') {
                pos++;
            }
            while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
                pos++;
            }
            // numpy 1.x wrote Python 2 longs such as "3L" in old headers.
            String digits = s.substring(start, pos);
            if (pos < s.length() && s.charAt(pos) == 'L') {
                pos++;
            }
            try {
                return Long.parseLong(digits);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad integer '" + digits + "' at column " + start);
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
                case "None" -> null;
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
    }
}
