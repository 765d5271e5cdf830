package org.cortado.cli;

import java.io.PrintWriter;
import org.cortado.engine.CortadoException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code cortado} command line. Each subcommand is one class; they parse arguments, call the
 * engine (or deploy verticles) and print. A {@link CortadoException} is a user-facing error: its
 * message is printed without a stack trace and the exit code is 2; anything else is a bug and keeps
 * its stack trace (exit code 1).
 */
@Command(name = "cortado", mixinStandardHelpOptions = true, version = "cortado 0.1.0",
        description = "Caffe-style CNN training on the JVM.",
        subcommands = {TrainCommand.class, ResumeCommand.class, DashboardCommand.class, WorkerCommand.class, TestCommand.class, BenchCommand.class, DataCommand.class, ExtractCommand.class, ImportCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code (tests call this instead of {@link #main}). */
    public static int run(String... args) {
        return run(null, null, args);
    }

    /** As {@link #run(String...)}, printing to {@code out} and {@code err} (null: the standard streams). */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(new Main());
        if (out != null) {
            cl.setOut(out);
        }
        if (err != null) {
            cl.setErr(err);
        }
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof CortadoException) {
                PrintWriter e = cmd.getErr();
                e.println("error: " + ex.getMessage());
                e.flush();
                return 2;
            }
            throw ex;
        });
        return cl.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
