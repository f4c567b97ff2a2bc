package dev.transferengine.verbs;

import dev.transferengine.testing.AllocationMeter;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.RegisteredMemory;
import dev.transferengine.testing.CountingSink;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The steady-state data path (postWrite with imm, chaining, selective signalling, polling both completion
 * queues, re-posting immediate receives) allocates nothing on the Java heap, measured on the posting thread.
 */
@Tag(SoftRoce.TAG)
class VerbsAllocationTest {
    private static final int WARM_UP = 4000;
    private static final int MEASURED = 5000;
    /** Slack for the measurement itself (the counter's own call, a stray class init); far below 1 B/write. */
    private static final long ALLOWED_BYTES = 2048;

    @Test
    void postingAndPollingWritesAllocatesNothing() {
        // a small signal interval exercises the signalled and unsignalled paths alike
        try (DomainPair p = new DomainPair(Map.of("verbs.signalInterval", "8"))) {
            MemorySegment src = p.buffer(4096);
            MemorySegment dst = p.buffer(4096);
            RegisteredMemory srcMr = p.a.register(src, false);
            RegisteredMemory dstMr = p.b.register(dst, true);
            long peer = p.a.resolvePeer(p.b.address());
            p.post(() -> p.a.postWrite(peer, srcMr, src.address(), 64, dstMr.remoteBase(), dstMr.remoteKey(),
                    true, 1, 0), "connect");
            p.pollUntil(() -> p.sinkA.finished(0), "connected");
            CountingSink a = new CountingSink();
            CountingSink b = new CountingSink();
            run(p, a, b, peer, srcMr, src.address(), dstMr, WARM_UP);
            AllocationMeter meter = AllocationMeter.forCurrentThread();
            long before = meter.bytes();
            run(p, a, b, peer, srcMr, src.address(), dstMr, MEASURED);
            long allocated = meter.bytes() - before;
            System.out.printf("verbs data path: %d bytes allocated by %d writes%n", allocated, MEASURED);
            assertEquals(0, a.errors + b.errors, "errors on the data path");
            assertEquals(WARM_UP + MEASURED, a.completed, "every write completed");
            assertEquals(WARM_UP + MEASURED, b.imms, "every imm arrived");
            assertTrue(allocated < ALLOWED_BYTES, allocated + " bytes allocated by " + MEASURED + " writes");
        }
    }

    private static void run(DomainPair p, CountingSink a, CountingSink b, long peer, RegisteredMemory srcMr, long srcAddress,
                            RegisteredMemory dstMr, int writes) {
        long targetCompleted = a.completed + writes;
        long targetImms = b.imms + writes;
        long deadline = System.nanoTime() + DomainPair.DEADLINE.toNanos();
        for (int i = 0; i < writes; i++) {
            long offset = (i & 63) * 64L;
            while (p.a.postWrite(peer, srcMr, srcAddress + offset, 64, dstMr.remoteBase() + offset,
                    dstMr.remoteKey(), true, 7, i) != ProviderDomain.POSTED) {
                p.a.poll(a, 64);
                p.b.poll(b, 64);
                check(deadline);
            }
            if ((i & 15) == 0) {
                p.a.poll(a, 64);
                p.b.poll(b, 64);
            }
        }
        while (a.completed < targetCompleted || b.imms < targetImms) {
            p.a.poll(a, 64);
            p.b.poll(b, 64);
            check(deadline);
        }
    }

    private static void check(long deadline) {
        if (System.nanoTime() - deadline > 0) {
            throw new AssertionError("deadline of " + DomainPair.DEADLINE + " passed on the data path");
        }
    }
}
