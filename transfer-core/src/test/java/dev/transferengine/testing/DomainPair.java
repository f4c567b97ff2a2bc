package dev.transferengine.testing;

import dev.transferengine.spi.DomainInfo;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.ProviderFabric;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Two domains of one provider fabric in this process (A, the initiator, and B), each with its {@link RecordingSink},
 * driven from the test thread alone (the SPI's single-threaded contract holds because only this thread touches
 * them); the one domain pair of the provider-level tests, which providers extend with their own set-up. Every wait
 * has a deadline.
 */
public class DomainPair implements AutoCloseable {
    /** Generous: the Soft-RoCE guest runs under TCG, 4-30x slower than a host, with 10x latency swings. */
    public static final Duration DEADLINE = Duration.ofSeconds(60);

    public final ProviderFabric fabric;
    public final ProviderDomain a;
    public final ProviderDomain b;
    public final RecordingSink sinkA = new RecordingSink();
    public final RecordingSink sinkB = new RecordingSink();
    public final Arena arena = Arena.ofShared();

    /**
     * Opens {@code infoA} and {@code infoB} of {@code fabric} (the same one twice gives two domains of one NIC); the
     * pair owns the fabric from here on, and closes it (and any domain opened) if opening fails.
     */
    public DomainPair(ProviderFabric fabric, DomainInfo infoA, DomainInfo infoB) {
        this.fabric = fabric;
        ProviderDomain first = null;
        try {
            first = fabric.openDomain(infoA);
            b = fabric.openDomain(infoB);
        } catch (RuntimeException e) {
            if (first != null) {
                first.close();
            }
            fabric.close();
            arena.close();
            throw e;
        }
        a = first;
    }

    /** Page-aligned memory that lives as long as the pair. */
    public MemorySegment buffer(long bytes) {
        return arena.allocate(bytes, 4096);
    }

    /** One poll of each domain into its sink. */
    public void pollBoth() {
        a.poll(sinkA, 64);
        b.poll(sinkB, 64);
    }

    /** Polls both domains until {@code done} holds; fails the test at the deadline. */
    public void pollUntil(BooleanSupplier done, String what) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("deadline of " + DEADLINE + " passed waiting for " + what);
            }
            pollBoth();
            Thread.onSpinWait();
        }
    }

    /** Repeats {@code post} while it answers RETRY, polling both domains in between; fails at the deadline. */
    public void post(IntSupplier post, String what) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (post.getAsInt() != ProviderDomain.POSTED) {
            if (System.nanoTime() - deadline > 0) {
                fail("deadline of " + DEADLINE + " passed retrying " + what);
            }
            pollBoth();
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
