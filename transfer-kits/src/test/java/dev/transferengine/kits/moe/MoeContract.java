package dev.transferengine.kits.moe;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MoE dispatch/combine on one provider, ranks as threads of this JVM, each with an engine of its own. Every token
 * each expert receives and every output each source gets back is compared byte for byte with what the routing says
 * ({@link SyntheticTraffic}); every phase's imm count with what the protocol promises. Subclasses name the provider.
 */
abstract class MoeContract {
    static final Duration WAIT = Duration.ofSeconds(30);

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final Arena arena = Arena.ofShared();
    private final ExecutorService threads = Executors.newCachedThreadPool();

    /** A builder for one engine with one group of {@code nics} NICs on the provider under test. */
    abstract TransferEngine.Builder builder(int nics);

    /** NICs per rank. */
    int nics() {
        return 2;
    }

    /** Skips the calling class when {@code provider} cannot run here (libfabric missing); CI installs libfabric. */
    static void assumeAvailable(String provider) {
        try (TransferEngine e = TransferEngine.builder().provider(provider).name("probe-" + provider).build()) {
            e.providerName();
        } catch (dev.transferengine.api.ProviderUnavailableException e) {
            org.junit.jupiter.api.Assumptions.abort(provider + " is not usable here: " + e.getMessage());
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        threads.shutdownNow();
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        arena.close();
    }

    /** Every rank of {@code config}, each on its own engine, connected. */
    List<MoeRank> layer(MoeConfig config) {
        List<MoeRank> ranks = new ArrayList<>();
        List<TransferEngine> engines = new ArrayList<>();
        List<RemoteRegion> descriptors = new ArrayList<>();
        for (int r = 0; r < config.ranks(); r++) {
            TransferEngine e = builder(config.senderNics()).name("moe" + r).transferTimeout(Duration.ofSeconds(15))
                    .build();
            closeables.add(e);
            engines.add(e);
            MoeRank rank = new MoeRank(e, config, r);
            closeables.add(rank);
            ranks.add(rank);
            descriptors.add(RemoteRegion.decode(rank.descriptor().encode()));
        }
        for (MoeRank r : ranks) {
            r.connect(descriptors);
        }
        return ranks;
    }

    /** Runs {@code rounds} rounds on every rank concurrently; fails on the first wrong byte. */
    void runRounds(MoeConfig config, List<MoeRank> ranks, int rounds) throws Exception {
        List<Future<String>> results = new ArrayList<>();
        for (int r = 0; r < config.ranks(); r++) {
            int rank = r;
            MemorySegment tokens = arena.allocate((long) config.maxTokens() * config.tokenBytes());
            Callable<String> work = () -> {
                for (int round = 0; round < rounds; round++) {
                    String bad = SyntheticTraffic.round(config, ranks.get(rank), rank, round, tokens, WAIT);
                    if (bad != null) {
                        return bad;
                    }
                    assertTrue(ranks.get(rank).lastTimes().requests() <= 5,
                            "route + private + overflow + combine + barrier at most");
                }
                return null;
            };
            results.add(threads.submit(work));
        }
        for (Future<String> f : results) {
            assertNull(f.get(2 * WAIT.toSeconds(), TimeUnit.SECONDS));
        }
    }


    private void checkImms(MoeConfig c, TransferEngine engine, int rank, int rounds) {
        long dispatch = 0;
        for (int round = 0; round < rounds; round++) {
            dispatch += SyntheticTraffic.dispatchImms(c, rank, round);
        }
        long peers = c.ranks() - 1;
        assertEquals(rounds * peers, engine.immCounter(c.imm(MoeConfig.ROUTE)).arrived(), "route imms, rank " + rank);
        assertEquals(dispatch, engine.immCounter(c.imm(MoeConfig.DISPATCH)).arrived(), "dispatch imms, rank " + rank);
        assertEquals(rounds * peers * c.senderNics(), engine.immCounter(c.imm(MoeConfig.COMBINE)).arrived(),
                "combine imms, rank " + rank);
        assertEquals(rounds * peers, engine.immCounter(c.imm(MoeConfig.BARRIER)).arrived(), "barrier imms, rank " + rank);
    }

    private List<TransferEngine> enginesOf(int count) {
        List<TransferEngine> e = new ArrayList<>();
        for (AutoCloseable c : closeables) {
            if (c instanceof TransferEngine t) {
                e.add(t);
            }
        }
        assertEquals(count, e.size());
        return e;
    }

    @Test
    void fourRanksSixteenExpertsRoundTripEveryTokenWithOverflowAndAnIdleRank() throws Exception {
        MoeConfig c = new MoeConfig(4, 16, 24, 3, 96, 4, nics(), 0x3E30_0000);
        List<MoeRank> ranks = layer(c);
        runRounds(c, ranks, 3);
        List<TransferEngine> engines = enginesOf(4);
        for (int r = 0; r < 4; r++) {
            checkImms(c, engines.get(r), r, 3);
        }
    }

    @Test
    void withoutPrivateSlotsEveryTokenGoesThroughTheCountedRanges() throws Exception {
        MoeConfig c = new MoeConfig(4, 8, 16, 2, 40, 0, nics(), 0x3E31_0000);
        List<MoeRank> ranks = layer(c);
        runRounds(c, ranks, 2);
        List<TransferEngine> engines = enginesOf(4);
        for (int r = 0; r < 4; r++) {
            checkImms(c, engines.get(r), r, 2);
        }
    }

    @Test
    void largePrivateSlotsNeedNoOverflowWrites() throws Exception {
        MoeConfig c = new MoeConfig(3, 6, 10, 2, 64, 64, nics(), 0x3E32_0000);
        List<MoeRank> ranks = layer(c);
        runRounds(c, ranks, 2);
        List<TransferEngine> engines = enginesOf(3);
        for (int r = 0; r < 3; r++) {
            checkImms(c, engines.get(r), r, 2);
            assertEquals(2L * 2, engines.get(r).immCounter(c.imm(MoeConfig.DISPATCH)).arrived(),
                    "one private write per peer and round, nothing else");
        }
    }

    @Test
    void aPeerThatNeverDispatchesTimesOutTheRouteWaitAndTheRankRefusesToGoOn() throws Exception {
        MoeConfig c = new MoeConfig(3, 6, 8, 2, 32, 2, nics(), 0x3E33_0000);
        List<MoeRank> ranks = layer(c);
        MemorySegment tokens = arena.allocate(8 * 32);
        int[] ids = SyntheticTraffic.routing(c, 0, 0);
        TransferTimeoutException e = assertThrows(TransferTimeoutException.class, () -> ranks.get(0).dispatch(tokens,
                SyntheticTraffic.tokenCount(c, 0, 0), ids, Duration.ofMillis(300)));
        assertTrue(e.getMessage().contains("route"), e.getMessage());
        assertThrows(InvalidRequestException.class, () -> ranks.get(0).dispatch(tokens, SyntheticTraffic.tokenCount(c, 0, 0),
                ids, WAIT));
    }

    @Test
    void badInputIsRejectedBeforeAnythingIsSent() {
        MoeConfig c = new MoeConfig(2, 4, 4, 2, 16, 1, nics(), 0x3E34_0000);
        List<MoeRank> ranks = layer(c);
        MoeRank r = ranks.get(0);
        MemorySegment tokens = arena.allocate(4 * 16);
        assertThrows(InvalidRequestException.class, () -> r.dispatch(tokens, 1, new int[] {0, 4}, WAIT));
        assertThrows(InvalidRequestException.class, () -> r.dispatch(tokens, 1, new int[] {2, 2}, WAIT));
        assertThrows(InvalidRequestException.class, () -> r.dispatch(tokens, 5, new int[10], WAIT));
        assertThrows(InvalidRequestException.class, () -> r.dispatch(tokens, 2, new int[] {0, 1, 2}, WAIT));
        assertThrows(InvalidRequestException.class, () -> r.dispatch(arena.allocate(16), 2, new int[] {0, 1, 0, 1}, WAIT));
        assertThrows(InvalidRequestException.class, () -> r.combine(WAIT));
        assertThrows(InvalidRequestException.class, () -> r.output(0, 0));
        assertThrows(InvalidRequestException.class, () -> r.connect(List.of(r.descriptor())));
        RemoteRegion small = new RemoteRegion(r.descriptor().baseAddress(), 64, r.descriptor().nics());
        assertThrows(InvalidRequestException.class, () -> r.connect(List.of(small, small)));
        assertThrows(InvalidRequestException.class, () -> new MoeConfig(3, 4, 4, 2, 16, 1, 1, 0));
        assertThrows(InvalidRequestException.class, () -> new MoeConfig(2, 4, 4, 5, 16, 1, 1, 0));
        assertNull(ranks.get(1).lastTimes(), "no round ran");
    }
}
