package dev.transferengine.kits.moe;

import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Three MoE ranks over tcp: ranks 0 and 1 as threads of this JVM, rank 2 in a child JVM ({@link MoeChildRank}); each
 * checks its own received tokens and returned outputs. Then the child is killed: the next dispatch fails with a
 * typed error within its deadline instead of hanging.
 */
class MoeTwoProcessTest {
    @BeforeAll
    static void libfabricPresent() {
        MoeContract.assumeAvailable("tcp");
    }

    @Test
    void aRankInAChildJvmTakesPartInEveryPhaseAndAKilledOneFailsTheNextDispatch() throws Exception {
        MoeConfig c = new MoeConfig(3, 12, 16, 3, 72, 3, 1, 0x3E50_0000);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (MoeChildRank child = MoeChildRank.start("tcp", c, 2);
             TransferEngine e0 = TransferEngine.builder().provider("tcp").name("moe0").build();
             TransferEngine e1 = TransferEngine.builder().provider("tcp").name("moe1").build();
             MoeRank r0 = new MoeRank(e0, c, 0);
             MoeRank r1 = new MoeRank(e1, c, 1);
             Arena arena = Arena.ofShared()) {
            List<RemoteRegion> all = List.of(r0.descriptor(), r1.descriptor(), child.region);
            r0.connect(all);
            r1.connect(all);
            child.connect(all);
            List<MoeRank> local = List.of(r0, r1);
            List<MemorySegment> tokens = List.of(arena.allocate(16 * 72), arena.allocate(16 * 72));
            for (int round = 0; round < 3; round++) {
                int n = round;
                child.startRound(n);
                List<Future<String>> results = new ArrayList<>();
                for (int r = 0; r < 2; r++) {
                    int rank = r;
                    results.add(pool.submit(() -> SyntheticTraffic.round(c, local.get(rank), rank, n, tokens.get(rank),
                            Duration.ofSeconds(30))));
                }
                for (Future<String> f : results) {
                    assertNull(f.get(MoeChildRank.DEADLINE.toSeconds(), TimeUnit.SECONDS));
                }
                assertEquals("DONE ok", child.roundResult());
            }
            child.kill();
            int[] ids = SyntheticTraffic.routing(c, 0, 3);
            SyntheticTraffic.fillTokens(c, 0, 3, tokens.get(0));
            assertThrows(TransferException.class, () -> r0.dispatch(tokens.get(0), SyntheticTraffic.tokenCount(c, 0, 3),
                    ids, Duration.ofSeconds(2)));
        } finally {
            pool.shutdownNow();
        }
    }
}
