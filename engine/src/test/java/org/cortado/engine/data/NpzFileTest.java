package org.cortado.engine.data;

import static org.cortado.engine.data.NpyFixtures.assertElements;
import static org.cortado.engine.data.NpyFixtures.bytes;
import static org.cortado.engine.data.NpyFixtures.fixture;
import static org.cortado.engine.data.NpyFixtures.formulaArray;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.SequencedMap;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.cortado.engine.DataFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** NpzFile against np.savez / np.savez_compressed archives, and numpy reading what we write. */
class NpzFileTest {
    /** The fixture archives' members (make_npy_fixtures.py, npz()): name, dtype code, order, shape. */
    private record Member(String name, String code, ByteOrder order, boolean fortran, int... shape) {}

    private static final List<Member> MEMBERS = List.of(
            new Member("images", "u1", ByteOrder.LITTLE_ENDIAN, false, 3, 2, 2),
            new Member("labels", "i8", ByteOrder.LITTLE_ENDIAN, false, 5),
            new Member("weights", "f4", ByteOrder.BIG_ENDIAN, true, 3, 4),
            new Member("mask", "b1", ByteOrder.LITTLE_ENDIAN, false, 3, 4),
            new Member("half", "f2", ByteOrder.LITTLE_ENDIAN, false));

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"stored.npz", "deflated.npz"})
    void readsNumpyArchives(String name) {
        Path file = fixture(name);
        boolean stored = name.equals("stored.npz");
        try (NpzFile npz = NpzFile.open(file)) {
            assertEquals(MEMBERS.stream().map(Member::name).toList(), npz.members());
            for (Member m : MEMBERS) {
                NpyFile a = npz.array(m.name);
                assertEquals(file + " member " + m.name + ".npy", a.source());
                assertEquals(NpyFixtures.dtype(m.code), a.dtype());
                assertArrayEquals(m.shape, a.shape());
                assertEquals(m.fortran, a.header().fortranOrder());
                if (a.dtype().size > 1) {
                    assertEquals(m.order, a.header().order(), m.name);
                }
                ByteBuffer all = a.rows(0, a.rows());
                assertElements(name + " " + m.name, m.code, all, 0, a.rows() * a.rowElements());
                for (int r = 0; r < a.rows(); r++) {
                    assertElements(m.name + " row " + r, m.code, a.rows(r, 1), (long) r * a.rowElements(), a.rowElements());
                }
                if (stored) {
                    assertEquals(0, a.residentBytes(), "a stored member is mapped, not copied");
                    if (!m.fortran) {
                        assertInstanceOf(MappedByteBuffer.class, all);
                    }
                } else {
                    long npyBytes = a.header().dataOffset() + a.header().dataBytes();
                    assertEquals(npyBytes, a.residentBytes(), "a deflated member is inflated once");
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"stored.npz", "deflated.npz"})
    void fixturesCarryNumpysZip64ExtraFields(String name) {
        // np.savez forces zip64 in every local header: this is what the readers above went through.
        ByteBuffer zip = ByteBuffer.wrap(bytes(fixture(name))).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x04034b50, zip.getInt(0), "local file header");
        int nameLength = zip.getShort(26);
        int extraLength = zip.getShort(28);
        assertTrue(extraLength >= 20, "extra field of " + extraLength + " bytes");
        assertEquals(0x0001, zip.getShort(30 + nameLength), "zip64 extended information extra field");
    }

    @Test
    void missingMemberNamesTheFileAndTheMembersPresent() {
        Path file = fixture("stored.npz");
        try (NpzFile npz = NpzFile.open(file)) {
            DataFormatException e = assertThrows(DataFormatException.class, () -> npz.array("pixels"));
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("'pixels'"), e.getMessage());
            assertTrue(e.getMessage().contains("images, labels, weights, mask, half"), e.getMessage());
        }
    }

    @Test
    void memberViewsEndWithTheArchiveAndOpenMemberOwnsIt() {
        NpzFile npz = NpzFile.open(fixture("stored.npz"));
        NpyFile labels = npz.array("labels");
        npz.array("images").close(); // a view: closing it leaves the archive open
        assertElements("labels", "i8", labels.rows(0, 5), 0, 5);
        assertElements("images", "u1", npz.array("images").rows(0, 3), 0, 12);
        npz.close();
        assertThrows(IllegalStateException.class, () -> labels.rows(0, 1));
        assertThrows(IllegalStateException.class, () -> npz.array("labels"));

        NpyFile owner = NpzFile.openMember(fixture("stored.npz"), "images");
        assertElements("images", "u1", owner.rows(0, 3), 0, 12);
        owner.close();
        assertThrows(IllegalStateException.class, () -> owner.rows(0, 1));
        assertFails(() -> NpzFile.openMember(fixture("stored.npz"), "nope"), fixture("stored.npz"), "'nope'");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void roundTripsEveryDtypeAndByteOrder(boolean compressed) throws IOException {
        SequencedMap<String, NdArray> arrays = new LinkedHashMap<>();
        for (String code : NpyFixtures.CODES) {
            arrays.put(code + "_le", formulaArray(code, ByteOrder.LITTLE_ENDIAN, 3, 4));
            arrays.put(code + "_be", formulaArray(code, ByteOrder.BIG_ENDIAN, 2, 3, 2));
        }
        arrays.put("scalar", formulaArray("f8", ByteOrder.LITTLE_ENDIAN));
        arrays.put("empty", formulaArray("i8", ByteOrder.LITTLE_ENDIAN, 0, 5));
        Path file = tmp.resolve("all.npz");
        NpzFile.write(file, arrays, compressed);

        try (NpzFile npz = NpzFile.open(file)) {
            assertEquals(List.copyOf(arrays.keySet()), npz.members());
            for (var e : arrays.entrySet()) {
                NdArray want = e.getValue();
                NpyFile got = npz.array(e.getKey());
                assertEquals(want.dtype(), got.dtype(), e.getKey());
                assertArrayEquals(want.shape(), got.shape(), e.getKey());
                if (want.dtype().size > 1) {
                    assertEquals(want.rows(0, 0).order(), got.rows(0, 0).order(), e.getKey());
                }
                assertEquals(want.rows(0, want.rows()), got.rows(0, got.rows()), e.getKey());
                assertEquals(compressed, got.residentBytes() > 0, e.getKey());
            }
        }
        try (ZipFile zip = ZipFile.builder().setPath(file).get()) {
            for (ZipArchiveEntry entry : Collections.list(zip.getEntries())) {
                assertEquals(compressed ? ZipArchiveEntry.DEFLATED : ZipArchiveEntry.STORED, entry.getMethod());
            }
        }
    }

    @Test
    void numpyReadsWhatWeWrite() {
        for (boolean compressed : new boolean[] {false, true}) {
            SequencedMap<String, NdArray> arrays = new LinkedHashMap<>();
            for (String code : NpyFixtures.CODES) {
                arrays.put(code, formulaArray(code, ByteOrder.BIG_ENDIAN, 3, 4));
            }
            NpzFile.write(tmp.resolve(compressed ? "deflated.npz" : "stored.npz"), arrays, compressed);
        }
        NpyFixtures.python("""
                import sys, numpy as np
                k = np.arange(12)
                v = k * 7 % 201 - 100
                expected = {"b1": k % 3 == 0, "u1": k * 7 % 251, "i1": v, "i2": v * 300, "i4": v * 10**6,
                            "i8": v * 10**12, "f2": v / 4, "f4": (v / 3).astype(np.float32), "f8": v / 3}
                for path in sys.argv[1:]:
                    with np.load(path) as z:
                        assert z.files == list(expected), z.files
                        for code, want in expected.items():
                            a = z[code]
                            assert a.dtype.str == ("|" if code in ("b1", "u1", "i1") else ">") + code, a.dtype
                            assert a.shape == (3, 4) and (a.ravel() == want).all(), (path, code, a)
                """, tmp.resolve("stored.npz"), tmp.resolve("deflated.npz"));
    }

    // ---- bad input ----------------------------------------------------------------------------

    @Test
    void rejectsMissingFilesAndFilesThatAreNotZips() throws IOException {
        Path missing = tmp.resolve("missing.npz");
        assertFails(() -> NpzFile.open(missing), missing, "does not exist");
        Path text = Files.writeString(tmp.resolve("text.npz"), "not a zip archive");
        assertFails(() -> NpzFile.open(text), text, "not a valid zip");
        Path npy = Files.copy(fixture("u1_na_c_r3.npy"), tmp.resolve("npy.npz"));
        assertFails(() -> NpzFile.open(npy), npy, "not a valid zip");
    }

    @ParameterizedTest
    @ValueSource(strings = {"stored.npz", "deflated.npz"})
    void rejectsTruncatedArchives(String name) {
        byte[] good = bytes(fixture(name));
        Path file = tmp.resolve("cut-" + name);
        for (int len = 0; len < good.length; len += 3) {
            NpyFixtures.overwrite(file, Arrays.copyOf(good, len));
            assertFails(() -> readAll(file), file, "");
        }
    }

    @Test
    void rejectsMembersThatAreNotNpyOrRepeated() throws IOException {
        Path readme = zip("readme.npz", ZipArchiveEntry.STORED, "x.npy", npy(), "readme.txt", new byte[] {'h', 'i'});
        assertFails(() -> NpzFile.open(readme), readme, "member 'readme.txt' is not an .npy array");
        Path twice = zip("twice.npz", ZipArchiveEntry.STORED, "x.npy", npy(), "x.npy", npy());
        assertFails(() -> NpzFile.open(twice), twice, "'x.npy' twice");
    }

    @ParameterizedTest
    @ValueSource(ints = {ZipArchiveEntry.STORED, ZipArchiveEntry.DEFLATED})
    void rejectsMalformedMembersNamingThem(int method) throws IOException {
        byte[] good = npy();
        Path file = zip("short.npz", method, "x.npy", Arrays.copyOf(good, good.length - 4));
        assertFails(() -> readAll(file), file, "member x.npy", "truncated");
        Path dtype = zip("dtype.npz", method, "c.npy", bytes(fixture("bad_complex.npy")));
        assertFails(() -> readAll(dtype), dtype, "member c.npy", "'<c8'");
    }

    @Test
    void rejectsDirectoriesThatLieAboutMembers() throws IOException {
        byte[] good = npy();
        // A stored member declared longer than the archive: the zip library already refuses it.
        Path stored = zip("stored-lie.npz", ZipArchiveEntry.STORED, "x.npy", good);
        patchCentralDirectory(stored, 20, 1 << 20);
        patchCentralDirectory(stored, 24, 1 << 20);
        assertFails(() -> readAll(stored), stored, "x.npy", "overlaps with central directory");
        // A deflated member declared larger than its data inflates to, then larger than deflate allows.
        Path deflated = zip("deflated-lie.npz", ZipArchiveEntry.DEFLATED, "x.npy", good);
        patchCentralDirectory(deflated, 24, good.length + 10);
        assertFails(() -> readAll(deflated), deflated, "member x.npy", "truncated: declares");
        patchCentralDirectory(deflated, 24, 2_000_000_000);
        assertFails(() -> readAll(deflated), deflated, "member x.npy", "more than deflate can produce");
        // A CRC that does not match the inflated bytes.
        Path crc = zip("crc.npz", ZipArchiveEntry.DEFLATED, "x.npy", good);
        patchCentralDirectory(crc, 16, 0x12345678);
        assertFails(() -> readAll(crc), crc, "member x.npy", "CRC-32");
    }

    // ---- helpers ------------------------------------------------------------------------------

    /** Opens the archive and reads every row of every member. */
    static void readAll(Path file) {
        try (NpzFile npz = NpzFile.open(file)) {
            for (String name : npz.members()) {
                NpyFile a = npz.array(name);
                a.rows(0, a.rows());
            }
        }
    }

    /** A small valid .npy (int32, (3, 4)). */
    private static byte[] npy() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        NpyFile.write(out, formulaArray("i4", ByteOrder.LITTLE_ENDIAN, 3, 4));
        return out.toByteArray();
    }

    /** A zip of {@code nameAndBytes} pairs, every member with {@code method}. */
    private Path zip(String name, int method, Object... nameAndBytes) throws IOException {
        Path file = tmp.resolve(name);
        try (ZipArchiveOutputStream zip = new ZipArchiveOutputStream(file)) {
            for (int i = 0; i < nameAndBytes.length; i += 2) {
                ZipArchiveEntry entry = new ZipArchiveEntry((String) nameAndBytes[i]);
                entry.setMethod(method);
                zip.putArchiveEntry(entry);
                zip.write((byte[]) nameAndBytes[i + 1]);
                zip.closeArchiveEntry();
            }
        }
        return file;
    }

    /** Overwrites a 32-bit field of the last central directory record (these archives have one member). */
    private static void patchCentralDirectory(Path file, int field, int value) throws IOException {
        byte[] b = Files.readAllBytes(file);
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = b.length - 22; at >= 0; at--) {
            if (buf.getInt(at) == 0x02014b50) { // central file header signature
                buf.putInt(at + field, value);
                Files.write(file, b);
                return;
            }
        }
        throw new IllegalStateException("no central directory in " + file);
    }

    private static void assertFails(Runnable action, Path file, String... fragments) {
        DataFormatException e = assertThrows(DataFormatException.class, action::run);
        assertTrue(e.getMessage().contains(file.toString()), "message should name the file: " + e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message should say '" + f + "': " + e.getMessage());
        }
    }
}
