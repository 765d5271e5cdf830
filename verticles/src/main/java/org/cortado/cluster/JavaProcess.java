package org.cortado.cluster;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * A second JVM on this machine (a cluster peer, a worker, the benchmarks' clients): this JVM's java,
 * class path, module and access flags ({@code --add-*}, native access) and {@code -XX} options, then a
 * main class and its arguments.
 */
public final class JavaProcess {
    private JavaProcess() {}

    /** The command line that runs {@code mainClass} with {@code args} like this JVM runs; {@code extra} JVM options go before it. */
    public static List<String> command(List<String> extra, String mainClass, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(x -> x.startsWith("--add-") || x.startsWith("--enable-native-access") || x.startsWith("--sun-misc")
                        || x.startsWith("-XX:"))
                .toList());
        cmd.addAll(extra);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(List.of(args));
        return cmd;
    }
}
