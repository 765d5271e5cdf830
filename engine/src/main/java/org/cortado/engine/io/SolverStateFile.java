package org.cortado.engine.io;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import io.jhdf.api.WritableGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.cortado.engine.WeightsException;
import org.cortado.engine.tensor.Tensor;

/**
 * Solver state in Caffe's HDF5 layout ({@code .solverstate.h5}, as Caffe's
 * {@code SGDSolver::SnapshotSolverStateToHDF5} writes it): scalar datasets {@code iter} and
 * {@code current_step}, a string dataset {@code learned_net} (the weights file written with it), and a
 * group {@code history} holding datasets {@code 0}, {@code 1}, ... with the solver's history blobs in
 * the order of the net's learnable blobs.
 */
public final class SolverStateFile {
    private SolverStateFile() {}

    /** What a solver state file holds. */
    public record State(long iter, String learnedNet, int currentStep, List<Tensor> history) {}

    /** Writes atomically (temp file in the same folder, then rename). */
    public static void write(Path file, State state) {
        Path target = file.toAbsolutePath();
        Path tmp = target.resolveSibling(target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            try (WritableHdfFile h5 = HdfFile.write(tmp)) {
                h5.putDataset("iter", (int) state.iter());
                h5.putDataset("learned_net", state.learnedNet());
                h5.putDataset("current_step", state.currentStep());
                WritableGroup history = h5.putGroup("history");
                for (int i = 0; i < state.history().size(); i++) {
                    history.putDataset(Integer.toString(i), CaffeWeights.toJavaArray(state.history().get(i)));
                }
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            throw new WeightsException("cannot write solver state " + file + ": " + e, e);
        } finally {
            CaffeWeights.deleteQuietly(tmp);
        }
    }

    public static State read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new WeightsException("solver state " + file + " does not exist");
        }
        try (HdfFile h5 = new HdfFile(file)) {
            long iter = scalar(h5, file, "iter");
            int step = h5.getChildren().containsKey("current_step") ? (int) scalar(h5, file, "current_step") : 0;
            String net = h5.getChild("learned_net") instanceof Dataset ds && ds.getData() instanceof String s ? s : "";
            if (!(h5.getChild("history") instanceof Group history)) {
                throw new WeightsException("solver state " + file + " has no 'history' group");
            }
            TreeMap<Integer, Node> byIndex = new TreeMap<>();
            for (Map.Entry<String, Node> e : history.getChildren().entrySet()) {
                try {
                    byIndex.put(Integer.parseInt(e.getKey()), e.getValue());
                } catch (NumberFormatException nfe) {
                    throw new WeightsException("solver state " + file + ": unexpected history entry '" + e.getKey() + "'");
                }
            }
            if (!byIndex.isEmpty() && byIndex.lastKey() != byIndex.size() - 1) {
                throw new WeightsException("solver state " + file + ": history datasets " + byIndex.keySet()
                        + " are not consecutive from 0");
            }
            List<Tensor> hist = new ArrayList<>();
            for (var e : byIndex.entrySet()) {
                if (!(e.getValue() instanceof Dataset ds)) {
                    throw new WeightsException("solver state " + file + ": history " + e.getKey() + " is not a dataset");
                }
                hist.add(CaffeWeights.toTensor(ds, "solver state " + file + ", history " + e.getKey()));
            }
            return new State(iter, net, step, hist);
        } catch (WeightsException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new WeightsException("solver state " + file + " is not a readable HDF5 file: " + e, e);
        }
    }

    private static long scalar(HdfFile h5, Path file, String name) {
        if (h5.getChild(name) instanceof Dataset ds && ds.getData() instanceof Number n) {
            return n.longValue();
        }
        throw new WeightsException("solver state " + file + " has no integer '" + name + "' dataset");
    }
}
