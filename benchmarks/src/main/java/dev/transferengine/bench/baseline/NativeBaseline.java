package dev.transferengine.bench.baseline;

import dev.transferengine.bench.BenchFailure;
import dev.transferengine.bench.cases.RateSample;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * The C baseline, {@code benchmarks/native/fi_write_bench.c}: compiled with gcc into {@code benchmarks/target/}
 * when the binary is missing or older than the source (or a prebuilt binary, {@link #prebuilt}, never rebuilt), and
 * run as a separate process, one write size per run.
 * Not thread-safe (one compare run uses it from one thread).
 */
public final class NativeBaseline {
    static final String SOURCE_NAME = "fi_write_bench.c";
    static final String BINARY_NAME = "fi_write_bench";
    /** Where the source is looked for, relative to the working directory: the repository root or benchmarks/. */
    private static final List<Path> SOURCE_CANDIDATES = List.of(Path.of("benchmarks", "native", SOURCE_NAME),
            Path.of("native", SOURCE_NAME));
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(2);
    /** The C compiler the bench scripts use. */
    public static final String COMPILER = "gcc";

    private final Path binary;

    private NativeBaseline(Path binary) {
        this.binary = binary;
    }

    /** The source under the working directory, or a failure saying where it was looked for. */
    public static Path findSource(Path explicit) {
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
    public static NativeBaseline prebuilt(Path binary) {
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
    public static NativeBaseline prepare(Path source, String compiler, java.io.PrintWriter log) {
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
        // -ldl: the source dlopens libcuda.so.1 for -D cuda (glibc >= 2.34 has dlopen in libc and ignores it).
        List<String> cmd = List.of(compiler, "-O2", "-Wall", "-o", partial.toString(), source.toString(), "-lfabric",
                "-lpthread", "-ldl");
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

    public Path binary() {
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
     * @param twoProcesses     {@code -P}: the target in a forked child process (same host), as GPU-to-GPU over shm
     *                         needs (CUDA IPC cannot open a handle in the process that exported it)
     * @param cudaDevice       {@code -D cuda:N}: both buffers in CUDA device memory of this ordinal;
     *                         {@link #HOST_MEMORY} for host memory
     */
    public record Settings(String provider, String node, boolean deliveryComplete, boolean hmem,
                           boolean yieldWhenIdle, boolean noImm, boolean twoProcesses, int cudaDevice) {
        /** {@link #cudaDevice} of host-memory runs. */
        static final int HOST_MEMORY = -1;

        public Settings {
            if (cudaDevice < HOST_MEMORY) {
                throw new IllegalArgumentException("CUDA ordinal " + cudaDevice);
            }
            if (cudaDevice != HOST_MEMORY && !hmem) {
                throw new IllegalArgumentException("device memory needs FI_HMEM (hmem true)");
            }
        }

        public Settings(String provider, String node, boolean deliveryComplete, boolean hmem, boolean yieldWhenIdle,
                        boolean noImm) {
            this(provider, node, deliveryComplete, hmem, yieldWhenIdle, noImm, false, HOST_MEMORY);
        }

        Settings(String provider, String node, boolean deliveryComplete, boolean hmem, boolean yieldWhenIdle) {
            this(provider, node, deliveryComplete, hmem, yieldWhenIdle, false);
        }

        /** The command-line flags these settings give fi_write_bench. */
        public List<String> flags() {
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
            if (twoProcesses) {
                f.add("-P");
            }
            if (cudaDevice != HOST_MEMORY) {
                f.addAll(List.of("-D", "cuda:" + cudaDevice)); // "-D" alone (above) is FI_DELIVERY_COMPLETE
            }
            return f;
        }
    }

    /** Runs the baseline for one size. */
    public RateSample run(Settings settings, long size, int warmup, int iterations, int window, Duration timeout) {
        return run(settings, size, warmup, iterations, window, timeout, Map.of());
    }

    /** The command line of one run. */
    List<String> command(Settings settings, long size, int warmup, int iterations, int window) {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary.toString());
        cmd.addAll(settings.flags());
        cmd.addAll(List.of("-s", Long.toString(size), "-u", Integer.toString(warmup), "-i", Integer.toString(iterations),
                "-w", Integer.toString(window)));
        return cmd;
    }

    /**
     * Runs the baseline for one size with {@code environment} added to this process's environment (e.g.
     * {@link #libfabricEnvironment}).
     */
    public RateSample run(Settings settings, long size, int warmup, int iterations, int window, Duration timeout,
                          Map<String, String> environment) {
        List<String> cmd = command(settings, size, warmup, iterations, window);
        Result r;
        try {
            r = exec(cmd, timeout, environment);
        } catch (IOException e) {
            throw new BenchFailure("could not run the C baseline " + binary + ": " + e.getMessage(), e);
        }
        if (r.exitCode() != 0) {
            String env = environment.isEmpty() ? "" : environment + " ";
            throw new BenchFailure("the C baseline failed (exit " + r.exitCode() + "): " + env + String.join(" ", cmd)
                    + "\n" + r.output().strip());
        }
        return parse(r.stdout(), size);
    }

    /**
     * The libfabric the Java engine loads when it is named, as transfer-efa's {@code LibfabricSettings} looks for
     * it: options {@code libfabric.library}, {@code libfabric.path}; system properties {@code te.libfabric.library},
     * {@code te.libfabric.path}; env {@code TE_LIBFABRIC_LIBRARY}, {@code TE_LIBFABRIC_PATH}. Null when none is set
     * (the dynamic linker's search, as for the baseline).
     */
    public static String libfabricLibrary(Map<String, String> options, UnaryOperator<String> systemProperties,
                                          UnaryOperator<String> environment) {
        String[] candidates = {options.get("libfabric.library"), options.get("libfabric.path"),
            systemProperties.apply("te.libfabric.library"), systemProperties.apply("te.libfabric.path"),
            environment.apply("TE_LIBFABRIC_LIBRARY"), environment.apply("TE_LIBFABRIC_PATH")};
        for (String c : candidates) {
            if (c != null && !c.isBlank()) {
                return c.trim();
            }
        }
        return null;
    }

    /**
     * The environment that puts the baseline on the libfabric an engine with {@code engineOptions} loads
     * ({@link #libfabricLibrary} from the options, this JVM's system properties and environment), ahead of this
     * process's own {@code LD_PRELOAD}; empty when the engine is not pointed at a library.
     */
    public static Map<String, String> environmentFor(Map<String, String> engineOptions) {
        return libfabricEnvironment(libfabricLibrary(engineOptions, System::getProperty, System::getenv),
                System.getenv("LD_PRELOAD"));
    }

    /**
     * What puts the baseline on {@code library} (null: nothing, the linker's search): {@code LD_PRELOAD} of the file,
     * ahead of any {@code existingPreload}. The baseline links {@code libfabric.so.1}; a preloaded object of that
     * soname satisfies it, whatever the file is called (the CUDA-enabled build in the GPU kit is
     * {@code libfabric.so.1.20.0}, and its {@code libfabric.so.1} may be a text file left by a lost symlink, so
     * {@code LD_LIBRARY_PATH} cannot be relied on).
     */
    public static Map<String, String> libfabricEnvironment(String library, String existingPreload) {
        if (library == null) {
            return Map.of();
        }
        String preload = existingPreload == null || existingPreload.isBlank() ? library : library + ":" + existingPreload;
        return Map.of("LD_PRELOAD", preload);
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
        return exec(cmd, timeout, Map.of());
    }

    private static Result exec(List<String> cmd, Duration timeout, Map<String, String> environment) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(environment);
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
