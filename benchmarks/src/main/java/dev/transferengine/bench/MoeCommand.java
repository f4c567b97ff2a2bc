package dev.transferengine.bench;

import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.TransferEngine;
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
 * its own. Rounds of dispatch, experts, combine; the first and the last round use a toy expert and check every
 * received token and every returned output byte for byte, the rounds between use the identity and are timed.
 * Prints dispatch and combine time per rank, Gbps over the network part, and the ratio to plain single writes of
 * the same total bytes (in writes of the kit's mean write size) on the same provider.
 */
@Command(name = "moe", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"MoE dispatch/combine (kit dev.transferengine.kits.moe), ranks as threads, verified.",
                "Default shape: DeepSeek-V3-like tokens (7168 fp8 + 56 fp32 scales = 7392 bytes), top-8, decode "
                        + "batch of 128 tokens per rank, 32 experts over 8 ranks."})
final class MoeCommand implements java.util.concurrent.Callable<Integer> {

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
        PrintWriter out = spec.commandLine().getOut();
        int total = rounds + 2;
        long networkBytes = 0;
        long writes = 0;
        for (int round = 1; round <= rounds; round++) {
            long[] perRound = networkBytesAndWrites(config, round);
            networkBytes += perRound[0];
            writes += perRound[1];
        }
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
            out.printf(Locale.ROOT, "moe: %d ranks, %d experts, top-%d, %d tokens of %d B per rank, private slots of %d "
                            + "tokens, %s registered per rank, %s%n", ranks, experts, topK, tokens, tokenBytes,
                    privateTokens, ByteSize.format(layer.get(0).bufferBytes()), engine.provider().cliName());
            out.flush();
            List<Future<long[]>> results = new ArrayList<>();
            for (int r = 0; r < ranks; r++) {
                int rank = r;
                MemorySegment buffer = arena.allocate((long) tokens * tokenBytes);
                results.add(pool.submit(() -> runRank(config, layer.get(rank), rank, buffer, total)));
            }
            long dispatchNanos = 0, combineNanos = 0, barrierNanos = 0, wallNanos = 0;
            for (Future<long[]> f : results) {
                long[] t = f.get(engine.timeout().toSeconds() * total, TimeUnit.SECONDS);
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
        } finally {
            pool.shutdownNow();
            for (int i = closeables.size() - 1; i >= 0; i--) {
                closeables.get(i).close();
            }
            arena.close();
        }
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
