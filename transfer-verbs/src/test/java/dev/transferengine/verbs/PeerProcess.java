package dev.transferengine.verbs;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A second JVM running {@link ReceiverProcessMain}, with the same java binary and test class path as this
 * one. Answers are read by a daemon thread; every wait has a deadline. Its stderr goes to ours.
 */
final class PeerProcess implements AutoCloseable {
    /** JVM start-up in the guest takes seconds; a command's own wait is at most 60 s. */
    static final Duration DEADLINE = Duration.ofSeconds(120);

    private final Process process;
    private final PrintWriter commands;
    private final LinkedBlockingQueue<String> answers = new LinkedBlockingQueue<>();

    PeerProcess(Class<?> main, String... jvmOptions) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m", "-cp", classPath));
        cmd.addAll(List.of(jvmOptions));
        cmd.add(main.getName());
        process = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        commands = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    if (line.startsWith("@")) {
                        answers.add(line);
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "peer-process-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /** The next answer line (without the '@'), failing the test at the deadline or if the peer died. */
    String answer(String what) {
        try {
            String a = answers.poll(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            if (a == null) {
                fail("no answer from the peer process within " + DEADLINE + " for " + what
                        + (process.isAlive() ? "" : " (it exited with " + process.exitValue() + ")"));
            }
            return a.substring(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Sends {@code command} and returns its answer; an "ERR" answer fails the test. */
    String call(String command) {
        commands.println(command);
        String a = answer(command);
        if (a.startsWith("ERR")) {
            fail("peer process: " + command + " -> " + a);
        }
        return a;
    }

    /** Sends a command that gets no answer. */
    void tell(String command) {
        commands.println(command);
    }

    void awaitExit() throws InterruptedException {
        assertTrue(process.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS), "the peer process did not exit");
    }

    /** SIGKILL: the process ends without closing anything (its QPs are torn down by the kernel, unannounced). */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        assertTrue(process.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS), "the peer process did not die");
    }

    boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() throws InterruptedException {
        commands.close();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
