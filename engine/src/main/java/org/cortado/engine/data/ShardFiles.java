package org.cortado.engine.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.cortado.engine.DataFormatException;

/**
 * Turns a configured data source into the list of shard files it names, in sample order.
 *
 * <p>A source is one of:
 * <ul>
 *   <li>a data file: {@code .npz}, HDF5 ({@code .h5 .hdf5 .hdf .he5}), or {@code NAME_data.npy};
 *   <li>a folder: its data files (not sub-folders), sorted by name;
 *   <li>a glob ({@code shards/train-*.h5}; {@code **} crosses folders, and {@code **}{@code /} also
 *       matches none, as in Python): matching files, sorted by path; a path with {@code * ? [ {} is
 *       taken as a glob;
 *   <li>a list file (Caffe's HDF5Data {@code source}, any other extension): one path per line, blank
 *       lines and {@code #} comments skipped; a relative path is looked up next to the list file
 *       first, then in the working directory (where Caffe looks).
 * </ul>
 * An {@code .npy} file holds one array, so data and labels come in pairs: {@code NAME_data.npy} with
 * {@code NAME_label.npy}, the suffixes following the configured array names. In folders and globs,
 * other {@code .npy} files (a mean image, say) are not shards and are skipped.
 */
public final class ShardFiles {
    private ShardFiles() {}

    /** One shard's file; {@code labels} is the partner {@code .npy} of an npy pair, else null. */
    public record ShardFile(Path data, Path labels) {
        public String name() {
            return labels == null ? data.toString() : data + " + " + labels.getFileName();
        }
    }

    /**
     * Resolves {@code source} to its shard files.
     *
     * @throws DataFormatException naming the source (and list file line) if it names nothing usable
     */
    public static List<ShardFile> resolve(String source, String dataName, String labelName) {
        List<Path> files;
        boolean strict; // a file named on purpose must be a shard; a folder may hold other files
        if (isGlob(source)) {
            files = glob(source);
            strict = false;
        } else {
            Path p = Path.of(source);
            if (Files.isDirectory(p)) {
                files = list(p);
                strict = false;
            } else if (!Files.exists(p)) {
                throw new DataFormatException("data source " + source + " does not exist");
            } else if (isDataFile(p)) {
                files = List.of(p);
                strict = true;
            } else {
                files = readList(p);
                strict = true;
            }
        }
        List<ShardFile> shards = new ArrayList<>();
        String dataSuffix = "_" + dataName + ".npy";
        String labelSuffix = "_" + labelName + ".npy";
        for (Path f : files) {
            String fn = f.getFileName().toString();
            if (!fn.toLowerCase(Locale.ROOT).endsWith(".npy")) {
                shards.add(new ShardFile(f, null));
            } else if (fn.endsWith(dataSuffix)) {
                Path partner = f.resolveSibling(fn.substring(0, fn.length() - dataSuffix.length()) + labelSuffix);
                if (!Files.isRegularFile(partner)) {
                    throw new DataFormatException(f + ": no label file " + partner.getFileName()
                            + " beside it (an .npy shard pairs NAME" + dataSuffix + " with NAME" + labelSuffix + ")");
                }
                shards.add(new ShardFile(f, partner));
            } else if (strict && !fn.endsWith(labelSuffix)) {
                throw new DataFormatException(f + ": an .npy shard must be named NAME" + dataSuffix
                        + " (paired with NAME" + labelSuffix + ")");
            }
        }
        if (shards.isEmpty()) {
            throw new DataFormatException("empty shard set: " + source + " names no data files (.npz, .h5/.hdf5, or"
                    + " NAME" + dataSuffix + " with NAME" + labelSuffix + ")");
        }
        return shards;
    }

