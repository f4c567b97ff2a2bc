package dev.transferengine.efa;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.RegisteredMemory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Issue 9 (tcp): one refused write must not fail its neighbours. At the provider SPI, 40 valid 16 KiB imm writes
 * to a live region of B plus one imm write to a closed region of B, posted together (the bad one at a different
 * position each round), 20 rounds: every valid write completes with its bytes and exactly one imm; the bad one
 * fails with REMOTE_ACCESS and delivers no imm. tcp;ofi_rxm drops the connection on a refusal and flushes every
 * write in flight on it with FI_ECANCELED (docs/reliability.md).
 */
class RefusalIsolationTest {
    static final int VALID = 40;
    static final long CHUNK = 16 * 1024;
    static final int ROUNDS = 20;

    @BeforeAll
    static void libfabricPresent() {
        TestProviders.assumeLibfabric();
    }

    @ParameterizedTest
    @EnumSource(value = TestProviders.class, names = {"TCP", "TCP_EFA_PATHS"})
    void oneRefusedWriteAmongFortyFailsAloneAndTheOthersLand(TestProviders p) {
        try (DomainPair d = new DomainPair(p.options)) {
            MemorySegment closedMemory = d.arena.allocate(64 * 1024, 4096);
            List<String> problems = new ArrayList<>();
            long nextContext = 1;
            for (int round = 0; round < ROUNDS; round++) {
                RegisteredMemory closed = d.b.register(closedMemory, true);
                d.b.deregister(closed);
                d.bufB.fill((byte) 0);
                d.sinkA.completed.clear();
                d.sinkA.errors.clear();
                d.sinkB.imms.clear();
                int badAt = (round * 7 + 3) % (VALID + 1);
                int immBase = 0x4100_0000 + round * 0x100;
                int badImm = immBase + 0xFF;
                Map<Long, Integer> validContexts = new HashMap<>();
                long badContext = -1;
                int valid = 0;
                for (int i = 0; i <= VALID; i++) {
                    long ctx = nextContext++;
                    if (i == badAt) {
                        badContext = ctx;
                        post(d, 0, CHUNK, closed.remoteBase(), closed.remoteKey(), badImm, ctx);
                    } else {
                        int n = valid++;
                        d.bufA.asSlice(n * CHUNK, CHUNK).fill((byte) (round * 41 + n + 1));
                        validContexts.put(ctx, n);
                        post(d, n * CHUNK, CHUNK, d.memB.remoteBase() + n * CHUNK, d.memB.remoteKey(), immBase + n,
                                ctx);
                    }
                }
                long bad = badContext;
                d.pollUntil(() -> validContexts.keySet().stream().allMatch(d.sinkA::finished)
                        && d.sinkA.finished(bad), "all 41 writes");
                long settle = System.nanoTime() + 200_000_000L;
                while (System.nanoTime() - settle < 0) {
                    d.a.poll(d.sinkA, 16);
                    d.b.poll(d.sinkB, 16);
                }
                String where = "round " + round + " (bad write at " + badAt + ")";
                for (Map.Entry<Long, Integer> e : validContexts.entrySet()) {
                    TransferException err = d.sinkA.errors.get(e.getKey());
                    if (err != null) {
                        problems.add(where + ": valid write " + e.getValue() + " failed: " + err);
                    }
                    int n = e.getValue();
                    long imms = d.sinkB.imms.stream().filter(x -> x == immBase + n).count();
                    if (imms != 1) {
                        problems.add(where + ": valid write " + n + " delivered " + imms + " imms");
                    }
                    byte expected = (byte) (round * 41 + n + 1);
                    long wrong = d.bufB.asSlice(n * CHUNK, CHUNK).mismatch(
                            d.bufA.asSlice(n * CHUNK, CHUNK));
                    if (wrong >= 0) {
                        problems.add(where + ": valid write " + n + " bytes differ at " + wrong + " (want "
                                + expected + ")");
                    }
                }
                TransferException badError = d.sinkA.errors.get(bad);
                if (badError == null || badError.category() != ErrorCategory.REMOTE_ACCESS) {
                    problems.add(where + ": the refused write ended with " + badError);
                }
                if (d.sinkB.imms.contains(badImm)) {
                    problems.add(where + ": the refused write delivered its imm");
                }
                assertEquals(0, d.sinkA.duplicates(), where + ": an operation was reported twice");
            }
            assertEquals(-1, closedMemory.mismatch(d.arena.allocate(closedMemory.byteSize())),
                    "a refused write changed the closed region");
            assertTrue(problems.isEmpty(), () -> problems.size() + " problems:\n" + String.join("\n", problems));
        }
    }

    private static void post(DomainPair d, long srcOffset, long length, long remote, long key, int imm, long ctx) {
        long deadline = System.nanoTime() + DomainPair.DEADLINE.toNanos();
        while (d.a.postWrite(d.peerOfA, d.memA, d.memA.address() + srcOffset, length, remote, key, true, imm, ctx)
                != ProviderDomain.POSTED) {
            d.a.poll(d.sinkA, 16);
            d.b.poll(d.sinkB, 16);
            if (System.nanoTime() - deadline > 0) {
                fail("write kept returning RETRY");
            }
        }
    }
}
