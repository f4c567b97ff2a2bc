package dev.transferengine.verbs;

import dev.transferengine.testing.RecordingSink;
import dev.transferengine.spi.DomainInfo;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.ProviderFabric;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Two verbs domains of one fabric in this process ("rxe0" and its extra endpoint "rxe0.1" on a one-device
 * machine), each with a {@link RecordingSink}, driven from the test thread: the SPI's single-threaded contract holds
 * because only this thread touches them. Every wait has a deadline.
 */
final class DomainPair implements AutoCloseable {
    /** Generous: the guest runs under TCG, 4-30x slower than a host, with 10x latency swings. */
    static final Duration DEADLINE = Duration.ofSeconds(60);

    final ProviderFabric fabric;
    final ProviderDomain a;
    final ProviderDomain b;
    final RecordingSink ra = new RecordingSink();
    final RecordingSink rb = new RecordingSink();
    final Arena arena = Arena.ofShared();

    DomainPair(Map<String, String> options) {
        SoftRoce.requireDevice();
        fabric = new VerbsProvider().open(options, 2);
        List<DomainInfo> domains = fabric.domains();
        assertEquals(2, domains.size(), "one port listed twice, or two ports: " + domains);
        ProviderDomain first = null;
        try {
            first = fabric.openDomain(domains.get(0));
            b = fabric.openDomain(domains.get(1));
        } catch (RuntimeException e) {
            if (first != null) {
                first.close();
            }
            fabric.close();
            throw e;
        }
        a = first;
    }

    DomainPair() {
        this(Map.of());
    }

    MemorySegment buffer(long bytes) {
        return arena.allocate(bytes, 4096);
    }

    /** Polls both domains until {@code condition} holds; fails the test at the deadline. */
    void pollUntil(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("deadline of " + DEADLINE + " passed waiting for " + what);
            }
            a.poll(ra, 64);
            b.poll(rb, 64);
        }
    }

    /** Repeats {@code post} while it answers RETRY, polling both domains in between; fails at the deadline. */
    void post(IntSupplier post, String what) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (post.getAsInt() == ProviderDomain.RETRY) {
            if (System.nanoTime() - deadline > 0) {
                fail("deadline of " + DEADLINE + " passed retrying " + what);
            }
            a.poll(ra, 64);
            b.poll(rb, 64);
        }
    }

    @Override
    public void close() {
        try {
            a.close();
            b.close();
            fabric.close();
        } finally {
            arena.close();
        }
    }
}
