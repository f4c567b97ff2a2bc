package dev.transferengine.bench;

import dev.transferengine.api.TransferException;
import dev.transferengine.bench.cli.ClientCommand;
import dev.transferengine.bench.cli.CompareCommand;
import dev.transferengine.bench.cli.GpuCommand;
import dev.transferengine.bench.cli.GpuTargetCommand;
import dev.transferengine.bench.cli.KvCommand;
import dev.transferengine.bench.cli.LocalCommand;
import dev.transferengine.bench.cli.MoeCommand;
import dev.transferengine.bench.cli.ServerCommand;
import dev.transferengine.bench.cli.StatCommand;
import dev.transferengine.bench.cli.TopologyCommand;
import dev.transferengine.bench.cli.WeightsCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code transfer-bench}: the benchmark tool users run first. Sweeps single and paged writes and prints
 * bandwidth, operation rate and latency percentiles per size. Run through {@code ./te bench}.
 */
@Command(name = "transfer-bench", mixinStandardHelpOptions = true, version = "transfer-bench 0.1",
        subcommands = {LocalCommand.class, CompareCommand.class, ServerCommand.class, ClientCommand.class,
                GpuCommand.class, GpuTargetCommand.class, StatCommand.class, TopologyCommand.class,
                WeightsCommand.class, MoeCommand.class, KvCommand.class},
        description = "TransferEngine benchmark: bandwidth, operation rate and latency per message size.")
public final class TransferBench implements Runnable {
    private static final int EXIT_FAILED = 1;
    private static final int EXIT_USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line; exceptions become one-line messages and exit codes. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new TransferBench());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            if (e instanceof IllegalArgumentException) {
                line.getErr().println("transfer-bench: " + e.getMessage());
                line.getErr().println("Try '" + line.getCommandSpec().qualifiedName() + " --help'.");
                return EXIT_USAGE;
            }
            if (e instanceof BenchFailure || e instanceof TransferException) {
                line.getErr().println("transfer-bench: " + e.getMessage());
                for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
                    line.getErr().println("  caused by " + c);
                }
                return EXIT_FAILED;
            }
            throw e;
        });
        return cl;
    }
}
