package dev.transferengine.bench.cli;

import dev.transferengine.bench.CliRun;
import dev.transferengine.bench.TransferBench;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * transfer-bench server and client in two processes on libfabric tcp: the server runs in a child JVM, the
 * client in this one; the server must count every timed write of every row and find the client's bytes. Their
 * messages on their own: ServerClientMessagesTest.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ServerClientTest {
    private static final long DEADLINE_SECONDS = 90;

    @Test
    void theServerCountsAndChecksEveryRowTheClientWrites() throws Exception {
        Path serverErr = Files.createTempFile("bench-server", ".err");
        List<String> cmd = List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                TransferBench.class.getName(), "server", "--provider", "tcp", "--buffer", "1M", "--wait", "60",
                "--timeout", "60");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(serverErr.toFile());
        pb.environment().put("IPATH_NO_BACKTRACE", "1");
        Process server = pb.start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread pump = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(server.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("EOF " + e);
            }
        }, "bench-server-stdout");
        pump.setDaemon(true);
        pump.start();
        try {
            String address = valueOf(lines, "address ", serverErr);
            String descriptor = valueOf(lines, "descriptor ", serverErr);

            CliRun client = CliRun.of("client", "--provider", "tcp", "--address", address, "--descriptor", descriptor,
                    "--sizes", "4K,1M,64", "--window", "8", "--warmup", "5", "--iterations", "40");
            assertEquals(0, client.exitCode(), client.err());
            // Row 2 (64 B): 5 warm-up and 40 timed writes, and the server's answer says its bytes were right.
            assertTrue(client.out().lines().anyMatch(l -> l.matches("2\\s+64 B\\s+5\\s+40\\s.*verified")), client.out());

            assertTrue(server.waitFor(DEADLINE_SECONDS, TimeUnit.SECONDS), "server did not exit after the client's end");
            assertEquals(0, server.exitValue(), Files.readString(serverErr));
            pump.join(TimeUnit.SECONDS.toMillis(DEADLINE_SECONDS));
            List<String> rest = new ArrayList<>();
            lines.drainTo(rest);
            String[] sizes = {"4 KiB", "1 MiB", "64 B"};
            for (int row = 0; row < sizes.length; row++) {
                String prefix = String.format("row %-3d %-9s %8d imms", row, sizes[row], 40);
                assertTrue(rest.stream().anyMatch(l -> l.startsWith(prefix) && l.endsWith("bytes verified")),
                        prefix + " in " + rest);
            }
            assertTrue(rest.stream().anyMatch(l -> l.startsWith("served 3 row(s); 15 warm-up imms; 4 messages received")),
                    rest.toString());
        } finally {
            server.destroyForcibly();
            server.waitFor(DEADLINE_SECONDS, TimeUnit.SECONDS);
            Files.deleteIfExists(serverErr);
        }
    }

    private static String valueOf(BlockingQueue<String> lines, String prefix, Path serverErr)
            throws InterruptedException, IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DEADLINE_SECONDS);
        while (System.nanoTime() < deadline) {
            String line = lines.poll(1, TimeUnit.SECONDS);
            if (line != null && line.startsWith(prefix)) {
                return line.substring(prefix.length()).trim();
            }
            if (line != null && line.startsWith("EOF")) {
                break;
            }
        }
        throw new AssertionError("the server printed no '" + prefix.trim() + "' line; stderr: "
                + Files.readString(serverErr));
    }

    @Test
    void loopbackAndBadDescriptorsAreRefusedBeforeAnyTransfer() {
        CliRun loopback = CliRun.of("server", "--provider", "loopback");
        assertEquals(2, loopback.exitCode());
        assertTrue(loopback.err().contains("cannot cross processes"), loopback.err());

        CliRun badHex = CliRun.of("client", "--provider", "tcp", "--address", "zz", "--descriptor", "00");
        assertEquals(1, badHex.exitCode(), badHex.out());
        assertNotNull(badHex.err());
        assertTrue(badHex.err().startsWith("transfer-bench: "), badHex.err());
    }
}
