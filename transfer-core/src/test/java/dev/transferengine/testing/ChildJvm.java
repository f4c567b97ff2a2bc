package dev.transferengine.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A second JVM for the multi-process tests of every provider and kit: this JVM's {@code java} binary and test class
 * path, {@code --enable-native-access=ALL-UNNAMED}, the builder's JVM arguments, a main class and its arguments,
 * optionally behind a command prefix (such as {@code ip netns exec NAME}). The test talks to it in lines: stdin for
 * commands, stdout for answers. The child's stderr goes to a temporary file; its tail is in every failure message.
 *
 * <p>Every wait has a deadline. {@link #expect} skips lines that start with none of its prefixes (logs, other
 * answers), and fails with an {@link AssertionError}, naming the child and showing its stderr, at the deadline, on a
 * line starting with {@code ERROR} that it was not waiting for, or when the child's stdout ends. Readiness is the
 * caller's: typically {@code expect("READY")} right after {@link Builder#start}, or later, to overlap the child's
 * start-up with the test's own.
 *
 * <p>{@link #close} asks the child to end (the quit line, if any, then end of input), waits, then kills it;
 * {@link #kill} is a SIGKILL, for peer-death tests. Not thread-safe: one test thread talks to it.
 */
public final class ChildJvm implements AutoCloseable {
    private static final String EOF = "\u0000EOF";
    private static final int STDERR_TAIL = 4000;

    private final String name;
    private final Process process;
    private final PrintWriter stdin;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Path stderr;
    private final Duration deadline;
    private final Duration exitWait;
    private final String quitLine;

    private ChildJvm(Builder b, Process process, Path stderr) {
        this.name = b.mainClass.getSimpleName() + " (pid " + process.pid() + ")";
        this.process = process;
        this.stderr = stderr;
        this.deadline = b.deadline;
        this.exitWait = b.exitWait;
        this.quitLine = b.quitLine;
        this.stdin = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        Thread pump = new Thread(this::pump, "child-" + process.pid() + "-stdout");
        pump.setDaemon(true);
        pump.start();
    }

    /** A child JVM that will run {@code mainClass}'s {@code main}. */
    public static Builder builder(Class<?> mainClass) {
        return new Builder(mainClass);
    }

    /** What to start and how long to wait; {@link #start} starts it. */
    public static final class Builder {
        private final Class<?> mainClass;
        private final List<String> prefix = new ArrayList<>();
        private final List<String> jvmArgs = new ArrayList<>();
        private final List<String> args = new ArrayList<>();
        private final Map<String, String> env = new HashMap<>();
        private final List<String> unsetEnv = new ArrayList<>();
        private Path directory;
        private Duration deadline = Duration.ofSeconds(60);
        private Duration exitWait = Duration.ofSeconds(30);
        private String quitLine;

        private Builder(Class<?> mainClass) {
            this.mainClass = mainClass;
        }

        /** Words before the {@code java} command, e.g. {@code ip netns exec NAME}. */
        public Builder commandPrefix(List<String> words) {
            prefix.addAll(words);
            return this;
        }

        /** JVM arguments (heap, GC, {@code -D} properties), in order, after native access. */
        public Builder jvmArgs(String... jvmArgs) {
            return jvmArgs(List.of(jvmArgs));
        }

        public Builder jvmArgs(List<String> jvmArgs) {
            this.jvmArgs.addAll(jvmArgs);
            return this;
        }

        /** A system property of the child: {@code -Dname=value}. */
        public Builder property(String name, String value) {
            jvmArgs.add("-D" + name + "=" + value);
            return this;
        }

        /** Arguments of the main class. */
        public Builder args(String... args) {
            return args(List.of(args));
        }

        public Builder args(List<String> args) {
            this.args.addAll(args);
            return this;
        }

        /** Sets a variable in the child's environment (otherwise this JVM's). */
        public Builder env(String name, String value) {
            unsetEnv.remove(name);
            env.put(name, value);
            return this;
        }

        /** Removes a variable from the child's environment. */
        public Builder withoutEnv(String name) {
            env.remove(name);
            unsetEnv.add(name);
            return this;
        }

        /** The child's working directory (otherwise this JVM's). */
        public Builder directory(Path directory) {
            this.directory = directory;
            return this;
        }

        /** How long {@link #expect} waits for a line (default 60 s). */
        public Builder deadline(Duration deadline) {
            this.deadline = deadline;
            return this;
        }

        /** How long {@link #close}, {@link #kill} and {@link #awaitExit} wait for the child to end (default 30 s). */
        public Builder exitWait(Duration exitWait) {
            this.exitWait = exitWait;
            return this;
        }

        /** The line {@link #close} sends before it closes the child's stdin (default: none, only end of input). */
        public Builder quitLine(String quitLine) {
            this.quitLine = quitLine;
            return this;
        }

        /** Starts the child; it may not be ready yet (see {@link ChildJvm#expect}). */
        public ChildJvm start() throws IOException {
            List<String> cmd = new ArrayList<>(prefix);
            cmd.add(ProcessHandle.current().info().command().orElse("java"));
            cmd.add("--enable-native-access=ALL-UNNAMED");
            cmd.addAll(jvmArgs);
            cmd.add("-cp");
            // Surefire's booter may run the tests from a manifest-only jar; this property is the real class path
            cmd.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
            cmd.add(mainClass.getName());
            cmd.addAll(args);
            Path err = Files.createTempFile("te-" + mainClass.getSimpleName() + "-", ".err");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
            if (directory != null) {
                pb.directory(directory.toFile());
            }
            unsetEnv.forEach(pb.environment()::remove);
            pb.environment().putAll(env);
            try {
                return new ChildJvm(this, pb.start(), err);
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(err);
                throw e;
            }
        }
    }

    /** The child's process id. */
    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Sends one line to the child's stdin. */
    public void send(String line) {
        stdin.println(line);
    }

    /** Sends {@code line} and returns the first answer starting with one of {@code prefixes} (see {@link #expect}). */
    public String ask(String line, String... prefixes) {
        send(line);
        return expect(prefixes);
    }

    /**
     * The next line starting with one of {@code prefixes}, skipping others; fails at the deadline, on an
     * {@code ERROR} line, or at the end of the child's stdout.
     */
    public String expect(String... prefixes) {
        long end = System.nanoTime() + deadline.toNanos();
        String wanted = String.join("/", prefixes);
        try {
            while (true) {
                String line = lines.poll(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (line == null) {
                    throw failure("gave no " + wanted + " within " + deadline);
                }
                if (line.startsWith(EOF)) {
                    lines.add(line); // every later wait fails at once too
                    process.waitFor(1, TimeUnit.SECONDS); // for the exit code in the message
                    String why = line.substring(EOF.length()).trim();
                    throw failure("ended its output" + (why.isEmpty() ? "" : " (" + why + ")") + " before " + wanted);
                }
                for (String p : prefixes) {
                    if (line.startsWith(p)) {
                        return line;
                    }
                }
                if (line.startsWith("ERROR")) {
                    throw failure("answered \"" + line + "\" instead of " + wanted);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted waiting for " + wanted + " from " + name, e);
        }
    }

    /** The value of {@code name=value} among the space-separated words of {@code line}. */
    public static String field(String line, String name) {
        for (String part : line.split(" ")) {
            if (part.startsWith(name + "=")) {
                return part.substring(name.length() + 1);
            }
        }
        throw new AssertionError("no " + name + "= in \"" + line + "\"");
    }

    /** Waits for the child to end by itself; returns its exit code, fails if it has not ended in time. */
    public int awaitExit() throws InterruptedException {
        if (!process.waitFor(exitWait.toNanos(), TimeUnit.NANOSECONDS)) {
            throw failure("did not exit within " + exitWait);
        }
        return process.exitValue();
    }

    /**
     * Kills the child at once (SIGKILL: no cleanup on its side), waits for it to be gone, and removes the
     * {@code /dev/shm/<pid>:*} files libfabric's shm provider leaves behind a killed process.
     */
    public void kill() throws InterruptedException, IOException {
        process.destroyForcibly();
        if (!process.waitFor(exitWait.toNanos(), TimeUnit.NANOSECONDS)) {
            throw failure("did not die within " + exitWait + " of a SIGKILL");
        }
        Path shm = Path.of("/dev/shm");
        if (Files.isDirectory(shm)) {
            try (var files = Files.list(shm)) {
                for (Path f : files.filter(f -> f.getFileName().toString().startsWith(pid() + ":")).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    /** The last 4000 characters of the child's stderr. */
    public String stderrTail() {
        try {
            String s = Files.readString(stderr);
            return s.length() > STDERR_TAIL ? s.substring(s.length() - STDERR_TAIL) : s;
        } catch (IOException e) {
            return "(no stderr: " + e + ")";
        }
    }

    /**
     * Asks the child to end (the quit line, if any, then end of input), kills it if it has not ended within the
     * exit wait, and removes its stderr file.
     */
    @Override
    public void close() throws IOException, InterruptedException {
        try {
            if (process.isAlive()) {
                if (quitLine != null) {
                    send(quitLine);
                }
                stdin.close();
                if (!process.waitFor(exitWait.toNanos(), TimeUnit.NANOSECONDS)) {
                    kill();
                }
            }
        } finally {
            Files.deleteIfExists(stderr);
        }
    }

    @Override
    public String toString() {
        return name;
    }

    private AssertionError failure(String what) {
        String state = process.isAlive() ? "" : " (exited with " + process.exitValue() + ")";
        return new AssertionError("child " + name + state + " " + what + "; stderr:\n" + stderrTail());
    }

    private void pump() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                lines.add(line);
            }
            lines.add(EOF);
        } catch (IOException e) {
            lines.add(EOF + " " + e);
        }
    }
}
