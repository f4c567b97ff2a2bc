package dev.transferengine.bench.process;

import dev.transferengine.bench.BenchFailure;
import dev.transferengine.bench.TransferBench;

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

/**
 * A transfer-bench subcommand in a child JVM of its own (same Java, class path and {@code te.*} system properties),
 * driven by lines: {@link #send} writes to its stdin, {@link #answer} returns its next stdout line that starts with
 * {@code @} (other output is ignored; its stderr is this process's). Used by the demos whose ranks or peers are
 * separate processes ({@code moe --processes}, {@code gpu --peer-process}).
 */
public final class BenchChild implements AutoCloseable {
    private static final String EOF = "\u0000eof";

    private final String name;
    private final Process process;
    private final PrintWriter stdin;
    private final LinkedBlockingQueue<String> answers = new LinkedBlockingQueue<>();

    private BenchChild(String name, Process process) {
        this.name = name;
        this.process = process;
        this.stdin = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    if (line.startsWith("@")) {
                        answers.add(line.substring(1));
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
            answers.add(EOF);
        }, name + "-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts {@code transfer-bench <args>} in a child JVM named {@code name} (for messages). The child gets this
     * JVM's {@code te.*} system properties and, split at white space, the JVM flags in
     * {@code te.bench.childJvmOptions} (e.g. {@code -XX:StartFlightRecording=filename=child.jfr} to profile it).
     */
    public static BenchChild start(String name, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("--enable-native-access=ALL-UNNAMED");
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("te.")).sorted()
                .forEach(k -> cmd.add("-D" + k + "=" + System.getProperty(k)));
        String childOptions = System.getProperty("te.bench.childJvmOptions", "").strip();
        if (!childOptions.isEmpty()) {
            cmd.addAll(List.of(childOptions.split("\\s+")));
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), TransferBench.class.getName()));
        cmd.addAll(args);
        return new BenchChild(name, new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start());
    }

    /** In a child: the parent's lines (this JVM's stdin). */
    public static BufferedReader fromParent() {
        return new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    }

    /**
     * In a child: reads the parent's next line, {@code <word> <hex>...}, as region descriptors.
     *
     * @throws BenchFailure when the line is missing or starts with another word
     */
    public static List<dev.transferengine.api.RemoteRegion> readDescriptors(BufferedReader in, String word, String who)
            throws IOException {
        String line = in.readLine();
        if (line == null || !line.startsWith(word + " ")) {
            throw new BenchFailure(who + ": expected " + word + ", got " + line);
        }
        List<dev.transferengine.api.RemoteRegion> descriptors = new ArrayList<>();
        for (String hex : line.substring(word.length() + 1).trim().split(" ")) {
            descriptors.add(dev.transferengine.api.RemoteRegion.fromHex(hex));
        }
        return descriptors;
    }

    public long pid() {
        return process.pid();
    }

    public void send(String line) {
        stdin.println(line);
    }

    /**
     * The child's next {@code @} line without the {@code @}.
     *
     * @throws BenchFailure when none comes within {@code timeout}, or the child ended first
     */
    public String answer(Duration timeout) {
        String a;
        try {
            a = answers.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BenchFailure(name + ": interrupted while waiting for its answer", e);
        }
        if (a == null) {
            throw new BenchFailure(name + " (pid " + process.pid() + ") did not answer within " + timeout);
        }
        if (a.equals(EOF)) {
            answers.add(EOF);
            String exit = process.isAlive() ? "" : " with exit status " + process.exitValue();
            throw new BenchFailure(name + " (pid " + process.pid() + ") ended" + exit + " before answering");
        }
        return a;
    }

    /** Closes the child's stdin (its cue to finish), waits 30 s for it to exit, then kills it. */
    @Override
    public void close() {
        stdin.close();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
