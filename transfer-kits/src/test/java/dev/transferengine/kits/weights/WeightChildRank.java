package dev.transferengine.kits.weights;

import dev.transferengine.api.Access;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.TransferEngine;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One inference rank in a child JVM, for the two-process test. The child ({@link #main}) computes the schedule
 * from the same metadata, registers its weight buffer, prints {@code READY region=<hex>}, then answers
 * {@code AWAIT <step>} with {@code LANDED imms=<n> mismatch=<offset or -1>} (or {@code TIMEOUT}) and ends on
 * {@code QUIT} or end of input. The parent side ({@link #start}) talks to it over stdin/stdout with a deadline on
 * every answer.
 */
final class WeightChildRank implements AutoCloseable {
    static final Duration DEADLINE = Duration.ofSeconds(60);

    private final Process process;
    private final PrintWriter stdin;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Path stderr;
    final RemoteRegion region;

    private WeightChildRank(Process process, Path stderr) {
        this.process = process;
        this.stderr = stderr;
        this.stdin = new PrintWriter(process.getOutputStream(), true, StandardCharsets.US_ASCII);
        Thread pump = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.US_ASCII))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("EOF " + e);
            }
            lines.add("EOF");
        }, "weight-child-stdout");
        pump.setDaemon(true);
        pump.start();
        this.region = RemoteRegion.fromHex(field(expect("READY"), "region"));
    }

    /** Starts rank {@code rank} of {@code destinations} for {@code sources} training ranks of {@code senderNics}. */
    static WeightChildRank start(String provider, int sources, int destinations, int rank, int senderNics)
            throws IOException {
        Path err = Files.createTempFile("weight-child-", ".err");
        List<String> cmd = List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-Xmx128m", "-cp", System.getProperty("java.class.path"),
                WeightChildRank.class.getName(), provider, Integer.toString(sources), Integer.toString(destinations),
                Integer.toString(rank), Integer.toString(senderNics));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
        pb.environment().put("IPATH_NO_BACKTRACE", "1");
        return new WeightChildRank(pb.start(), err);
    }

    /** Asks the child to wait for one step and verify it; returns the answer line. */
    String await(long step) {
        stdin.println("AWAIT " + step);
        return expect("LANDED", "TIMEOUT");
    }

    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    private String expect(String... prefixes) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        try {
            while (true) {
                String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (line == null || line.startsWith("EOF") || line.startsWith("ERROR")) {
                    throw new AssertionError("child gave " + (line == null ? "nothing" : line) + " instead of "
                            + String.join("/", prefixes) + " within " + DEADLINE + "; stderr:\n" + stderrTail());
                }
                for (String p : prefixes) {
                    if (line.startsWith(p)) {
                        return line;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static String field(String line, String name) {
        for (String part : line.split(" ")) {
            if (part.startsWith(name + "=")) {
                return part.substring(name.length() + 1);
            }
        }
        throw new AssertionError("no " + name + " in " + line);
    }

    private String stderrTail() {
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

    /** The child: {@code provider sources destinations rank senderNics}. */
    public static void main(String[] args) throws IOException {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.US_ASCII);
        int sources = Integer.parseInt(args[1]);
        int destinations = Integer.parseInt(args[2]);
        int rank = Integer.parseInt(args[3]);
        int senderNics = Integer.parseInt(args[4]);
        WeightSchedule schedule = WeightPlanner.plan(WeightShapes.mixed(), sources, destinations);
        try (TransferEngine engine = TransferEngine.builder().provider(args[0]).name("wchild").build();
             Arena arena = Arena.ofShared()) {
            MemoryRegion weights = engine.register(arena.allocate(schedule.destinationBufferBytes(rank), 4096),
                    Access.REMOTE_WRITE);
            WeightReceiver receiver = new WeightReceiver(engine, schedule, rank, weights, WeightPushContract.IMM,
                    senderNics);
            out.println("READY region=" + weights.descriptor().toHex());
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
            for (String line = in.readLine(); line != null && !line.equals("QUIT"); line = in.readLine()) {
                if (line.startsWith("AWAIT ")) {
                    long step = Long.parseLong(line.substring(6).trim());
                    try {
                        receiver.awaitStep(Duration.ofSeconds(30));
                    } catch (dev.transferengine.api.TransferTimeoutException e) {
                        out.println("TIMEOUT imms=" + receiver.immsArrived());
                        continue;
                    }
                    out.println("LANDED imms=" + receiver.immsArrived() + " mismatch="
                            + SyntheticWeights.firstMismatch(schedule, rank, weights.segment(), step));
                }
            }
        } catch (RuntimeException e) {
            out.println("ERROR " + e);
            throw e;
        }
    }
}
