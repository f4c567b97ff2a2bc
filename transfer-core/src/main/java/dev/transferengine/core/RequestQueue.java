package dev.transferengine.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;

/**
 * A bounded multi-producer, single-consumer ring of (payload, completion) pairs: API threads offer, the worker
 * drains. No allocation per element.
 *
 * <p>The layout keeps the cache lines a producer and a consumer on different cores both write to one per element,
 * the design of Agrona's {@code ManyToOneConcurrentArrayQueue} (which carries one element, needs
 * {@code --add-exports java.base/jdk.internal.misc} on Agrona 2, and has neither a batch claim nor a take-over):
 * a pair sits in two adjacent cells of one array and a non-null payload cell means "published"; a producer claims
 * positions by CAS on the tail and checks room against its cached copy of the head, reading the consumer's head
 * only when that copy says full; the tail, the head cache and the head live on cache lines of their own. A
 * producer writes the completion with a plain store and publishes with a release store of the payload; the
 * consumer reads the payload with acquire, clears both cells and then advances the head with a release store,
 * which is what lets a producer reuse the cells. {@code RequestQueueBenchmark} (JMH) measures it against Agrona's
 * queue (docs/benchmarks.md).
 *
 * <p>The consumer is the worker, except when the engine closes around a worker stuck in a native call: then
 * the closing thread {@linkplain #takeOver takes the consumer's role for good} and fails what is queued. A
 * consumer therefore holds a small claim while it drains (one CAS and one release store per non-empty drain;
 * an empty drain costs nothing more), so a worker that comes back later finds the queue taken and drains
 * nothing: every element is handed out exactly once.
 */
final class RequestQueue extends RequestQueueFields {
    private static final VarHandle CELL = MethodHandles.arrayElementVarHandle(Object[].class);
    private static final int FREE = 0;
    private static final int DRAINING = 1;
    private static final int TAKEN = 2;

    /** Receives drained elements on the consumer thread. */
    interface Drain {
        void accept(Object payload, Object completion);
    }

    private final int capacity;
    private final int mask;
    /** Position p's payload at {@code 2 * (p & mask)}, its completion in the next cell. */
    private final Object[] cells;

    RequestQueue(int requestedCapacity) {
        capacity = Integer.highestOneBit(Math.max(2, requestedCapacity - 1)) << 1;
        mask = capacity - 1;
        cells = new Object[2 * capacity];
    }

    int capacity() {
        return capacity;
    }

    /** Offers a pair; returns false when the ring is full. Any thread; {@code payload} not null. */
    boolean offer(Object payload, Object completion) {
        // Checked before the claim: a claimed position left unpublished would stop the consumer there for good.
        Objects.requireNonNull(payload, "payload");
        long t = claim(1);
        if (t < 0) {
            return false;
        }
        publish(t, payload, completion);
        return true;
    }

    /**
     * Claims {@code n} consecutive positions with one CAS, for a batch; returns the first, or -1 when fewer than
     * {@code n} are free. Each claimed position must then be {@linkplain #publish published}, in any order (the
     * consumer takes them in order). Any thread; {@code 1 <= n <= capacity}.
     */
    long claim(int n) {
        // Acquire/release on the cache too, so that a producer that saw the head through another producer's copy
        // also sees the consumer's clearing of the cells it now reuses (free on x86: plain loads and stores).
        long limit = (long) HEAD_CACHE.getAcquire(this) + capacity;
        while (true) {
            long t = (long) TAIL.getVolatile(this);
            if (t + n > limit) {
                long head = (long) HEAD.getAcquire(this);
                limit = head + capacity;
                if (t + n > limit) {
                    return -1;
                }
                HEAD_CACHE.setRelease(this, head);
            }
            if (TAIL.compareAndSet(this, t, t + n)) {
                return t;
            }
            Thread.onSpinWait();
        }
    }

    /**
     * Fills and publishes one position returned by (or following) {@link #claim}. {@code payload} must not be null
     * (a null cell reads as "not published"): a batch's caller checks its requests before it claims.
     */
    void publish(long position, Object payload, Object completion) {
        int cell = (int) (position & mask) << 1;
        cells[cell + 1] = completion;
        CELL.setRelease(cells, cell, payload);
    }

    /**
     * Drains up to {@code max} pairs into {@code drain}. Consumer thread only; returns 0 once the queue was
     * {@linkplain #takeOver taken over}.
     */
    int drain(Drain drain, int max) {
        if (isEmpty() || !CONSUMER.compareAndSet(this, FREE, DRAINING)) {
            return 0;
        }
        try {
            return drainClaimed(drain, max);
        } finally {
            CONSUMER.setRelease(this, FREE);
        }
    }

    /**
     * Takes the consumer's role from the worker for good and drains everything into {@code drain}; the worker's
     * later drains return nothing. Waits up to {@code timeoutNanos} for a drain in progress to end (a drain runs
     * no native code, so it ends unless the worker thread is descheduled). Returns the number drained, or -1
     * when the claim could not be taken in time (nothing drained).
     */
    int takeOver(Drain drain, long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        while (true) {
            int state = (int) CONSUMER.compareAndExchange(this, FREE, TAKEN);
            if (state == FREE) {
                break;
            }
            if (state == TAKEN) {
                return 0;
            }
            if (System.nanoTime() - deadline > 0) {
                return -1;
            }
            Thread.onSpinWait();
        }
        return drainClaimed(drain, Integer.MAX_VALUE);
    }

    private int drainClaimed(Drain drain, int max) {
        long head = (long) HEAD.getOpaque(this);
        int n = 0;
        while (n < max) {
            int cell = (int) (head & mask) << 1;
            Object payload = CELL.getAcquire(cells, cell);
            if (payload == null) {
                break; // not published yet (a claimed position is published soon after)
            }
            Object completion = cells[cell + 1];
            cells[cell + 1] = null;
            cells[cell] = null;
            HEAD.setRelease(this, ++head); // orders the clears before the reuse a producer may now make
            n++;
            drain.accept(payload, completion);
        }
        return n;
    }

    /** Whether no element is published at the head. Consumer thread only (a hint after a {@link #takeOver}). */
    boolean isEmpty() {
        return CELL.getAcquire(cells, (int) ((long) HEAD.getOpaque(this) & mask) << 1) == null;
    }
}

/** Padding before the producers' fields, so nothing allocated next to the queue shares their line. */
abstract class RequestQueuePadBeforeTail {
    long p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15, p16;
}

/** The producers' fields: the tail and their copy of the head. */
abstract class RequestQueueProducerFields extends RequestQueuePadBeforeTail {
    long tail;
    long headCache;
}

/** Keeps the consumer's fields off the producers' line. */
abstract class RequestQueuePadBeforeHead extends RequestQueueProducerFields {
    long q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15, q16;
}

/** The consumer's fields (the holder of the drain claim writes the head), then padding after them. */
abstract class RequestQueueFields extends RequestQueuePadBeforeHead {
    static final VarHandle TAIL;
    static final VarHandle HEAD_CACHE;
    static final VarHandle HEAD;
    static final VarHandle CONSUMER;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            TAIL = lookup.findVarHandle(RequestQueueProducerFields.class, "tail", long.class);
            HEAD_CACHE = lookup.findVarHandle(RequestQueueProducerFields.class, "headCache", long.class);
            HEAD = lookup.findVarHandle(RequestQueueFields.class, "head", long.class);
            CONSUMER = lookup.findVarHandle(RequestQueueFields.class, "consumer", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    long head;
    int consumer;
    long r01, r02, r03, r04, r05, r06, r07, r08, r09, r10, r11, r12, r13, r14, r15, r16;
}
