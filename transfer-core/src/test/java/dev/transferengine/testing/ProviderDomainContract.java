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

    /** A source buffer on A (filled with a pattern) and a remote-writable target on B, and B's handle at A. */
    private record Link(MemorySegment src, MemorySegment dst, RegisteredMemory srcMr, RegisteredMemory dstMr,
                        long peer) {
        static Link open(DomainPair p, long bytes, int seed) {
            MemorySegment src = p.buffer(bytes);
            MemorySegment dst = p.buffer(bytes);
            pattern(src, seed);
            return new Link(src, dst, p.a.register(src, false), p.b.register(dst, true),
                    p.a.resolvePeer(p.b.address()));
        }

        /** Posts a write with {@code imm} from {@code srcOffset} on A to {@code dstOffset} on B under {@code key}. */
        int write(DomainPair p, long srcOffset, long length, long dstOffset, long key, int imm, long context) {
            return p.a.postWrite(peer, srcMr, srcMr.address() + srcOffset, length, dstMr.remoteBase() + dstOffset, key,
                    true, imm, context);
        }
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
            Link l = Link.open(p, (long) writes * size, 7);
            for (int i = 0; i < writes; i++) {
                long off = (long) i * size;
                long context = 1000 + i;
                p.post(() -> l.write(p, off, size, off, l.dstMr().remoteKey(), IMM, context), "write " + context);
            }
            p.pollUntil(() -> p.sinkA.outcomes() == writes && p.sinkB.immCount(IMM) == writes,
                    writes + " completions and imms");
            assertTrue(p.sinkA.errors.isEmpty(), () -> "errors: " + p.sinkA.errors);
            assertEquals(writes, new HashSet<>(p.sinkA.completed).size(), "one outcome per context");
            assertEquals(-1, l.src().mismatch(l.dst()), "every byte landed");
            assertEquals(0, p.sinkA.duplicates() + p.sinkB.duplicates());
        }
    }

    @Test
    void retryMeansNothingWasPosted() {
        try (DomainPair p = openPair()) {
            Link l = Link.open(p, 64, 1);
            // One write first, so that a provider that connects while polling (verbs) is connected.
            p.post(() -> l.write(p, 0, 64, 0, l.dstMr().remoteKey(), IMM, 0), "the first write");
            p.pollUntil(() -> p.sinkA.finished(0) && p.sinkB.immCount(IMM) == 1, "the first write");
            // Then post without polling until the provider pushes back (or a cap): RETRY must leave no trace.
            List<Long> posted = new ArrayList<>();
            posted.add(0L);
            Set<Long> refused = new HashSet<>();
            for (long context = 1; context <= 50_000 && refused.size() < 16; context++) {
                int rc = l.write(p, 0, 64, 0, l.dstMr().remoteKey(), IMM, context);
                if (rc != ProviderDomain.POSTED) {
                    assertTrue(rc == ProviderDomain.RETRY || rc == ProviderDomain.RETRY_PEER,
                            "a post answers POSTED, RETRY or RETRY_PEER, not " + rc);
                    refused.add(context);
                } else {
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
            Link l = Link.open(p, 4096, 3);
            p.post(() -> p.b.postReceive(l.dstMr(), l.dstMr().address(), 4096, 500), "receive");
            p.post(() -> p.a.postSend(l.peer(), l.srcMr(), l.srcMr().address(), 100, 501), "send");
            p.post(() -> p.a.postWrite(l.peer(), null, 0, 0, l.dstMr().remoteBase(), l.dstMr().remoteKey(), true,
                    IMM + 1, 502),
                    "zero-length write");
            p.pollUntil(() -> p.sinkB.received.containsKey(500L) && p.sinkA.finished(501) && p.sinkA.finished(502)
                    && p.sinkB.immCount(IMM + 1) == 1, "the message, the send and the imm-only write");
            assertEquals(100L, p.sinkB.received.get(500L), "the message's length");
            assertEquals(-1, l.src().asSlice(0, 100).mismatch(l.dst().asSlice(0, 100)), "the message's bytes");
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
        try (DomainPair p = openPair()) {
            Link l = Link.open(p, 4096, 5);
            long forged = l.dstMr().remoteKey() ^ 0x5A5A_0000L;
            p.post(() -> l.write(p, 0, 1000, 0, forged, IMM + 2, 77), "a write with a forged key");
            p.pollUntil(() -> p.sinkA.finished(77), "the forged write's outcome");
            TransferException e = assertInstanceOf(TransferException.class, p.sinkA.errors.get(77L),
                    "the forged write must fail, not complete");
            assertEquals(ErrorCategory.REMOTE_ACCESS, e.category(), e::toString);
            assertEquals(0, p.sinkB.immCount(IMM + 2), "no imm for a refused write");
            for (long i = 0; i < l.dst().byteSize(); i++) {
                assertEquals(0, l.dst().get(ValueLayout.JAVA_BYTE, i), "byte " + i + " of the target changed");
            }
        }
    }
}
