package dev.transferengine.efa;

import dev.transferengine.api.Access;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 9 (tcp) through the engine, two engines in this JVM: 40 valid 16 KiB imm writes to a live region plus one
 * imm write to a closed region of the same peer, submitted together (the bad one at a different position each
 * round), 20 rounds. Every valid write succeeds with its bytes and exactly one imm; the bad one fails with
 * REMOTE_ACCESS and delivers no imm. Before the fix, every write submitted after the bad one failed (labelled
 * REMOTE_ACCESS or PEER_UNREACHABLE, as the stale errno had it) and the bad one was sometimes PEER_UNREACHABLE.
 */
class RefusalIsolationEngineTest {
    static final int VALID = 40;
    static final int CHUNK = 16 * 1024;
    static final int ROUNDS = 20;

    @BeforeAll
    static void libfabricPresent() {
        TestProviders.assumeLibfabric();
    }

    @Test
    void oneRefusedWriteAmongFortyFailsAloneThroughTheEngine() throws Exception {
        try (Arena arena = Arena.ofShared();
             TransferEngine target = TransferEngine.builder().provider("tcp").groups(1, 1).name("isolation-target")
                     .transferTimeout(Duration.ofSeconds(20)).build();
             TransferEngine writer = TransferEngine.builder().provider("tcp").groups(1, 1).name("isolation-writer")
                     .transferTimeout(Duration.ofSeconds(20)).build()) {
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
                int badAt = (round * 7 + 3) % (VALID + 1);
                int immBase = 0x5100_0000 + round * 0x100;
                int badImm = immBase + 0xFF;
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
                String where = "round " + round + " (bad write at " + badAt + ")";
                for (int n = 0; n < VALID; n++) {
                    try {
                        valid[n].get(60, TimeUnit.SECONDS);
                    } catch (ExecutionException e) {
                        problems.add(where + ": valid write " + n + " failed: " + e.getCause());
                    }
                }
                TransferException badError = null;
                try {
                    bad.get(60, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    badError = e.getCause() instanceof TransferException t ? t : null;
                }
                roundMillis[round] = (System.nanoTime() - start) / 1_000_000;
                if (badError == null || badError.category() != ErrorCategory.REMOTE_ACCESS) {
                    problems.add(where + ": the refused write ended with " + badError);
                }
                long immDeadline = System.nanoTime() + 5_000_000_000L; // imms come with or before the completions
                while (System.nanoTime() - immDeadline < 0) {
                    boolean all = true;
                    for (ImmCounter c : counters) {
                        all &= c.arrived() >= 1;
                    }
                    if (all) {
                        break;
                    }
                    Thread.sleep(1);
                }
                Thread.sleep(50); // let a duplicate imm, if any, arrive
                for (int n = 0; n < VALID; n++) {
                    if (counters[n].arrived() != 1) {
                        problems.add(where + ": valid write " + n + " delivered " + counters[n].arrived() + " imms");
                    }
                    long wrong = live.asSlice((long) n * CHUNK, CHUNK).mismatch(srcMemory.asSlice((long) n * CHUNK,
                            CHUNK));
                    if (wrong >= 0) {
                        problems.add(where + ": valid write " + n + " bytes differ at " + wrong);
                    }
                }
                if (badCounter.arrived() != 0) {
                    problems.add(where + ": the refused write delivered its imm");
                }
            }
            System.out.println("RefusalIsolationEngineTest: ms per round of 41 writes " + java.util.Arrays.toString(
                    roundMillis));
            assertEquals(-1, closedMemory.mismatch(arena.allocate(closedMemory.byteSize())),
                    "a refused write changed the closed region");
            assertTrue(problems.isEmpty(), () -> problems.size() + " problems:\n" + String.join("\n", problems));
        }
    }
}
