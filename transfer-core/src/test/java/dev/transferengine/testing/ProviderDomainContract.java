package dev.transferengine.testing;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.RegisteredMemory;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SPI's obligations, stated once and run by every provider (issue 11): exactly one outcome per context, RETRY
 * means nothing was posted, imms and receives delivered, deregistration idempotent, refused writes reported with a
 * typed error. A provider's test subclasses this and says how to open a {@link DomainPair}; everything runs on the
 * test thread through the pair's sinks, which also enforce the exactly-once rule on every delivery.
 */
public abstract class ProviderDomainContract {
    private static final int IMM = 0x0C0A_7A57;

    /** Two domains of the provider under test (the pair owns and closes them). */
    protected abstract DomainPair openPair();

    /** Whether a write the target refuses (a forged key) is reported to the writer; shm does not. */
    protected boolean reportsRefusedWrites() {
        return true;
    }

    private static void pattern(MemorySegment s, int seed) {
        for (long i = 0; i < s.byteSize(); i++) {
            s.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + seed));
        }
    }

    @Test
    void everyWriteHasExactlyOneOutcomeAndDeliversItsImmAndBytes() {
        try (DomainPair p = openPair()) {
            int writes = 200;
            int size = 256;
            MemorySegment src = p.buffer((long) writes * size);
            MemorySegment dst = p.buffer((long) writes * size);
            pattern(src, 7);
            RegisteredMemory srcMr = p.a.register(src, false);
            RegisteredMemory dstMr = p.b.register(dst, true);
            long peer = p.a.resolvePeer(p.b.address());
            for (int i = 0; i < writes; i++) {
                long off = (long) i * size;
                long context = 1000 + i;
                p.post(() -> p.a.postWrite(peer, srcMr, srcMr.address() + off, size, dstMr.remoteBase() + off,
                        dstMr.remoteKey(), true, IMM, context), "write " + context);
            }
            p.pollUntil(() -> p.sinkA.outcomes() == writes && p.sinkB.immCount(IMM) == writes,
                    writes + " completions and imms");
            assertTrue(p.sinkA.errors.isEmpty(), () -> "errors: " + p.sinkA.errors);
            assertEquals(writes, new HashSet<>(p.sinkA.completed).size(), "one outcome per context");
            assertEquals(-1, src.mismatch(dst), "every byte landed");
            assertEquals(0, p.sinkA.duplicates() + p.sinkB.duplicates());
        }
    }

    @Test
    void retryMeansNothingWasPosted() {
        try (DomainPair p = openPair()) {
            MemorySegment src = p.buffer(64);
            MemorySegment dst = p.buffer(64);
            RegisteredMemory srcMr = p.a.register(src, false);
            RegisteredMemory dstMr = p.b.register(dst, true);
            long peer = p.a.resolvePeer(p.b.address());
            // One write first, so that a provider that connects while polling (verbs) is connected.
            p.post(() -> p.a.postWrite(peer, srcMr, srcMr.address(), 64, dstMr.remoteBase(), dstMr.remoteKey(), true,
                    IMM, 0), "the first write");
            p.pollUntil(() -> p.sinkA.finished(0) && p.sinkB.immCount(IMM) == 1, "the first write");
            // Then post without polling until the provider pushes back (or a cap): RETRY must leave no trace.
            List<Long> posted = new ArrayList<>();
            posted.add(0L);
            Set<Long> refused = new HashSet<>();
            for (long context = 1; context <= 50_000 && refused.size() < 16; context++) {
                int rc = p.a.postWrite(peer, srcMr, srcMr.address(), 64, dstMr.remoteBase(), dstMr.remoteKey(), true,
                        IMM, context);
                if (rc == ProviderDomain.RETRY) {
                    refused.add(context);
                } else {
                    assertEquals(ProviderDomain.POSTED, rc);
                    posted.add(context);
                }
            }
            p.pollUntil(() -> p.sinkA.outcomes() == posted.size() && p.sinkB.immCount(IMM) == posted.size(),
                    posted.size() + " posted writes");
            for (long context : refused) {
                assertTrue(!p.sinkA.finished(context), "context " + context + " was refused with RETRY yet reported");
            }
            assertEquals(posted.size(), p.sinkB.immCount(IMM), "no imm for a write that was refused with RETRY");
            assertTrue(p.sinkA.errors.isEmpty(), () -> "errors: " + p.sinkA.errors);
            System.out.printf("%s: %d posted, %d RETRY before polling%n", getClass().getSimpleName(), posted.size(),
                    refused.size());
        }
    }

    @Test
    void sendsFillPostedReceivesAndZeroLengthWritesCarryImms() {
        try (DomainPair p = openPair()) {
            MemorySegment src = p.buffer(4096);
            MemorySegment dst = p.buffer(4096);
            pattern(src, 3);
            RegisteredMemory srcMr = p.a.register(src, false);
            RegisteredMemory dstMr = p.b.register(dst, true);
            long peer = p.a.resolvePeer(p.b.address());
            p.post(() -> p.b.postReceive(dstMr, dstMr.address(), 4096, 500), "receive");
            p.post(() -> p.a.postSend(peer, srcMr, srcMr.address(), 100, 501), "send");
            p.post(() -> p.a.postWrite(peer, null, 0, 0, dstMr.remoteBase(), dstMr.remoteKey(), true, IMM + 1, 502),
                    "zero-length write");
            p.pollUntil(() -> p.sinkB.received.containsKey(500L) && p.sinkA.finished(501) && p.sinkA.finished(502)
                    && p.sinkB.immCount(IMM + 1) == 1, "the message, the send and the imm-only write");
            assertEquals(100L, p.sinkB.received.get(500L), "the message's length");
            assertEquals(-1, src.asSlice(0, 100).mismatch(dst.asSlice(0, 100)), "the message's bytes");
            assertTrue(p.sinkA.errors.isEmpty(), () -> "errors: " + p.sinkA.errors);
        }
    }

    @Test
    void deregisteringTwiceIsHarmless() {
        try (DomainPair p = openPair()) {
            RegisteredMemory mr = p.a.register(p.buffer(4096), true);
            p.a.deregister(mr);
            p.a.deregister(mr);
            RegisteredMemory again = p.a.register(p.buffer(4096), true);
            assertNotEquals(0, again.lengthBytes());
        }
    }

    @Test
    void aWriteWithAForgedKeyFailsWithATypedErrorAndChangesNothing() {
        org.junit.jupiter.api.Assumptions.assumeTrue(reportsRefusedWrites(), "this provider does not report refusals");
        try (DomainPair p = openPair()) {
            MemorySegment src = p.buffer(4096);
            MemorySegment dst = p.buffer(4096);
            pattern(src, 5);
            RegisteredMemory srcMr = p.a.register(src, false);
            RegisteredMemory dstMr = p.b.register(dst, true);
            long peer = p.a.resolvePeer(p.b.address());
            long forged = dstMr.remoteKey() ^ 0x5A5A_0000L;
            p.post(() -> p.a.postWrite(peer, srcMr, srcMr.address(), 1000, dstMr.remoteBase(), forged, true, IMM + 2,
                    77), "a write with a forged key");
            p.pollUntil(() -> p.sinkA.finished(77), "the forged write's outcome");
            TransferException e = assertInstanceOf(TransferException.class, p.sinkA.errors.get(77L),
                    "the forged write must fail, not complete");
            assertEquals(ErrorCategory.REMOTE_ACCESS, e.category(), e::toString);
            assertEquals(0, p.sinkB.immCount(IMM + 2), "no imm for a refused write");
            for (long i = 0; i < dst.byteSize(); i++) {
                assertEquals(0, dst.get(ValueLayout.JAVA_BYTE, i), "byte " + i + " of the target changed");
            }
        }
    }
}
