package dev.transferengine.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A bounded multi-producer, single-consumer ring of (payload, completion) pairs: API threads offer,
 * the worker drains. Each slot carries a sequence number (Vyukov's bounded queue): a producer claims
 * a slot by CAS on the tail, writes the pair with plain stores and publishes it with a release store
 * of the sequence; the consumer reads the sequence with acquire. No allocation per element.
 */
final class RequestQueue {
    private static final VarHandle SEQ = MethodHandles.arrayElementVarHandle(long[].class);

    /** Receives drained elements on the consumer thread. */
    interface Drain {
        void accept(Object payload, Object completion);
    }

    private final int mask;
    private final long[] sequences;
    private final Object[] payloads;
    private final Object[] completions;
    private final AtomicLong tail = new AtomicLong();
    private long head; // consumer only

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

    /** Drains up to {@code max} pairs into {@code drain}. Consumer thread only. */
    int drain(Drain drain, int max) {
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

    /** Whether no element is published. Consumer thread only. */
    boolean isEmpty() {
        return (long) SEQ.getAcquire(sequences, (int) (head & mask)) != head + 1;
    }
}
