package dev.transferengine.verbs;

import dev.transferengine.testing.RecordingSink;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.RegisteredMemory;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Issue 9 (verbs) at the SPI, two domains in this process: a write the responder refuses breaks its RC queue
 * pair and the NIC flushes what was queued behind it. The provider must fail only the refused write, post the
 * flushed ones again on the reconnected queue pairs (same contexts, bytes and imms, each exactly once), and fail
 * them with PEER_UNREACHABLE when the peer cannot be reconnected.
 */
@Tag(SoftRoce.TAG)
class VerbsRefusalRecoveryTest {
    static final int VALID = 40;
    static final int CHUNK = 16 * 1024;

    /**
     * 40 valid 16 KiB imm writes and one imm write to a closed region, posted together, 3 rounds; with 3 RMA
     * queue pairs per peer the writes on the two healthy queue pairs are in flight while the broken one drains.
     */
    @ParameterizedTest(name = "{0} RMA queue pair(s) per peer")
    @ValueSource(ints = {1, 3})
    void onlyTheRefusedWriteFailsAndTheFlushedOnesArePostedAgain(int rmaQps) {
        try (DomainPair p = new DomainPair(Map.of("verbs.rmaQpsPerPeer", Integer.toString(rmaQps)))) {
            MemorySegment src = p.buffer((long) VALID * CHUNK);
            MemorySegment dst = p.buffer((long) VALID * CHUNK);
            MemorySegment closed = p.buffer(CHUNK);
            RegisteredMemory srcMr = p.a.register(src, false);
            RegisteredMemory dstMr = p.b.register(dst, true);
            long peer = p.a.resolvePeer(p.b.address());
            List<String> problems = new ArrayList<>();
            for (int round = 0; round < 3; round++) {
                RegisteredMemory closing = p.b.register(closed, true);
                long closedBase = closing.remoteBase();
                long closedKey = closing.remoteKey();
                p.b.deregister(closing);
                dst.fill((byte) 0);
                for (int n = 0; n < VALID; n++) {
                    src.asSlice((long) n * CHUNK, CHUNK).fill((byte) (round * 41 + n + 1));
                }
                int badAt = (round * 13 + 7) % (VALID + 1);
                long base = 1000L * (round + 1);
                long badContext = base + 999;
                int badImm = 0x0BAD_0000 + round;
                for (int i = 0, n = 0; i <= VALID; i++) {
                    if (i == badAt) {
                        p.post(() -> p.a.postWrite(peer, srcMr, src.address(), CHUNK, closedBase, closedKey, true,
                                badImm, badContext), "the bad write");
                    } else {
                        long off = (long) n * CHUNK;
                        long ctx = base + n;
                        int imm = (int) ctx;
                        p.post(() -> p.a.postWrite(peer, srcMr, src.address() + off, CHUNK, dstMr.remoteBase() + off,
                                dstMr.remoteKey(), true, imm, ctx), "valid write " + n);
                        n++;
                    }
                }
                p.pollUntil(() -> {
                    for (int n = 0; n < VALID; n++) {
                        if (!p.sinkA.finished(base + n) || p.sinkB.immCount((int) (base + n)) == 0) {
                            return false;
                        }
                    }
                    return p.sinkA.finished(badContext);
                }, "round " + round + ": 41 writes and 40 imms");
                // a few more polls so that a duplicate imm, if any, would be seen
                for (int i = 0; i < 2000; i++) {
                    p.a.poll(p.sinkA, 64);
                    p.b.poll(p.sinkB, 64);
                }
                String where = rmaQps + " QP(s), round " + round + " (bad write at " + badAt + ")";
                TransferException badError = p.sinkA.errors.get(badContext);
                if (badError == null || badError.category() != ErrorCategory.REMOTE_ACCESS) {
                    problems.add(where + ": the refused write ended with " + badError);
                }
                if (p.sinkB.immCount(badImm) != 0) {
                    problems.add(where + ": the refused write delivered its imm");
                }
                for (int n = 0; n < VALID; n++) {
                    long ctx = base + n;
                    if (!p.sinkA.completed.contains(ctx)) {
                        problems.add(where + ": valid write " + n + " failed: " + p.sinkA.errors.get(ctx));
                    }
                    if (p.sinkB.immCount((int) ctx) != 1) {
                        problems.add(where + ": valid write " + n + " delivered " + p.sinkB.immCount((int) ctx) + " imms");
                    }
                    long wrong = dst.asSlice((long) n * CHUNK, CHUNK).mismatch(src.asSlice((long) n * CHUNK, CHUNK));
                    if (wrong >= 0) {
                        problems.add(where + ": valid write " + n + " bytes differ at " + wrong);
                    }
                }
            }
            assertEquals(-1, closed.mismatch(p.buffer(CHUNK)), "a refused write changed the closed region");
            assertTrue(problems.isEmpty(), () -> problems.size() + " problems:\n" + String.join("\n", problems));
        }
    }

