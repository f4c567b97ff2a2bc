package dev.transferengine.kits.moe;

import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.TransferEngine;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
 * One MoE rank in a child JVM, for the two-process test. The child ({@link #main}) registers its rank, prints
 * {@code READY region=<hex>}, takes {@code PEERS <hex>...} (answer {@code CONNECTED}), runs {@code ROUND <n>} with
 * {@link SyntheticTraffic#round} (answer {@code DONE ok} or {@code DONE bad=<what>}), and ends on {@code QUIT} or
 * end of input. The parent side ({@link #start}) waits for every answer with a deadline.
 */
final class MoeChildRank implements AutoCloseable {
    static final Duration DEADLINE = Duration.ofSeconds(60);

    private final Process process;
    private final PrintWriter stdin;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Path stderr;
    final RemoteRegion region;

    private MoeChildRank(Process process, Path stderr) {
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
        }, "moe-child-stdout");
        pump.setDaemon(true);
        pump.start();
        String ready = expect("READY");
        this.region = RemoteRegion.fromHex(ready.substring(ready.indexOf("region=") + 7).trim());
    }

    /** Starts rank {@code rank} of {@code c} on {@code provider}. */
    static MoeChildRank start(String provider, MoeConfig c, int rank) throws IOException {
        Path err = Files.createTempFile("moe-child-", ".err");
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-Xmx128m", "-cp", System.getProperty("java.class.path"),
                MoeChildRank.class.getName(), provider, Integer.toString(rank)));
        for (int v : new int[] {c.ranks(), c.experts(), c.maxTokens(), c.topK(), c.tokenBytes(), c.privateTokens(),
                c.senderNics(), c.immBase()}) {
            cmd.add(Integer.toString(v));
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
        pb.environment().put("IPATH_NO_BACKTRACE", "1");
        return new MoeChildRank(pb.start(), err);
    }

    void connect(List<RemoteRegion> all) {
        StringBuilder b = new StringBuilder("PEERS");
        for (RemoteRegion r : all) {
            b.append(' ').append(r.toHex());
        }
        stdin.println(b);
        expect("CONNECTED");
    }

    /** Starts round {@code n} in the child; {@link #roundResult()} collects the answer. */
    void startRound(int n) {
        stdin.println("ROUND " + n);
    }

    String roundResult() {
        return expect("DONE");
    }

    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    private String expect(String prefix) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        try {
            while (true) {
                String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (line == null || line.startsWith("EOF") || line.startsWith("ERROR")) {
                    throw new AssertionError("child gave " + (line == null ? "nothing" : line) + " instead of " + prefix
                            + " within " + DEADLINE + "; stderr:\n" + stderrTail());
                }
                if (line.startsWith(prefix)) {
                    return line;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
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

    /** The child: {@code provider rank ranks experts maxTokens topK tokenBytes privateTokens nics immBase}. */
    public static void main(String[] args) throws IOException {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.US_ASCII);
        int rank = Integer.parseInt(args[1]);
        int[] v = new int[8];
        for (int i = 0; i < 8; i++) {
            v[i] = Integer.parseInt(args[2 + i]);
        }
        MoeConfig c = new MoeConfig(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
        try (TransferEngine engine = TransferEngine.builder().provider(args[0]).groups(1, c.senderNics())
                .name("moechild").build();
             MoeRank moe = new MoeRank(engine, c, rank);
             Arena arena = Arena.ofShared()) {
            MemorySegment tokens = arena.allocate((long) c.maxTokens() * c.tokenBytes());
            out.println("READY region=" + moe.descriptor().toHex());
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
            for (String line = in.readLine(); line != null && !line.equals("QUIT"); line = in.readLine()) {
                if (line.startsWith("PEERS ")) {
                    List<RemoteRegion> peers = new ArrayList<>();
                    for (String hex : line.substring(6).trim().split(" ")) {
                        peers.add(RemoteRegion.fromHex(hex));
                    }
                    moe.connect(peers);
                    out.println("CONNECTED");
                } else if (line.startsWith("ROUND ")) {
                    int round = Integer.parseInt(line.substring(6).trim());
                    String bad = SyntheticTraffic.round(c, moe, rank, round, tokens, Duration.ofSeconds(30));
                    out.println(bad == null ? "DONE ok" : "DONE bad=" + bad.replace(' ', '_'));
                }
            }
        } catch (RuntimeException e) {
            out.println("ERROR " + e.toString().replace('\n', ' '));
            throw e;
        }
    }
}
