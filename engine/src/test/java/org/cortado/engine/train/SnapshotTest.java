package org.cortado.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.cortado.engine.Batches;
import org.cortado.engine.Configs;
import org.cortado.engine.WeightsException;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.io.SolverStateFile;
import org.cortado.engine.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotTest {
    private static final String LAYERS =
            "{'name':'in','type':'Input','top':['data','label'],'shape':[{'dim':[6,1,8,8]},{'dim':[6]}]},"
            + "{'name':'conv','type':'Convolution','bottom':'data','top':'conv','num_output':4,'kernel_size':3,"
            + "'weight_filler':{'type':'xavier'}},"
            + "{'name':'drop','type':'Dropout','bottom':'conv','top':'conv'},"
            + "{'name':'ip','type':'InnerProduct','bottom':'conv','top':'ip','num_output':3,'weight_filler':{'type':'xavier'}},"
            + "{'name':'loss','type':'SoftmaxWithLoss','bottom':['ip','label'],'top':'loss'}";
    private static final String SOLVER = "'base_lr':0.05,'momentum':0.9,'weight_decay':0.001,'lr_policy':'inv','gamma':0.01,'power':0.75";

    private static Map<String, Tensor> batch(int step) {
        return Batches.learnable(6, 1, 8, 8, 3, 100 + step);
    }

    /**
     * Resuming from a snapshot gives the same weights as never stopping (momentum, lr policy and
     * dropout included), for every solver type (Adam's and AdaDelta's two history sets included).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {
        SOLVER,
        "'type':'Adam','base_lr':0.01,'momentum':0.9,'momentum2':0.999,'weight_decay':0.001,'lr_policy':'fixed'",
        "'type':'AdaDelta','base_lr':1,'momentum':0.95,'delta':1e-6,'lr_policy':'fixed'",
        "'type':'RMSProp','base_lr':0.01,'rms_decay':0.98,'lr_policy':'fixed'"})
    void resumeEqualsAnUninterruptedRun(String solver, @TempDir Path dir) {
        CortadoConfig cfg = Configs.net(LAYERS, solver);
        Map<String, java.util.List<Tensor>> straight;
        try (Trainer t = new Trainer(cfg)) {
            for (int i = 0; i < 6; i++) {
                t.step(batch(i));
            }
            straight = t.trainNet().weights();
        }
        Path state;
        try (Trainer t = new Trainer(cfg)) {
            for (int i = 0; i < 3; i++) {
                t.step(batch(i));
            }
            state = t.snapshot(dir.resolve("run"));
        }
        assertEquals("run_iter_3.solverstate.h5", state.getFileName().toString());
        assertTrue(Files.exists(dir.resolve("run_iter_3.caffemodel.h5")));
        try (Trainer t = new Trainer(cfg)) {
            t.restore(state);
            assertEquals(3, t.iter());
            for (int i = 3; i < 6; i++) {
                t.step(batch(i));
            }
            var resumed = t.trainNet().weights();
            for (String layer : straight.keySet()) {
                for (int i = 0; i < straight.get(layer).size(); i++) {
                    assertArrayEquals(straight.get(layer).get(i).toArray(), resumed.get(layer).get(i).toArray(), layer);
                }
            }
        }
    }

    @Test
    void aStateFileForAnotherNetIsRefused(@TempDir Path dir) {
        Path state = dir.resolve("s.solverstate.h5");
        SolverStateFile.write(state, new SolverStateFile.State(7, "missing.caffemodel.h5", 0, java.util.List.of(new Tensor(2))));
        try (Trainer t = new Trainer(Configs.net(LAYERS, SOLVER))) {
            var e = assertThrows(WeightsException.class, () -> t.restore(state));
            assertTrue(e.getMessage().contains("missing.caffemodel.h5 does not exist"), e.getMessage());
        }
    }

    /** h5py reads the state file as Caffe's layout: iter, learned_net, current_step, history/0..n-1. */
    @Test
    void h5pyReadsTheStateFile(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "needs /usr/bin/python3 with h5py");
        Path state = dir.resolve("s.solverstate.h5");
        SolverStateFile.write(state, new SolverStateFile.State(42, "w.caffemodel.h5", 0,
                java.util.List.of(new Tensor(new float[] {1, 2, 3, 4, 5, 6}, 2, 3), new Tensor(new float[] {7}, 1))));
        Process p = new ProcessBuilder("/usr/bin/python3", "-c", String.join("\n",
                "import sys",
                "try:",
                "    import h5py",
                "except ImportError:",
                "    sys.exit(77)",
                "f = h5py.File(sys.argv[1], 'r')",
                "assert int(f['iter'][()]) == 42, f['iter'][()]",
                "ln = f['learned_net'][()]",
                "assert (ln.decode() if isinstance(ln, bytes) else ln) == 'w.caffemodel.h5', ln",
                "assert int(f['current_step'][()]) == 0",
                "assert f['history/0'].shape == (2, 3) and f['history/0'][1, 2] == 6",
                "assert f['history/1'][0] == 7",
                "print('ok')"), state.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        int code = p.waitFor();
        Assumptions.assumeFalse(code == 77, "h5py is not installed for /usr/bin/python3");
        assertEquals(0, code, out);
        var back = SolverStateFile.read(state);
        assertEquals(42, back.iter());
        assertEquals("w.caffemodel.h5", back.learnedNet());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, back.history().get(0).toArray());
    }
}
