package dev.transferengine.bench;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * The two-process modes, {@code server} (prints its address, like fabric-debug) and {@code client} (takes
 * it). They arrive with issue 4; until then they say so and exit with status 2.
 */
final class NotYetImplemented {
    private NotYetImplemented() {
    }

    static int refuse(CommandSpec spec, String mode) {
        spec.commandLine().getErr().println("transfer-bench " + mode + ": not yet implemented (issue 4). "
                + "Use `transfer-bench local` to measure two engines in one process.");
        return 2;
    }

    @Command(name = "server", description = "Not yet implemented (issue 4): wait for a client and serve its writes.")
    static final class Server implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            return refuse(spec, "server");
        }
    }

    @Command(name = "client", description = "Not yet implemented (issue 4): connect to a server and sweep writes to it.")
    static final class Client implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            return refuse(spec, "client");
        }
    }
}
