package dev.transferengine.core;

import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.ImmExpectation;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.Subscription;
import dev.transferengine.api.internal.CounterAccess;

import java.lang.System.Logger.Level;
import java.util.Arrays;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * The engine-wide table of imm values that are counted ({@link ImmCounter}) or expected
 * ({@link ImmExpectation}). Workers of every group report arrivals through {@link #onImm(int)}
 * concurrently; lookups are lock-free and allocation-free over an immutable sorted snapshot that the
 * (rare) changes replace under a lock. Imms with no entry, and surplus imms of a reached expectation,
 * go to the imm handlers on the event executor.
 */
final class ImmTable {
    private static final System.Logger LOG = System.getLogger(ImmTable.class.getName());

    /** Immutable sorted snapshot. */
    private record Snapshot(int[] keys, Object[] values) {
        Object get(int imm) {
            int i = Arrays.binarySearch(keys, imm);
            return i >= 0 ? values[i] : null;
        }

        Snapshot with(int imm, Object value) {
            int i = Arrays.binarySearch(keys, imm);
            if (i >= 0) {
                Object[] v = values.clone();
                v[i] = value;
                return new Snapshot(keys, v);
            }
            int at = -i - 1;
            int[] k = new int[keys.length + 1];
            Object[] v = new Object[values.length + 1];
            System.arraycopy(keys, 0, k, 0, at);
            System.arraycopy(values, 0, v, 0, at);
            k[at] = imm;
            v[at] = value;
            System.arraycopy(keys, at, k, at + 1, keys.length - at);
            System.arraycopy(values, at, v, at + 1, values.length - at);
            return new Snapshot(k, v);
        }

        Snapshot without(int imm) {
            int i = Arrays.binarySearch(keys, imm);
            if (i < 0) {
                return this;
            }
            int[] k = new int[keys.length - 1];
            Object[] v = new Object[values.length - 1];
            System.arraycopy(keys, 0, k, 0, i);
            System.arraycopy(values, 0, v, 0, i);
            System.arraycopy(keys, i + 1, k, i, keys.length - i - 1);
            System.arraycopy(values, i + 1, v, i, values.length - i - 1);
            return new Snapshot(k, v);
        }
    }

    private volatile Snapshot snapshot = new Snapshot(new int[0], new Object[0]);
    private final Object writeLock = new Object();
    private final CopyOnWriteArrayList<IntConsumer> handlers = new CopyOnWriteArrayList<>();
    private final Executor events;
    private final AtomicLong unhandled = new AtomicLong();

    ImmTable(Executor events) {
        this.events = events;
    }

    /** Called by workers for every imm that landed. Allocation-free for counted and expected values. */
    void onImm(int imm) {
        Object entry = snapshot.get(imm);
        if (entry instanceof ImmCounter counter) {
            CounterAccess.addImms(counter, 1);
            return;
        }
        if (entry instanceof Expectation expectation && expectation.count()) {
            return;
        }
        deliverEvent(imm);
    }

    private void deliverEvent(int imm) {
        if (handlers.isEmpty()) {
            unhandled.incrementAndGet();
            return;
        }
        events.execute(() -> {
            for (IntConsumer h : handlers) {
                try {
                    h.accept(imm);
                } catch (RuntimeException | Error e) {
                    LOG.log(Level.WARNING, "imm handler threw; ignored", e);
                }
            }
        });
    }

    ImmExpectation expect(int imm, long count, Runnable onReached) {
        if (count < 1) {
            throw new InvalidRequestException("expected imm count must be >= 1, got " + count);
        }
        if (onReached == null) {
            throw new InvalidRequestException("onReached must not be null");
        }
        synchronized (writeLock) {
            requireFree(imm);
            Expectation e = new Expectation(imm, count, onReached);
            snapshot = snapshot.with(imm, e);
            return e;
        }
    }

    ImmCounter counter(int imm) {
        synchronized (writeLock) {
            Object existing = snapshot.get(imm);
            if (existing instanceof ImmCounter c) {
                return c;
            }
            requireFree(imm);
            ImmCounter c = CounterAccess.newImmCounter(imm);
            snapshot = snapshot.with(imm, c);
            return c;
        }
    }

    boolean remove(int imm) {
        synchronized (writeLock) {
            Object existing = snapshot.get(imm);
            if (existing == null) {
                return false;
            }
            if (existing instanceof Expectation e) {
                e.state.compareAndSet(Expectation.ACTIVE, Expectation.CANCELLED);
            }
            snapshot = snapshot.without(imm);
            return true;
        }
    }

    private void requireFree(int imm) {
        Object existing = snapshot.get(imm);
        if (existing != null) {
            throw new InvalidRequestException("imm 0x" + Integer.toHexString(imm) + " already has "
                    + (existing instanceof ImmCounter ? "a counter" : "an expectation")
                    + "; remove it first (removeImmCounter)");
        }
    }

    private void removeIfSame(int imm, Object value) {
        synchronized (writeLock) {
            if (snapshot.get(imm) == value) {
                snapshot = snapshot.without(imm);
            }
        }
    }

    Subscription addHandler(IntConsumer handler) {
        if (handler == null) {
            throw new InvalidRequestException("handler must not be null");
        }
        handlers.add(handler);
        return () -> handlers.remove(handler);
    }

    /**
     * True while some thread waits in {@link ImmCounter#await} for imms that have not arrived yet (a counter's
     * balance is negative): inbound writes are expected, so the workers keep polling instead of parking (on
     * providers with manual progress, tcp above all, a parked target also stalls the writer's stream). Any
     * thread; allocation-free; a scan of the registered counters, made only by a worker about to idle.
     */
    boolean inboundAwaited() {
        Object[] values = snapshot.values();
        for (Object v : values) {
            if (v instanceof ImmCounter c && c.balance() < 0) {
                return true;
            }
        }
        return false;
    }

    /** Imm events dropped because no handler was registered. */
    long unhandledImms() {
        return unhandled.get();
    }

    /** One expectation; fires exactly once. */
    private final class Expectation implements ImmExpectation {
        static final int ACTIVE = 0;
        static final int REACHED = 1;
        static final int CANCELLED = 2;

        private final int imm;
        private final long expected;
        private final Runnable onReached;
        private final AtomicLong counted = new AtomicLong();
        final AtomicInteger state = new AtomicInteger(ACTIVE);

        Expectation(int imm, long expected, Runnable onReached) {
            this.imm = imm;
            this.expected = expected;
            this.onReached = onReached;
        }

        /** Counts one arrival; returns false when the imm is surplus and must be delivered as an event. */
        boolean count() {
            if (state.get() != ACTIVE) {
                return false;
            }
            long c = counted.incrementAndGet();
            if (c < expected) {
                return true;
            }
            if (c == expected && state.compareAndSet(ACTIVE, REACHED)) {
                removeIfSame(imm, this);
                events.execute(this::fire);
                return true;
            }
            return false;
        }

        private void fire() {
            try {
                onReached.run();
            } catch (RuntimeException | Error e) {
                LOG.log(Level.WARNING, "imm expectation callback for 0x" + Integer.toHexString(imm) + " threw; ignored", e);
            }
        }

        @Override
        public int imm() {
            return imm;
        }

        @Override
        public long expected() {
            return expected;
        }

        @Override
        public long counted() {
            return Math.min(counted.get(), expected);
        }

        @Override
        public boolean isReached() {
            return state.get() == REACHED;
        }

        @Override
        public boolean cancel() {
            if (state.compareAndSet(ACTIVE, CANCELLED)) {
                removeIfSame(imm, this);
                return true;
            }
            return false;
        }
    }
}
