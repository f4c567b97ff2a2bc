package dev.transferengine.bench;

import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One {@code transfer-bench} command run in this JVM, for the tests: its exit code and what it printed.
 *
 * @param exitCode the command's exit code
 * @param out      what it printed on standard output
 * @param err      what it printed on standard error
 */
public record CliRun(int exitCode, String out, String err) {
    /** Runs {@code args} through {@link TransferBench#commandLine()}, capturing both streams. */
    public static CliRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = TransferBench.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }

    /** Whether the C baseline (fi_write_bench) can be built here: gcc on the PATH and libfabric's headers. */
    public static boolean canBuildBaseline() {
        return Files.isRegularFile(Path.of("/usr/include/rdma/fabric.h")) && onPath("gcc");
    }

    private static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }
}
