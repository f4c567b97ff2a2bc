package dev.transferengine.kits.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM for the kits' multi-process tests: started with this JVM's java binary and class path, spoken to
 * line by line over stdin/stdout. Every wait has a deadline, and failures carry the tail of the child's stderr. A
 * line starting with {@code ERROR}, or the end of the child's stdout, fails the wait at once. Not thread-safe: one
 * test thread talks to it.
 */
public final class ChildProcess implements AutoCloseable {
    private static final String EOF = "\u0000EOF";
    private static final Duration EXIT_WAIT = Duration.ofSeconds(30);

    private final Process process;
    private final PrintWriter stdin;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Path stderr;
    private final String quitLine;

    private ChildProcess(Process process, Path stderr, String quitLine) {
        this.process = process;
        this.stderr = stderr;
        this.quitLine = quitLine;
        this.stdin = new PrintWriter(process.getOutputStream(), true, StandardCharsets.US_ASCII);
        Thread pump = new Thread(this::pump, "child-" + process.pid() + "-stdout");
        pump.setDaemon(true);
        pump.start();
    }

    /**
     * Starts {@code mainClass} with {@code args} in a child JVM given {@code jvmArgs} (plus native access); the
     * child is told to end by the line {@code quitLine} on {@link #close()}.
     */
    public static ChildProcess start(Class<?> mainClass, List<String> args, List<String> jvmArgs, String quitLine)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass.getName());
        cmd.addAll(args);
        Path err = Files.createTempFile(mainClass.getSimpleName() + "-", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
        pb.environment().put("IPATH_NO_BACKTRACE", "1");
        try {
            return new ChildProcess(pb.start(), err, quitLine);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(err);
            throw e;
        }
    }

    /** The child's process id. */
    public long pid() {
        return process.pid();
    }

    /** Sends one line to the child's stdin. */
    public void send(String line) {
        stdin.println(line);
    }

    /**
     * The next line starting with one of {@code prefixes}, skipping others; fails with an {@link AssertionError}
     * (naming the line and the child's stderr tail) on an {@code ERROR} line, on the end of stdout, or when
     * {@code deadline} passes.
     */
    public String await(Duration deadline, String... prefixes) {
        long end = System.nanoTime() + deadline.toNanos();
        try {
            while (true) {
                String line = lines.poll(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (line == null || line.startsWith(EOF) || line.startsWith("ERROR")) {
                    String got = line == null ? "nothing" : line.startsWith(EOF) ? "end of output" : line;
                    throw new AssertionError("child " + process.pid() + " gave " + got + " instead of "
                            + String.join("/", prefixes) + " within " + deadline + "; stderr:\n" + stderrTail());
                }
                for (String p : prefixes) {
                    if (line.startsWith(p)) {
                        return line;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted waiting for " + String.join("/", prefixes), e);
        }
    }

    /**
     * Kills the child at once (SIGKILL), waits for it to be gone, and removes the {@code /dev/shm/<pid>:*} files
     * libfabric's shm provider leaves behind a killed process.
     */
    public void kill() throws InterruptedException, IOException {
        process.destroyForcibly();
        if (!process.waitFor(EXIT_WAIT.toSeconds(), TimeUnit.SECONDS)) {
            throw new AssertionError("child " + process.pid() + " did not die within " + EXIT_WAIT);
        }
        removeShmFiles(process.pid());
    }

    /** The last 4000 characters of the child's stderr. */
    public String stderrTail() {
        try {
            String s = Files.readString(stderr);
            return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
        } catch (IOException e) {
            return "(no stderr: " + e + ")";
        }
    }

    /** Asks the child to end with the quit line, kills it if it has not within 30 s, and removes its stderr file. */
    @Override
    public void close() throws IOException, InterruptedException {
        try {
            if (process.isAlive()) {
                send(quitLine);
                if (!process.waitFor(EXIT_WAIT.toSeconds(), TimeUnit.SECONDS)) {
                    kill();
                }
            }
        } finally {
            Files.deleteIfExists(stderr);
        }
    }

    private void pump() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.US_ASCII))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                lines.add(line);
            }
        } catch (IOException e) {
            lines.add(EOF + " " + e);
            return;
        }
        lines.add(EOF);
    }

    private static void removeShmFiles(long pid) throws IOException {
        Path shm = Path.of("/dev/shm");
        if (!Files.isDirectory(shm)) {
            return;
        }
        try (var files = Files.list(shm)) {
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith(pid + ":")).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }
}
