package org.cortado.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.cortado.engine.ConfigException;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.train.RunFolder;
import org.cortado.pipeline.Pipeline;
import org.cortado.pipeline.RunContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cortado resume RUN_DIR}: continues a run from its newest snapshot, in the same folder. */
@Command(name = "resume", mixinStandardHelpOptions = true,
        description = "Continue a run from its newest snapshot (weights, solver state, iteration), in its run folder.")
final class ResumeCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "RUN_DIR", description = "a run folder written by `cortado train`")
    Path dir;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CortadoConfig probe = CortadoConfig.load(RunFolder.open(dir, "run").configFile());
        RunFolder folder = RunFolder.open(dir, TrainCommand.prefix(probe));
        Path snapshot = folder.latestSnapshot().orElseThrow(() -> new ConfigException(dir
                + ": the run has no snapshot to resume from (snapshots/ is empty)"));
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        out.println("resuming " + folder.dir() + " from " + snapshot.getFileName());
        out.flush();
        return PipelineRunner.run(probe, folder.dir(), folder, new Pipeline.Start(snapshot, null, RunContext.Hooks.NONE,
                line -> {
                    err.println(line);
                    err.flush();
                }), out, err);
    }
}
