package dev.transferengine.verbs;

import dev.transferengine.api.Access;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.ImmAccounting;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 9 (verbs), through two engines in this JVM: 40 valid 16 KiB imm writes to a live region plus one imm
 * write to a closed region of the same peer, submitted together (the bad one at a different position each round),
 * over 1 and 2 NICs. The refused write moves its RC queue pair to the error state and the NIC flushes everything
 * queued behind it. Every valid write must still succeed with its bytes and exactly its imms (the flushed ones are
 * re-posted after the reconnect); the bad one fails with REMOTE_ACCESS and delivers no imm; the closed region is
 * untouched. Before the fix about 30 of 40 valid writes failed with REMOTE_ACCESS per round, half-landed.
 */
@Tag(SoftRoce.TAG)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VerbsRefusalIsolationTest {
    static final int VALID = 40;
    static final int CHUNK = 16 * 1024;
    static final int ROUNDS = 4;

    @BeforeAll
    void requireDevice() {
        SoftRoce.requireDevice();
    }

    @ParameterizedTest(name = "{0} NIC(s)")
    @ValueSource(ints = {1, 2})
    void oneRefusedWriteAmongFortyFailsAlone(int nics) throws Exception {
        try (Arena arena = Arena.ofShared();
             TransferEngine target = engine("refusal-target", nics);
             TransferEngine writer = engine("refusal-writer", nics)) {
            MemorySegment srcMemory = arena.allocate((long) VALID * CHUNK, 4096);
            MemoryRegion src = writer.register(srcMemory, Access.LOCAL);
            MemorySegment live = arena.allocate((long) VALID * CHUNK, 4096);
            RemoteRegion liveRegion = target.register(live, Access.REMOTE_WRITE).descriptor();
            MemorySegment closedMemory = arena.allocate(CHUNK, 4096);
            List<String> problems = new ArrayList<>();
            long[] roundMillis = new long[ROUNDS];
            for (int round = 0; round < ROUNDS; round++) {
                MemoryRegion closing = target.register(closedMemory, Access.REMOTE_WRITE);
                RemoteRegion closed = closing.descriptor();
                closing.close();
                live.fill((byte) 0);
                for (int n = 0; n < VALID; n++) {
                    srcMemory.asSlice((long) n * CHUNK, CHUNK).fill((byte) (round * 41 + n + 1));
                }
                int badAt = (round * 11 + 5) % (VALID + 1);
                int immBase = 0x5200_0000 + nics * 0x10000 + round * 0x100;
                int badImm = immBase + 0xFF;
                // one imm per shard: 1 over one NIC, 2 over two (16 KiB is two 8 KiB shards)
                long immsPerWrite = ImmAccounting.immsProduced(
                        SingleWrite.withImm(src, 0, CHUNK, liveRegion, 0, immBase), nics);
                ImmCounter badCounter = target.immCounter(badImm);
                ImmCounter[] counters = new ImmCounter[VALID];
                CompletableFuture<?>[] valid = new CompletableFuture<?>[VALID];
                CompletableFuture<Void> bad = null;
                long start = System.nanoTime();
                for (int i = 0, n = 0; i <= VALID; i++) {
                    if (i == badAt) {
                        bad = writer.submit(SingleWrite.withImm(src, 0, CHUNK, closed, 0, badImm));
                    } else {
                        counters[n] = target.immCounter(immBase + n);
                        valid[n] = writer.submit(SingleWrite.withImm(src, (long) n * CHUNK, CHUNK, liveRegion,
                                (long) n * CHUNK, immBase + n));
                        n++;
                    }
                }
                String where = nics + " NIC(s), round " + round + " (bad write at " + badAt + ")";
                for (int n = 0; n < VALID; n++) {
                    try {
                        valid[n].get(120, TimeUnit.SECONDS);
                    } catch (ExecutionException e) {
                        problems.add(where + ": valid write " + n + " failed: " + e.getCause());
                    }
                }
                TransferException badError = null;
                try {
                    bad.get(120, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    badError = e.getCause() instanceof TransferException t ? t : null;
                }
                roundMillis[round] = (System.nanoTime() - start) / 1_000_000;
                if (badError == null || badError.category() != ErrorCategory.REMOTE_ACCESS) {
                    problems.add(where + ": the refused write ended with " + badError);
                }
                awaitImms(counters, immsPerWrite);
                Thread.sleep(200); // let a duplicate imm, if any, arrive
                for (int n = 0; n < VALID; n++) {
                    if (counters[n].arrived() != immsPerWrite) {
                        problems.add(where + ": valid write " + n + " delivered " + counters[n].arrived()
                                + " imms, expected " + immsPerWrite);
                    }
                    long wrong = live.asSlice((long) n * CHUNK, CHUNK).mismatch(srcMemory.asSlice((long) n * CHUNK,
                            CHUNK));
                    if (wrong >= 0) {
                        problems.add(where + ": valid write " + n + " bytes differ at " + wrong);
                    }
                }
                if (badCounter.arrived() != 0) {
                    problems.add(where + ": the refused write delivered " + badCounter.arrived() + " imms");
                }
            }
            System.out.println("VerbsRefusalIsolationTest, " + nics + " NIC(s): ms per round of 41 writes "
                    + Arrays.toString(roundMillis));
            assertEquals(-1, closedMemory.mismatch(arena.allocate(closedMemory.byteSize())),
                    "a refused write changed the closed region");
            assertTrue(problems.isEmpty(), () -> problems.size() + " problems:\n" + String.join("\n", problems));
        }
    }

    private static TransferEngine engine(String name, int nics) {
        return TransferEngine.builder().provider("verbs").groups(1, nics).name(name + "-" + nics)
                .transferTimeout(Duration.ofSeconds(60)).build();
    }

    /** Imms arrive with or shortly after the writes' completions; waits up to 30 s for all of them. */
    private static void awaitImms(ImmCounter[] counters, long each) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() - deadline < 0) {
            boolean all = true;
            for (ImmCounter c : counters) {
                all &= c.arrived() >= each;
            }
            if (all) {
                return;
            }
            Thread.sleep(1);
        }
    }
}