    /**
     * The peer stops polling right after the connection is up, so it never answers the reconnect's handshake:
     * writes before the refused one complete (the NIC acknowledged them), the refused one is REMOTE_ACCESS, and
     * the flushed ones, held for the reconnect, fail with PEER_UNREACHABLE at the handshake timeout.
     */
    @Test
    void heldWritesFailWithPeerUnreachableWhenThePeerCannotBeReconnected() {
        try (DomainPair p = new DomainPair(Map.of("verbs.handshakeTimeoutMillis", "3000"))) {
            MemorySegment src = p.buffer(16L * CHUNK);
            MemorySegment dst = p.buffer(16L * CHUNK);
            MemorySegment closed = p.buffer(CHUNK);
            RegisteredMemory srcMr = p.a.register(src, false);
            RegisteredMemory dstMr = p.b.register(dst, true);
            RegisteredMemory closing = p.b.register(closed, true);
            long closedBase = closing.remoteBase();
            long closedKey = closing.remoteKey();
            p.b.deregister(closing);
            long peer = p.a.resolvePeer(p.b.address());
            p.post(() -> p.a.postWrite(peer, srcMr, src.address(), CHUNK, dstMr.remoteBase(), dstMr.remoteKey(),
                    false, 0, 1), "the first write");
            p.pollUntil(() -> p.sinkA.finished(1), "the first write");
            assertTrue(p.sinkA.completed.contains(1L), () -> "first write: " + p.sinkA.errors.get(1L));

            int badAt = 4;
            for (int i = 0; i < 12; i++) {
                long off = (long) i * CHUNK;
                int rc = i == badAt
                        ? p.a.postWrite(peer, srcMr, src.address(), CHUNK, closedBase, closedKey, true, 7, 100 + i)
                        : p.a.postWrite(peer, srcMr, src.address() + off, CHUNK, dstMr.remoteBase() + off,
                        dstMr.remoteKey(), true, 8, 100 + i);
                assertEquals(ProviderDomain.POSTED, rc, "post " + i + " (the connection is up, the ring has room)");
            }
            long deadline = System.nanoTime() + DomainPair.DEADLINE.toNanos();
            while (!allDone(p.sinkA, 100, 12)) {
                if (System.nanoTime() - deadline > 0) {
                    fail("deadline passed; completed " + p.sinkA.completed + ", errors " + p.sinkA.errors.keySet());
                }
                p.a.poll(p.sinkA, 64); // only a: b never answers the reconnect
            }
            for (int i = 0; i < 12; i++) {
                long ctx = 100 + i;
                if (i < badAt) {
                    assertTrue(p.sinkA.completed.contains(ctx), () -> "write " + ctx + ": " + p.sinkA.errors.get(ctx));
                } else if (i == badAt) {
                    assertEquals(ErrorCategory.REMOTE_ACCESS, p.sinkA.errors.get(ctx).category(),
                            () -> p.sinkA.errors.get(ctx).toString());
                } else {
                    TransferException e = p.sinkA.errors.get(ctx);
                    assertEquals(ErrorCategory.PEER_UNREACHABLE, e.category(), e::toString);
                    assertTrue(e.getMessage().contains("reconnecting failed"), e.getMessage());
                }
            }
        }
    }

    private static boolean allDone(RecordingSink r, long first, int count) {
        for (int i = 0; i < count; i++) {
            if (!r.finished(first + i)) {
                return false;
            }
        }
        return true;
    }
}
