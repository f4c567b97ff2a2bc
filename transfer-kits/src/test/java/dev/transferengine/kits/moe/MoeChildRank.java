package dev.transferengine.kits.moe;

import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.testing.ChildJvm;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One MoE rank in a child JVM, for the two-process test. The child ({@link #main}) registers its rank, prints
 * {@code READY region=<hex>}, takes {@code PEERS <hex>...} (answer {@code CONNECTED}), runs {@code ROUND <n>} with
 * {@link SyntheticTraffic#round} (answer {@code DONE ok} or {@code DONE bad=<what>}), and ends on {@code QUIT} or
 * end of input. The parent side ({@link #start}) waits for every answer with a deadline.
 */
final class MoeChildRank implements AutoCloseable {
    static final Duration DEADLINE = Duration.ofSeconds(60);

    private final ChildJvm child;
    final RemoteRegion region;

    private MoeChildRank(ChildJvm child) {
        this.child = child;
        String ready = child.expect("READY");
        this.region = RemoteRegion.fromHex(ready.substring(ready.indexOf("region=") + 7).trim());
    }

    /** Starts rank {@code rank} of {@code c} on {@code provider}. */
    static MoeChildRank start(String provider, MoeConfig c, int rank) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of(provider, Integer.toString(rank)));
        for (int v : new int[] {c.ranks(), c.experts(), c.maxTokens(), c.topK(), c.tokenBytes(), c.privateTokens(),
                c.senderNics(), c.immBase()}) {
            args.add(Integer.toString(v));
        }
        ChildJvm child = ChildJvm.builder(MoeChildRank.class).jvmArgs("-Xmx128m").args(args)
                .env("IPATH_NO_BACKTRACE", "1").quitLine("QUIT").deadline(DEADLINE).start();
        try {
            return new MoeChildRank(child);
        } catch (AssertionError e) {
            child.kill();
            throw e;
        }
    }

    void connect(List<RemoteRegion> all) {
        StringBuilder b = new StringBuilder("PEERS");
        for (RemoteRegion r : all) {
            b.append(' ').append(r.toHex());
        }
        child.ask(b.toString(), "CONNECTED");
    }

    /** Starts round {@code n} in the child; {@link #roundResult()} collects the answer. */
    void startRound(int n) {
        child.send("ROUND " + n);
    }

    String roundResult() {
        return child.expect("DONE");
    }

    void kill() throws InterruptedException, IOException {
        child.kill();
    }

    @Override
    public void close() throws Exception {
        child.close();
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
