package dev.transferengine.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The C baseline, {@code benchmarks/native/fi_write_bench.c}: compiled with gcc into {@code benchmarks/target/}
 * when the binary is missing or older than the source (or a prebuilt binary, {@link #prebuilt}, never rebuilt), and
 * run as a separate process, one write size per run.
 * Not thread-safe (one compare run uses it from one thread).
 */
final class NativeBaseline {
    static final String SOURCE_NAME = "fi_write_bench.c";
    static final String BINARY_NAME = "fi_write_bench";
    /** Where the source is looked for, relative to the working directory: the repository root or benchmarks/. */
    private static final List<Path> SOURCE_CANDIDATES = List.of(Path.of("benchmarks", "native", SOURCE_NAME),
            Path.of("native", SOURCE_NAME));
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(2);
    /** The C compiler the bench scripts use. */
    static final String COMPILER = "gcc";

    private final Path binary;

    private NativeBaseline(Path binary) {
        this.binary = binary;
    }

    /** The source under the working directory, or a failure saying where it was looked for. */
    static Path findSource(Path explicit) {
        if (explicit != null) {
            if (!Files.isRegularFile(explicit)) {
                throw new BenchFailure("C baseline source not found: " + explicit);
            }
            return explicit;
        }
        for (Path candidate : SOURCE_CANDIDATES) {
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new BenchFailure("C baseline source not found: looked for " + SOURCE_CANDIDATES + " under "
                + Path.of("").toAbsolutePath() + "; run from the repository root or pass --baseline-source");
    }

    /** The binary for {@code source}: {@code <source's module>/target/fi_write_bench}. */
    static Path binaryFor(Path source) {
        Path nativeDir = source.toAbsolutePath().getParent();
        Path module = nativeDir.getParent() != null ? nativeDir.getParent() : nativeDir;
        return module.resolve("target").resolve(BINARY_NAME);
    }

    /** Whether {@code binary} must be (re)built from {@code source}. */
    static boolean stale(Path source, Path binary) throws IOException {
        return !Files.isExecutable(binary)
                || Files.getLastModifiedTime(binary).compareTo(Files.getLastModifiedTime(source)) < 0;
    }

    /**
     * A prebuilt baseline binary, run as it is: never rebuilt, whatever the source's age (the machine may have no
     * compiler or no libfabric headers).
     */
    static NativeBaseline prebuilt(Path binary) {
        if (!Files.isRegularFile(binary) || !Files.isExecutable(binary)) {
            throw new BenchFailure("the prebuilt C baseline " + binary + " is not an executable file");
        }
        return new NativeBaseline(binary);
    }

    /**
     * The baseline, built with {@code compiler} (normally {@link #COMPILER}) first if stale.
     *
     * @param log where to say that a build happens (null: silent)
     */
    static NativeBaseline prepare(Path source, String compiler, java.io.PrintWriter log) {
        Path binary = binaryFor(source);
        try {
            if (stale(source, binary)) {
                if (log != null) {
                    log.println("building the C baseline: " + compiler + " -O2 " + source + " -> " + binary);
                    log.flush();
                }
                build(compiler, source, binary);
            }
        } catch (IOException e) {
            throw new BenchFailure("building the C baseline failed: " + e.getMessage(), e);
        }
        return new NativeBaseline(binary);
    }

    private static void build(String compiler, Path source, Path binary) throws IOException {
        Files.createDirectories(binary.getParent());
        // Compile next to the target and rename: a concurrent compare never runs a half-written binary.
        Path partial = binary.resolveSibling(BINARY_NAME + ".tmp" + ProcessHandle.current().pid());
        List<String> cmd = List.of(compiler, "-O2", "-Wall", "-o", partial.toString(), source.toString(), "-lfabric",
                "-lpthread");
        Result r;
        try {
            r = exec(cmd, BUILD_TIMEOUT);
        } catch (IOException e) {
            throw new BenchFailure(compiler + " was not found (" + e.getMessage() + "); the C baseline needs it: "
                    + "apt-get install gcc libfabric-dev", e);
        }
        if (r.exitCode() != 0) {
            Files.deleteIfExists(partial);
            String why = r.output();
            if (why.contains("rdma/fabric.h") || why.contains("-lfabric")) {
                throw new BenchFailure("the C baseline needs libfabric's headers and library: apt-get install "
                        + "libfabric-dev (" + compiler + " said: " + firstLine(why) + ")");
            }
            throw new BenchFailure(compiler + " failed to build " + source + " (exit " + r.exitCode() + "):\n" + why.strip());
        }
        Files.move(partial, binary, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    Path binary() {
        return binary;
    }

    /**
     * The libfabric settings of one baseline run: what the Java engines of the same comparison use. Immutable.
     *
     * @param provider         libfabric provider, e.g. {@code shm} or {@code tcp;ofi_rxm}
     * @param node             fi_getinfo node with FI_SOURCE, or null
     * @param deliveryComplete {@code -D}: FI_DELIVERY_COMPLETE on every write
     * @param hmem             ask for FI_HMEM first (without: {@code -H})
     * @param yieldWhenIdle    {@code -y}: the baseline's threads yield after 100 empty polls in a row
     * @param noImm            {@code -I}: writes without FI_REMOTE_CQ_DATA, done at the last local completion
     */
    record Settings(String provider, String node, boolean deliveryComplete, boolean hmem, boolean yieldWhenIdle,
                    boolean noImm) {
        Settings(String provider, String node, boolean deliveryComplete, boolean hmem, boolean yieldWhenIdle) {
            this(provider, node, deliveryComplete, hmem, yieldWhenIdle, false);
        }

        /** The command-line flags these settings give fi_write_bench. */
        List<String> flags() {
            List<String> f = new ArrayList<>(List.of("-p", provider));
            if (node != null) {
                f.addAll(List.of("-n", node));
            }
            if (deliveryComplete) {
                f.add("-D");
            }
            if (!hmem) {
                f.add("-H");
            }
            if (yieldWhenIdle) {
                f.add("-y");
            }
            if (noImm) {
                f.add("-I");
            }
            return f;
        }
    }

    /** Runs the baseline for one size. */
    RateSample run(Settings settings, long size, int warmup, int iterations, int window, Duration timeout) {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary.toString());
        cmd.addAll(settings.flags());
        cmd.addAll(List.of("-s", Long.toString(size), "-u", Integer.toString(warmup), "-i", Integer.toString(iterations),
                "-w", Integer.toString(window)));
        Result r;
        try {
            r = exec(cmd, timeout);
        } catch (IOException e) {
            throw new BenchFailure("could not run the C baseline " + binary + ": " + e.getMessage(), e);
        }
        if (r.exitCode() != 0) {
            throw new BenchFailure("the C baseline failed (exit " + r.exitCode() + "): " + String.join(" ", cmd)
                    + "\n" + r.output().strip());
        }
        return parse(r.stdout(), size);
    }

    /** Reads the one result line {@code size ops seconds gbps mops} for {@code size}. */
    static RateSample parse(String stdout, long size) {
        for (String line : stdout.split("\n")) {
            String[] f = line.trim().split("\t");
            if (f.length == 5 && f[0].equals(Long.toString(size))) {
                try {
                    return new RateSample(size, Long.parseLong(f[1]), Double.parseDouble(f[2]));
                } catch (IllegalArgumentException e) {
                    throw new BenchFailure("the C baseline printed a bad result line: '" + line + "'", e);
                }
            }
        }
        throw new BenchFailure("the C baseline printed no result for " + size + " bytes; it printed:\n" + stdout);
    }

    private record Result(int exitCode, String stdout, String stderr) {
        String output() {
            return stdout + stderr;
        }
    }

    private static Result exec(List<String> cmd, Duration timeout) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        // Debian's libfabric pulls in libpsm-infinipath, whose constructor installs a SIGSEGV handler unless told not to.
        pb.environment().put("IPATH_NO_BACKTRACE", "1");
        Path out = Files.createTempFile("fi_write_bench", ".out");
        Path err = Files.createTempFile("fi_write_bench", ".err");
        try {
            pb.redirectOutput(out.toFile()).redirectError(err.toFile());
            Process p = pb.start();
            boolean exited;
            try {
                exited = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new BenchFailure("interrupted while waiting for " + cmd.get(0));
            }
            if (!exited) {
                p.destroyForcibly();
                throw new BenchFailure(String.join(" ", cmd) + " did not finish within " + timeout.toSeconds() + " s");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static String firstLine(String s) {
        for (String line : s.split("\n")) {
            if (line.toLowerCase(Locale.ROOT).contains("error")) {
                return line.strip();
            }
        }
        return s.strip();
    }
}