    static boolean isDataFile(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".npy") || n.endsWith(".npz") || isHdf5(p);
    }

    static boolean isHdf5(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".h5") || n.endsWith(".hdf5") || n.endsWith(".hdf") || n.endsWith(".he5");
    }

    private static boolean isGlob(String s) {
        return s.chars().anyMatch(c -> c == '*' || c == '?' || c == '[' || c == '{');
    }

    private static List<Path> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).filter(ShardFiles::isDataFile).sorted().toList();
        } catch (IOException e) {
            throw new DataFormatException("cannot list data folder " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Walks from the glob's longest literal folder prefix and keeps the data files it matches. */
    private static List<Path> glob(String pattern) {
        String norm = pattern.replace('\\', '/');
        int firstMeta = 0;
        while (firstMeta < norm.length() && "*?[{".indexOf(norm.charAt(firstMeta)) < 0) {
            firstMeta++;
        }
        int slash = norm.lastIndexOf('/', firstMeta);
        Path base = slash < 0 ? Path.of("") : Path.of(slash == 0 ? "/" : norm.substring(0, slash));
        String rest = norm.substring(slash + 1);
        if (!Files.isDirectory(base.toString().isEmpty() ? Path.of(".") : base)) {
            throw new DataFormatException("data source " + pattern + ": folder " + base + " does not exist");
        }
        // As in Python's recursive glob, "**/" also matches no folder at all: "**/*.h5" finds
        // base/a.h5 too (Java's glob alone would need at least one folder).
        List<PathMatcher> matchers = new ArrayList<>();
        for (String variant : zeroFolderVariants(rest)) {
            matchers.add(FileSystems.getDefault().getPathMatcher("glob:" + variant));
        }
        PathMatcher m = p -> matchers.stream().anyMatch(x -> x.matches(p));
        Path walkRoot = base.toString().isEmpty() ? Path.of(".") : base;
        int depth = rest.contains("**") ? Integer.MAX_VALUE : (int) rest.chars().filter(c -> c == '/').count() + 1;
        try (Stream<Path> s = Files.walk(walkRoot, depth)) {
            return s.filter(Files::isRegularFile)
                    .filter(p -> m.matches(walkRoot.relativize(p)))
                    .filter(ShardFiles::isDataFile)
                    .map(p -> base.toString().isEmpty() ? walkRoot.relativize(p) : p)
                    .sorted()
                    .toList();
        } catch (IOException | UncheckedIOException e) {
            throw new DataFormatException("cannot search " + walkRoot + " for " + pattern + ": " + e.getMessage(), e);
        }
    }

    /** {@code pattern} with every subset of its {@code "**}{@code /"} parts removed (at most 3 of them). */
    private static List<String> zeroFolderVariants(String pattern) {
        List<String> out = new ArrayList<>(List.of(pattern));
        for (int round = 0; round < 3; round++) {
            List<String> more = new ArrayList<>();
            for (String p : out) {
                int i = p.indexOf("**/");
                while (i >= 0) {
                    String v = p.substring(0, i) + p.substring(i + 3);
                    if (!out.contains(v) && !more.contains(v)) {
                        more.add(v);
                    }
                    i = p.indexOf("**/", i + 1);
                }
            }
            out.addAll(more);
        }
        return out;
    }

    private static List<Path> readList(Path listFile) {
        List<String> lines;
        try {
            lines = Files.readAllLines(listFile);
        } catch (IOException e) {
            throw new DataFormatException("cannot read list file " + listFile + ": " + e.getMessage(), e);
        }
        List<Path> files = new ArrayList<>();
        Path dir = listFile.toAbsolutePath().getParent();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Path p = Path.of(line);
            Path found = p.isAbsolute() ? p : Files.exists(dir.resolve(p)) ? dir.resolve(p) : p;
            if (!Files.isRegularFile(found)) {
                throw new DataFormatException(listFile + " line " + (i + 1) + ": " + line + " does not exist"
                        + (p.isAbsolute() ? "" : " (looked beside the list file and in the working directory)"));
            }
            if (!isDataFile(found)) {
                throw new DataFormatException(listFile + " line " + (i + 1) + ": " + line
                        + " is not a data file (.npz, .h5/.hdf5, NAME_data.npy)");
            }
            files.add(found);
        }
        return files;
    }
}
