package dev.transferengine.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A bounded multi-producer, single-consumer ring of (payload, completion) pairs: API threads offer,
 * the worker drains. Each slot carries a sequence number (Vyukov's bounded queue): a producer claims
 * a slot by CAS on the tail, writes the pair with plain stores and publishes it with a release store
 * of the sequence; the consumer reads the sequence with acquire. No allocation per element.
 *
 * <p>The consumer is the worker, except when the engine closes around a worker stuck in a native call: then
 * the closing thread {@linkplain #takeOver takes the consumer's role for good} and fails what is queued. A
 * consumer therefore holds a small claim while it drains (one CAS and one release store per non-empty drain;
 * an empty drain costs nothing more), so a worker that comes back later finds the queue taken and drains
 * nothing: every element is handed out exactly once.
 */
final class RequestQueue {
    private static final VarHandle SEQ = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle CONSUMER;
    private static final int FREE = 0;
    private static final int DRAINING = 1;
    private static final int TAKEN = 2;

    static {
        try {
            CONSUMER = MethodHandles.lookup().findVarHandle(RequestQueue.class, "consumer", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Receives drained elements on the consumer thread. */
    interface Drain {
        void accept(Object payload, Object completion);
    }

    private final int mask;
    private final long[] sequences;
    private final Object[] payloads;
    private final Object[] completions;
    private final AtomicLong tail = new AtomicLong();
    private long head; // the consumer holding the claim only
    @SuppressWarnings("unused") // through CONSUMER
    private int consumer;

    RequestQueue(int requestedCapacity) {
        int capacity = Integer.highestOneBit(Math.max(2, requestedCapacity - 1)) << 1;
        this.mask = capacity - 1;
        this.sequences = new long[capacity];
        this.payloads = new Object[capacity];
        this.completions = new Object[capacity];
        for (int i = 0; i < capacity; i++) {
            sequences[i] = i;
        }
    }

    int capacity() {
        return mask + 1;
    }

    /** Offers a pair; returns false when the ring is full. Any thread. */
    boolean offer(Object payload, Object completion) {
        long t;
        int index;
        while (true) {
            t = tail.get();
            index = (int) (t & mask);
            long seq = (long) SEQ.getAcquire(sequences, index);
            if (seq == t) {
                if (tail.compareAndSet(t, t + 1)) {
                    break;
                }
            } else if (seq < t) {
                return false;
            }
            Thread.onSpinWait();
        }
        payloads[index] = payload;
        completions[index] = completion;
        SEQ.setRelease(sequences, index, t + 1);
        return true;
    }

    /**
     * Claims {@code n} consecutive slots with one CAS, for a batch; returns the position of the first, or -1 when
     * not all {@code n} are free. Each claimed position must then be {@linkplain #publish published}, in any order
     * (the consumer takes them in order). Any thread; {@code 1 <= n <= capacity}.
     */
    long claim(int n) {
        while (true) {
            long t = tail.get();
            // Slots are freed in position order, so the last one free means all n are.
            long last = t + n - 1;
            long seq = (long) SEQ.getAcquire(sequences, (int) (last & mask));
            if (seq == last) {
                if (tail.compareAndSet(t, t + n)) {
                    return t;
                }
            } else if (seq < last) {
                return -1;
            }
            Thread.onSpinWait();
        }
    }

    /** Fills and publishes one position returned by (or following) {@link #claim}. */
    void publish(long position, Object payload, Object completion) {
        int index = (int) (position & mask);
        payloads[index] = payload;
        completions[index] = completion;
        SEQ.setRelease(sequences, index, position + 1);
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
        int n = 0;
        while (n < max) {
            int index = (int) (head & mask);
            long seq = (long) SEQ.getAcquire(sequences, index);
            if (seq != head + 1) {
                break;
            }
            Object payload = payloads[index];
            Object completion = completions[index];
            payloads[index] = null;
            completions[index] = null;
            SEQ.setRelease(sequences, index, head + mask + 1);
            head++;
            n++;
            drain.accept(payload, completion);
        }
        return n;
    }

    /** Whether no element is published. Consumer thread only (a hint after a {@link #takeOver}). */
    boolean isEmpty() {
        return (long) SEQ.getAcquire(sequences, (int) (head & mask)) != head + 1;
    }
}
