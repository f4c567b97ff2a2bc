package dev.transferengine.efa;

import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.RemoteRegion;

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

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A second JVM running {@link TargetProcessMain}: started with this JVM's java binary and class path, talked
 * to over its stdin/stdout. Every answer is awaited with a deadline; a failure message includes the child's
 * stderr. Not thread-safe: one test thread talks to it.
 */
final class ChildJvm implements AutoCloseable {
    static final Duration DEADLINE = Duration.ofSeconds(90);

    private final Process process;
    private final PrintWriter stdin;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Path stderr;
    final DomainAddress address;
    final RemoteRegion region;
    final String sigsegvOwner;
    /** Signals whose handlers libfabric replaced in the child and the provider restored ("none" or "11,7"). */
    final String restoredSignals;

    /**
     * @param keepIpathVariable false to start the child without IPATH_NO_BACKTRACE in its environment, so it
     *                          depends on the provider setting it before libfabric loads
     */
    ChildJvm(String providerAlias, int nics, long regionBytes, boolean keepIpathVariable, int... imms)
            throws IOException {
        this(List.of(), providerAlias, nics, regionBytes, keepIpathVariable, imms);
    }

    /** @param jvmArgs extra JVM arguments for the child (system properties such as {@code te.libfabric.library}) */
    ChildJvm(List<String> jvmArgs, String providerAlias, int nics, long regionBytes, boolean keepIpathVariable,
             int... imms) throws IOException {
        this(List.of(), jvmArgs, providerAlias, nics, regionBytes, keepIpathVariable, imms);
    }

    /**
     * @param commandPrefix words before the java command, e.g. {@code ip netns exec NAME} to run the child in another
     *                      network namespace
     * @param jvmArgs       extra JVM arguments for the child
     */
    ChildJvm(List<String> commandPrefix, List<String> jvmArgs, String providerAlias, int nics, long regionBytes,
             boolean keepIpathVariable, int... imms) throws IOException {
        List<String> cmd = new ArrayList<>(commandPrefix);
        cmd.addAll(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-cp", System.getProperty("java.class.path")));
        cmd.addAll(jvmArgs);
        cmd.addAll(List.of(TargetProcessMain.class.getName(), providerAlias, Integer.toString(nics),
                Long.toString(regionBytes)));
        for (int imm : imms) {
            cmd.add(Integer.toString(imm));
        }
        stderr = Files.createTempFile("te-child-", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(stderr.toFile());
        if (!keepIpathVariable) {
            pb.environment().remove("IPATH_NO_BACKTRACE");
        }
        process = pb.start();
        stdin = new PrintWriter(process.getOutputStream(), true, StandardCharsets.US_ASCII);
        Thread reader = new Thread(this::pump, "child-" + process.pid() + "-stdout");
        reader.setDaemon(true);
        reader.start();
        String ready = expect("READY");
        address = DomainAddress.fromHex(field(ready, "addr"));
        region = RemoteRegion.fromHex(field(ready, "region"));
        sigsegvOwner = field(ready, "sigsegv");
        restoredSignals = field(ready, "restored");
    }

    private void pump() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.US_ASCII))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                lines.add(line);
            }
        } catch (IOException e) {
            lines.add("EOF " + e);
        }
    }

    /** Sends a command and returns the first answer line starting with one of {@code answers}. */
    String ask(String command, String... answers) {
        stdin.println(command);
        return expect(answers);
    }

    /** The next line starting with one of {@code prefixes} (other lines, e.g. logs, are skipped). */
    String expect(String... prefixes) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        try {
            while (true) {
                String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (line == null) {
                    fail("child gave no " + String.join("/", prefixes) + " within " + DEADLINE + "; stderr:\n"
                            + stderrTail());
                }
                for (String prefix : prefixes) {
                    if (line.startsWith(prefix)) {
                        return line;
                    }
                }
                if (line.startsWith("ERROR")) {
                    fail("child: " + line + "\n" + stderrTail());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static String field(String line, String name) {
        for (String part : line.split(" ")) {
            if (part.startsWith(name + "=")) {
                return part.substring(name.length() + 1);
            }
        }
        throw new IllegalArgumentException("no " + name + " in " + line);
    }

    long checksum(long offset, long length) {
        return Long.parseLong(ask("CHECKSUM " + offset + " " + length, "SUM").split(" ")[1]);
    }

    /** Waits in the child until {@code n} imms of {@code imm} arrived; returns how many arrived. */
    long count(int imm, long n) {
        String[] w = ask("COUNT " + imm + " " + n, "COUNTED", "TIMEOUT").split(" ");
        if (!w[0].equals("COUNTED")) {
            fail("child counted only " + w[2] + " of " + n + " imms " + imm + "; stderr:\n" + stderrTail());
        }
        return Long.parseLong(w[2]);
    }

    /** Kills the child at once (SIGKILL): no cleanup on its side, so its shm files are removed here. */
    void kill() throws InterruptedException, IOException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
        Path shm = Path.of("/dev/shm");
        if (Files.isDirectory(shm)) {
            try (var files = Files.list(shm)) {
                for (Path f : files.filter(f -> f.getFileName().toString().startsWith(process.pid() + ":")).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    String stderrTail() {
        try {
            String s = Files.readString(stderr);
            return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
        } catch (IOException e) {
            return "(no stderr: " + e + ")";
        }
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            stdin.println("QUIT");
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(30, TimeUnit.SECONDS);
            }
        }
        Files.deleteIfExists(stderr);
    }
}
