package dev.transferengine.core;

import dev.transferengine.spi.CompletionSink;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.RegisteredMemory;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test provider ("stuck-native"): loopback, except that {@code poll} (when {@link #pollGate} is set) or
 * {@code postWrite} (when {@link #postGate} is set) blocks until the gate's latch is released, the way a native
 * call wedged on a dead peer's spin lock never returns. A block ends by itself after a minute so that a failing
 * test cannot leave a thread stuck for the rest of the JVM.
 */
public final class StuckNativeProvider extends LoopbackWrappingProvider {
    static volatile CountDownLatch pollGate;
    static volatile CountDownLatch postGate;
    /** Threads blocked in a gate right now. */
    static final AtomicInteger BLOCKED = new AtomicInteger();
    /** Fabrics of this provider closed so far. */
    static final AtomicInteger FABRICS_CLOSED = new AtomicInteger();


    static void reset() {
        CountDownLatch p = pollGate;
        CountDownLatch q = postGate;
        pollGate = null;
        postGate = null;
        if (p != null) {
            p.countDown();
        }
        if (q != null) {
            q.countDown();
        }
    }

    /** Waits until some thread is blocked in a gate. */
    static void awaitBlocked() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (BLOCKED.get() == 0) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("no worker blocked in the gate within 10 s");
            }
            Thread.sleep(1);
        }
    }

    private static void pass(CountDownLatch gate) {
        if (gate == null) {
            return;
        }
        BLOCKED.incrementAndGet();
        try {
            gate.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            BLOCKED.decrementAndGet();
        }
    }

    @Override
    public String name() {
        return "stuck-native";
    }

    @Override
    ProviderDomain wrap(ProviderDomain loopbackDomain) {
        return new Domain(loopbackDomain);
    }

    @Override
    void fabricClosed() {
        FABRICS_CLOSED.incrementAndGet();
    }

    /** Loopback's domain, whose posts and polls wait at their gates (a native call that does not return). */
    private static final class Domain extends ForwardingDomain {
        Domain(ProviderDomain inner) {
            super(inner);
        }

        @Override
        public int postWrite(long peer, RegisteredMemory src, long srcAddress, long length, long remoteAddress,
                             long remoteKey, boolean withImm, int imm, long context) {
            pass(postGate);
            return inner.postWrite(peer, src, srcAddress, length, remoteAddress, remoteKey, withImm, imm, context);
        }

        @Override
        public int poll(CompletionSink sink, int maxEntries) {
            pass(pollGate);
            return inner.poll(sink, maxEntries);
        }
    }
}
