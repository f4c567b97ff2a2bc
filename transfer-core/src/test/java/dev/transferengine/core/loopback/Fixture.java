package dev.transferengine.core.loopback;

import dev.transferengine.testing.RecordingSink;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.ProviderFabric;
import dev.transferengine.spi.RegisteredMemory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/** A loopback fabric with a few domains, each with a recording sink, polled from the test thread. */
final class Fixture implements AutoCloseable {
    static final Duration DEADLINE = Duration.ofSeconds(60);

    /** One domain and what its polls delivered. */
    record Endpoint(ProviderDomain domain, RecordingSink sink) {
        int poll() {
            return domain.poll(sink, 64);
        }

        long peer(Endpoint other) {
            return domain.resolvePeer(other.domain.address());
        }
    }

    final Arena arena = Arena.ofShared();
    final ProviderFabric fabric;
    final List<Endpoint> endpoints = new ArrayList<>();

    Fixture(int domains) {
        this(Map.of(), domains);
    }

    Fixture(Map<String, String> options, int domains) {
        fabric = new LoopbackProvider().open(options, domains);
        for (int i = 0; i < domains; i++) {
            endpoints.add(new Endpoint(fabric.openDomain(fabric.domains().get(i)), new RecordingSink()));
        }
    }

    Endpoint get(int i) {
        return endpoints.get(i);
    }

    /** A fresh segment whose byte {@code i} is {@code (byte) (fill + i)}. */
    MemorySegment segment(long bytes, int fill) {
        MemorySegment segment = arena.allocate(bytes, 64);
        for (long i = 0; i < bytes; i++) {
            segment.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (fill + i));
        }
        return segment;
    }

    static RegisteredMemory register(Endpoint endpoint, MemorySegment segment) {
        return endpoint.domain().register(segment, true);
    }

    /** Polls every endpoint until {@code done}, failing after {@link #DEADLINE}. */
    void pollUntil(BooleanSupplier done, String what) {
        pollUntil(done, what, endpoints.toArray(Endpoint[]::new));
    }

    static void pollUntil(BooleanSupplier done, String what, Endpoint... polled) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("not done after " + DEADLINE + ": " + what);
            }
            for (Endpoint endpoint : polled) {
                endpoint.poll();
            }
        }
    }

    /** Posts until accepted, polling {@code poller} while the queue is full. */
    static void postOrFail(java.util.function.IntSupplier post, Endpoint poller) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (post.getAsInt() != ProviderDomain.POSTED) {
            if (System.nanoTime() - deadline > 0) {
                fail("post still refused after " + DEADLINE);
            }
            poller.poll();
        }
    }

    @Override
    public void close() {
        for (Endpoint endpoint : endpoints) {
            endpoint.domain().close();
        }
        fabric.close();
        arena.close();
    }
}
