package dev.transferengine.bench.cli;

import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.bench.BenchFailure;
import dev.transferengine.bench.cases.EnginePatternRun;
import dev.transferengine.bench.cases.RateSample;
import dev.transferengine.bench.process.BenchChild;
import dev.transferengine.kits.moe.MoeConfig;
import dev.transferengine.kits.moe.MoeRank;
import dev.transferengine.kits.moe.RoundTimes;
import dev.transferengine.kits.moe.SyntheticTraffic;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * {@code transfer-bench moe}: the MoE dispatch/combine kit with every rank a thread of this process and an engine of
 * its own, or ({@code --processes}) a child JVM of its own. Rounds of dispatch, experts, combine; the first and the
 * last round use a toy expert and check every received token and every returned output byte for byte, the rounds
 * between use the identity and are timed.
 * Prints dispatch and combine time per rank, Gbps over the network part, and the ratio to plain single writes of
 * the same total bytes (in writes of the kit's mean write size) on the same provider.
 */
@Command(name = "moe", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"MoE dispatch/combine (kit dev.transferengine.kits.moe), ranks as threads or (--processes) "
                + "as processes, verified.",
                "Default shape: DeepSeek-V3-like tokens (7168 fp8 + 56 fp32 scales = 7392 bytes), top-8, decode "
                        + "batch of 128 tokens per rank, 32 experts over 8 ranks."})
public final class MoeCommand implements java.util.concurrent.Callable<Integer> {

    @Mixin
    EngineOptions engine = new EngineOptions();

    @Option(names = "--ranks", paramLabel = "N", defaultValue = "8", description = "Ranks (default: ${DEFAULT-VALUE}).")
    int ranks = 8;

    @Option(names = "--experts", paramLabel = "N", defaultValue = "32",
            description = "Experts, a multiple of --ranks (default: ${DEFAULT-VALUE}).")
    int experts = 32;

