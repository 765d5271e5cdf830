package org.cortado.engine.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.cortado.engine.DataFormatException;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.opentest4j.AssertionFailedError;

/**
 * Damaged HDF5 files: seeded random mutations (bytes overwritten, runs of bytes set to 0x00 or
 * 0xFF, the file cut short) of small h5py files (one chunked with shuffle + gzip, one contiguous,
 * one in HDF5 1.10's format), each opened both ways Hdf5File reaches files (mapped whole, through a
 * channel) and read in full. Only a {@link DataFormatException} may come out, and every case must
 * finish within 5 s (a hang in jhdf shows up as a failure naming the case).
 *
 * <p>This is how the hangs that {@link Hdf5Channel} and the whole-file mapping now prevent were found
 * (about 1 case in 600 ran past the limit; chunked case 133 was one); {@code -Dhdf5.fuzz.cases=3000}
 * hunts further (about 40 s).
 */
class Hdf5FuzzTest {
    /** Cases per file and access; {@code -Dhdf5.fuzz.cases=N} runs more (the first 150 stay the same). */
    private static final int CASES_PER_FILE = Integer.getInteger("hdf5.fuzz.cases", 150);

    @TempDir
    Path tmp;

    private record Mutation(byte[] bytes, String what) {}

    /** One random damage of {@code original}, described for the failure message. */
    private static Mutation mutate(byte[] original, Random random) {
        byte[] b = original.clone();
        int kind = random.nextInt(100);
        if (kind < 50) {
            int n = 1 + random.nextInt(4);
            StringBuilder what = new StringBuilder("bytes set:");
            for (int i = 0; i < n; i++) {
                int at = random.nextInt(b.length);
                b[at] = (byte) random.nextInt(256);
                what.append(' ').append(at).append('=').append(b[at] & 0xff);
            }
            return new Mutation(b, what.toString());
        }
        if (kind < 70) {
            int len = 2 + random.nextInt(15);
            int at = random.nextInt(b.length - len);
            for (int i = 0; i < len; i++) {
                b[at + i] = (byte) random.nextInt(256);
            }
            return new Mutation(b, "random run of " + len + " bytes at " + at);
        }
        if (kind < 85) {
            int len = 1 + random.nextInt(8);
            int at = random.nextInt(b.length - len);
            byte v = random.nextBoolean() ? (byte) 0xff : 0;
            Arrays.fill(b, at, at + len, v);
            return new Mutation(b, len + " bytes of 0x" + Integer.toHexString(v & 0xff) + " at " + at);
        }
        int keep = random.nextInt(b.length);
        return new Mutation(Arrays.copyOf(b, keep), "truncated to " + keep + " bytes");
    }

    /**
     * Opens {@code file} and reads every dataset in full, in pieces; returns the number of
     * DataFormatExceptions met (open, per dataset), or throws whatever else came out.
     */
    private static int readFully(Path file, Hdf5FileTest.Access access) {
        Hdf5File h5;
        try {
            h5 = access.open(file, 1 << 16);
        } catch (DataFormatException e) {
            return 1;
        }
        int rejected = 0;
        try (h5) {
            for (String name : h5.datasets()) {
                try (ArrayReader a = h5.array(name)) {
                    int rows = a.rows();
                    int per = a.rowElements();
                    for (int r = 0; r < rows; r += 5) {
                        int count = Math.min(5, rows - r);
                        ByteBuffer b = a.rows(r, count);
                        float[] values = new float[count * per];
                        a.dtype().toFloat(b, 0, values, 0, values.length);
                    }
                } catch (DataFormatException e) {
                    rejected++;
                }
            }
        }
        return rejected;
    }

    static Stream<Arguments> bases() {
        // h5_latest.h5 adds HDF5 1.10's structures: superblock v3, v2 object headers with checksums,
        // fixed-array, extensible-array, v2 B-tree and single-chunk indexes.
        return Stream.of("h5_fuzz_chunked.h5", "h5_fuzz_contiguous.h5", "h5_latest.h5")
                .flatMap(f -> Stream.of(Hdf5FileTest.Access.values()).map(a -> Arguments.of(f, a)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("bases")
    void damagedFilesRaiseOnlyDataFormatExceptionsAndNeverHang(String base, Hdf5FileTest.Access access)
            throws IOException {
        byte[] original = Files.readAllBytes(Hdf5FileTest.fixture(base));
        Path intact = Files.write(tmp.resolve("intact.h5"), original);
        assertEquals(0, readFully(intact, access), "the undamaged file reads cleanly");

        List<String> failures = new ArrayList<>();
        int rejected = 0;
        for (int i = 0; i < CASES_PER_FILE; i++) {
            long seed = (base.contains("chunked") ? 1_000_000 : base.contains("contiguous") ? 2_000_000 : 3_000_000) + i;
            Mutation m = mutate(original, new Random(seed));
            Path file = Files.write(tmp.resolve("case" + i + ".h5"), m.bytes());
            String name = base + " " + access + " case " + i + " (seed " + seed + ", " + m.what() + ")";
            try {
                int r = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> readFully(file, access),
                        name + " did not finish in 5 s");
                rejected += r > 0 ? 1 : 0;
            } catch (AssertionFailedError e) {
                failures.add(e.getMessage());
            } catch (Throwable t) { // anything but a DataFormatException is a bug
                Object at = t.getStackTrace().length > 0 ? t.getStackTrace()[0] : "?";
                failures.add(name + ": " + t + "\n        at " + at);
            }
            Files.delete(file);
        }
        assertTrue(failures.isEmpty(),
                failures.size() + " of " + CASES_PER_FILE + " cases failed:\n" + String.join("\n", failures));
        // The mutations do reach the structure: many cases must be rejected, not all read as data.
        assertTrue(rejected >= CASES_PER_FILE / 5,
                "only " + rejected + " of " + CASES_PER_FILE + " damaged files were rejected");
    }
}
