package org.cortado.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The fatbins match their sources, with or without nvcc: the committed {@code fatbin/} (what a machine
 * without nvcc ships) and the one on the classpath (built here when nvcc is present) each carry a
 * manifest of the SHA-256 of every file in {@code src/main/cuda}, and it must be the sources' current
 * hashes. After editing a {@code .cu}, {@code kernels/build-fatbin.sh --commit} refreshes the committed one.
 * Each fatbin holds sm_80 and sm_90 machine code and compute_90 PTX, and every kernel the Java side
 * launches is defined in the sources.
 */
class FatbinTest {
    private static final Path CUDA = Path.of("src/main/cuda");

    private static String sourcesManifest() throws Exception {
        List<String> lines = new ArrayList<>();
        try (Stream<Path> s = Files.list(CUDA)) {
            for (Path p : s.filter(f -> f.toString().endsWith(".cu") || f.toString().endsWith(".cuh")).sorted().toList()) {
                byte[] d = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p));
                lines.add(HexFormat.of().formatHex(d) + "  " + p.getFileName());
            }
        }
        return String.join("\n", lines);
    }

    private static String hashes(String manifest) {
        return manifest.lines().filter(l -> !l.startsWith("#")).reduce((a, b) -> a + "\n" + b).orElse("");
    }

    @Test
    void committedFatbinsWereBuiltFromTheseSources() throws Exception {
        assertEquals(sourcesManifest(), hashes(Files.readString(Path.of("fatbin/manifest.txt"))),
                "kernels/fatbin is stale: run kernels/build-fatbin.sh --commit after editing src/main/cuda");
    }

    @Test
    void classpathFatbinsWereBuiltFromTheseSources() throws Exception {
        try (InputStream in = CudaDevice.class.getResourceAsStream("manifest.txt")) {
            assertNotNull(in, "no fatbin manifest on the classpath");
            assertEquals(sourcesManifest(), hashes(new String(in.readAllBytes())));
        }
    }

    @Test
    void everyFamilyHoldsSm80AndSm90CodeAndCompute90Ptx() throws IOException {
        for (String family : CudaDevice.FAMILIES) {
            byte[] image;
            try (InputStream in = CudaDevice.class.getResourceAsStream(family + ".fatbin")) {
                assertNotNull(in, family + ".fatbin missing");
                image = in.readAllBytes();
            }
            ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(0xBA55ED50, b.getInt(0), family + ": not a fatbin");
            int headerSize = b.getShort(6) & 0xffff;
            long fatSize = b.getLong(8);
            assertEquals(image.length, headerSize + fatSize, family + ": truncated");
            Set<String> entries = new TreeSet<>();
            long off = headerSize;
            while (off < headerSize + fatSize) {
                int kind = b.getShort((int) off) & 0xffff;
                int entryHeader = b.getInt((int) off + 4);
                long payload = b.getLong((int) off + 8);
                int arch = b.getInt((int) off + 28);
                entries.add((kind == 1 ? "ptx" : kind == 2 ? "sm" : "kind" + kind) + "_" + arch);
                off += entryHeader + payload;
            }
            assertEquals(Set.of("sm_80", "sm_90", "ptx_90"), entries, family);
        }
    }

    @Test
    void everyLaunchedKernelIsDefinedInTheSources() throws Exception {
        Set<String> defined = new TreeSet<>();
        Pattern def = Pattern.compile("extern \"C\" __global__ void(?: __launch_bounds__\\([^)]*\\))?\\s+(\\w+)\\(");
        Pattern macro = Pattern.compile("CORTADO_GEMM\\((\\w+),");
        try (Stream<Path> s = Files.list(CUDA)) {
            for (Path p : s.toList()) {
                String src = Files.readString(p);
                for (Pattern pat : List.of(def, macro)) {
                    Matcher m = pat.matcher(src);
                    while (m.find()) {
                        defined.add(m.group(1));
                    }
                }
            }
        }
        String ops = Files.readString(Path.of("src/main/java/org/cortado/kernels/CudaOps.java"));
        Matcher m = Pattern.compile("(?:loop|launch)\\(\"(\\w+)\"").matcher(ops);
        int launched = 0;
        while (m.find()) {
            launched++;
            assertTrue(defined.contains(m.group(1)), "CudaOps launches " + m.group(1) + ", not defined in src/main/cuda");
        }
        for (String t : List.of("f32", "tf32")) {
            for (String tr : List.of("nn", "nt", "tn", "tt")) {
                assertTrue(defined.contains("gemm_" + t + "_" + tr), "gemm_" + t + "_" + tr);
            }
        }
        assertTrue(launched > 20, "found only " + launched + " launches");
    }
}