    @Option(names = "--tokens", paramLabel = "N", defaultValue = "128",
            description = "Tokens per rank per round (default: ${DEFAULT-VALUE}).")
    int tokens = 128;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "8",
            description = "Experts per token (default: ${DEFAULT-VALUE}).")
    int topK = 8;

    @Option(names = "--token-bytes", paramLabel = "BYTES", defaultValue = "7392",
            description = "Bytes per token (default: ${DEFAULT-VALUE}).")
    int tokenBytes = 7392;

    @Option(names = "--private-tokens", paramLabel = "N", defaultValue = "32",
            description = "Private slot per source at each destination, in tokens (default: ${DEFAULT-VALUE}).")
    int privateTokens = 32;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "20",
            description = "Timed rounds, between a verified first and last round (default: ${DEFAULT-VALUE}).")
    int rounds = 20;

    @Option(names = "--processes", description = "Every rank in a JVM of its own (tcp or shm), started and "
            + "coordinated by this one: descriptors exchanged as hex, rounds run in parallel, timings collected.")
    boolean processes;

    /** Set in the child JVMs of {@code --processes}: run rank R and talk to the parent over stdin/stdout. */
    @Option(names = "--as-rank", paramLabel = "R", hidden = true, defaultValue = "-1")
    int asRank = -1;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (rounds < 1) {
            throw new IllegalArgumentException("--rounds must be >= 1");
        }
        MoeConfig config;
        try {
            config = new MoeConfig(ranks, experts, tokens, topK, tokenBytes, privateTokens, engine.nicsPerGpu(),
                    0x3E40_0000);
        } catch (dev.transferengine.api.InvalidRequestException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        if (asRank >= 0) {
            return runAsChild(config);
        }
        if (processes && engine.provider() == ProviderChoice.LOOPBACK) {
            throw new IllegalArgumentException("--processes needs a provider that crosses processes (tcp or shm); "
                    + "loopback engines meet only inside one JVM");
        }
        PrintWriter out = spec.commandLine().getOut();
        int total = rounds + 2;
        long networkBytes = 0;
        long writes = 0;
        for (int round = 1; round <= rounds; round++) {
            long[] perRound = networkBytesAndWrites(config, round);
            networkBytes += perRound[0];
            writes += perRound[1];
        }
        long[][] perRank = new long[ranks][];
        long bufferBytes;
        if (processes) {
            bufferBytes = runProcesses(config, out, total, perRank);
        } else {
            bufferBytes = runThreads(config, out, total, perRank);
        }
        long dispatchNanos = 0, combineNanos = 0, barrierNanos = 0, wallNanos = 0;
        for (long[] t : perRank) {
            dispatchNanos += t[0];
            combineNanos += t[1];
            barrierNanos += t[2];
            wallNanos = Math.max(wallNanos, t[3]);
        }
        double n = (double) ranks * rounds;
        double seconds = wallNanos / 1e9;
        double gbps = networkBytes * 8 / seconds / 1e9;
        out.printf(Locale.ROOT, "rounds: %d timed (identity experts), first and last verified byte for byte%n", rounds);
        out.printf(Locale.ROOT, "per rank and round: dispatch %.1f us, combine %.1f us, barrier %.1f us; "
                        + "round %.1f us (wall, slowest rank)%n", dispatchNanos / n / 1e3, combineNanos / n / 1e3,
                barrierNanos / n / 1e3, wallNanos / 1e3 / rounds);
        out.printf(Locale.ROOT, "network: %s (dispatch + combine) in %d writes (route, dispatch, combine) "
                        + "per round, all ranks, %.3f Gbps%n",
                ByteSize.format(networkBytes / rounds), writes / rounds, gbps);
        out.flush();
        long size = Math.max(64, networkBytes / Math.max(1, writes));
        int count = (int) Math.max(16, Math.min(200_000, networkBytes / size));
        RateSample raw = new EnginePatternRun(engine).measure(size, Math.min(count, 64), count, 64);
        out.printf(Locale.ROOT, "baseline: plain single writes of %s (the mean write), %d of them, one writer, "
                + "window 64: %.3f Gbps; moe / baseline = %.2f%n", ByteSize.format(size), count, raw.gbps(),
                gbps / raw.gbps());
        return 0;
    }

    private void header(PrintWriter out, long bufferBytes, String where) {
        out.printf(Locale.ROOT, "moe: %d ranks (%s), %d experts, top-%d, %d tokens of %d B per rank, "
                        + "private slots of %d tokens, %s registered per rank, %s%n", ranks, where, experts, topK, tokens, tokenBytes,
                privateTokens, ByteSize.format(bufferBytes), engine.provider().cliName());
        out.flush();
    }

    /** Every rank a thread of this process with an engine of its own; fills {@code perRank}; the buffer size. */
    private long runThreads(MoeConfig config, PrintWriter out, int total, long[][] perRank) throws Exception {
        List<AutoCloseable> closeables = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(ranks);
        Arena arena = Arena.ofShared();
        try {
            List<MoeRank> layer = new ArrayList<>();
            List<RemoteRegion> descriptors = new ArrayList<>();
            for (int r = 0; r < ranks; r++) {
                TransferEngine e = engine.builder("moe" + r).build();
                closeables.add(e);
                MoeRank rank = new MoeRank(e, config, r);
                closeables.add(rank);
                layer.add(rank);
                descriptors.add(RemoteRegion.fromHex(rank.descriptor().toHex()));
            }
            for (MoeRank r : layer) {
                r.connect(descriptors);
            }
            header(out, layer.get(0).bufferBytes(), "threads of this process");
            List<Future<long[]>> results = new ArrayList<>();
            for (int r = 0; r < ranks; r++) {
                int rank = r;
                MemorySegment buffer = arena.allocate((long) tokens * tokenBytes);
                results.add(pool.submit(() -> runRank(config, layer.get(rank), rank, buffer, total)));
            }
            for (int r = 0; r < ranks; r++) {
                perRank[r] = results.get(r).get(engine.timeout().toSeconds() * total, TimeUnit.SECONDS);
            }
            return layer.get(0).bufferBytes();
        } finally {
            pool.shutdownNow();
            for (int i = closeables.size() - 1; i >= 0; i--) {
                closeables.get(i).close();
            }
            arena.close();
        }
    }

    /**
     * Every rank a child JVM ({@code moe --as-rank R} with this run's options). The protocol, one line each way:
     * the child answers {@code @READY <buffer bytes> <descriptor hex>}; this process sends every child
     * {@code PEERS <hex>...} and gets {@code @CONNECTED}; once all are connected it sends {@code GO}, and each
     * child runs its rounds and answers {@code @DONE <dispatch> <combine> <barrier> <wall>} (nanos) or
     * {@code @FAIL <why>}; closing its stdin ends it (after every rank is done, so no peer still writes to it).
     */
    private long runProcesses(MoeConfig config, PrintWriter out, int total, long[][] perRank) throws Exception {
        List<BenchChild> children = new ArrayList<>();
        java.time.Duration start = java.time.Duration.ofSeconds(120);
        try {
            for (int r = 0; r < ranks; r++) {
                List<String> args = new ArrayList<>(List.of("moe", "--as-rank", Integer.toString(r)));
                args.addAll(engine.asArgs());
                args.addAll(List.of("--ranks", Integer.toString(ranks), "--experts", Integer.toString(experts),
                        "--tokens", Integer.toString(tokens), "--top-k", Integer.toString(topK), "--token-bytes",
                        Integer.toString(tokenBytes), "--private-tokens", Integer.toString(privateTokens), "--rounds",
                        Integer.toString(rounds)));
                children.add(BenchChild.start("moe rank " + r, args));
            }
            StringBuilder peers = new StringBuilder("PEERS");
            long bufferBytes = 0;
            for (BenchChild c : children) {
                String[] ready = expect(c.answer(start), "READY", 3);
                bufferBytes = Long.parseLong(ready[1]);
                peers.append(' ').append(ready[2]);
            }
            for (BenchChild c : children) {
                c.send(peers.toString());
            }
            for (BenchChild c : children) {
                expect(c.answer(start), "CONNECTED", 1);
            }
            header(out, bufferBytes, "processes, pids " + children.stream().map(c -> Long.toString(c.pid()))
                    .collect(java.util.stream.Collectors.joining(",")));
            for (BenchChild c : children) {
                c.send("GO");
            }
            java.time.Duration rounds = engine.timeout().multipliedBy(total).plusSeconds(60);
            for (int r = 0; r < ranks; r++) {
                String[] done = expect(children.get(r).answer(rounds), "DONE", 5);
                perRank[r] = new long[] {Long.parseLong(done[1]), Long.parseLong(done[2]), Long.parseLong(done[3]),
                        Long.parseLong(done[4])};
            }
            return bufferBytes;
        } finally {
            children.forEach(BenchChild::close);
        }
    }

    private static String[] expect(String answer, String word, int fields) {
        String[] w = answer.split(" ");
        if (!w[0].equals(word) || w.length != fields) {
            throw new BenchFailure("a rank answered '" + answer + "' where " + word + " was expected");
        }
        return w;
    }

    /** The child side of {@link #runProcesses}. */
    private int runAsChild(MoeConfig config) throws Exception {
        java.io.PrintStream out = System.out;
        java.io.BufferedReader in = BenchChild.fromParent();
        try (TransferEngine e = engine.builder("moe" + asRank).build();
             MoeRank rank = new MoeRank(e, config, asRank);
             Arena arena = Arena.ofShared()) {
            out.println("@READY " + rank.bufferBytes() + " " + rank.descriptor().toHex());
            out.flush();
            rank.connect(BenchChild.readDescriptors(in, "PEERS", "rank " + asRank));
            out.println("@CONNECTED");
            out.flush();
            String go = in.readLine();
            if (!"GO".equals(go)) {
                throw new BenchFailure("rank " + asRank + ": expected GO, got " + go);
            }
            try {
                long[] t = runRank(config, rank, asRank, arena.allocate((long) tokens * tokenBytes), rounds + 2);
                out.println("@DONE " + t[0] + " " + t[1] + " " + t[2] + " " + t[3]);
            } catch (RuntimeException failure) {
                out.println("@FAIL rank " + asRank + ": " + String.valueOf(failure.getMessage()).replace('\n', ' '));
            }
            out.flush();
            // Stay until the parent is done with every rank: a peer may still be writing to this one.
            while (in.readLine() != null) {
                // nothing to answer
            }
        }
        return 0;
    }

    /** Round 0 and the last verified, the others timed: {dispatch, combine, barrier, wall} nanos of the timed rounds. */
    private long[] runRank(MoeConfig config, MoeRank moe, int rank, MemorySegment buffer, int total) {
        long[] sums = new long[4];
        long start = 0;
        for (int round = 0; round < total; round++) {
            boolean verify = round == 0 || round == total - 1;
            if (round == 1) {
                start = System.nanoTime();
            }
            if (round == total - 1) {
                sums[3] = System.nanoTime() - start;
            }
            String bad = SyntheticTraffic.round(config, moe, rank, round, buffer, engine.timeout(), verify);
            if (bad != null) {
                throw new BenchFailure(bad);
            }
            if (!verify) {
                RoundTimes t = moe.lastTimes();
                sums[0] += t.dispatchNanos();
                sums[1] += t.combineNanos();
                sums[2] += t.barrierNanos();
            }
        }
        return sums;
    }

    /** Bytes that cross between ranks in {@code round} (dispatch and combine) and the writes that carry them. */
    private static long[] networkBytesAndWrites(MoeConfig c, int round) {
        long bytes = 0;
        long writes = 0;
        for (int s = 0; s < c.ranks(); s++) {
            int[] ids = SyntheticTraffic.routing(c, s, round);
            int[] toRank = new int[c.ranks()];
            for (int id : ids) {
                toRank[c.rankOf(id)]++;
            }
            for (int d = 0; d < c.ranks(); d++) {
                if (d != s) {
                    bytes += 2L * toRank[d] * c.tokenBytes();
                    writes += 2 + (toRank[d] > c.privateTokens() ? 1 : 0) + 1;
                }
            }
        }
        return new long[] {bytes, writes};
    }
}
