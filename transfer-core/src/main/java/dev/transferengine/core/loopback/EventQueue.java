package dev.transferengine.core.loopback;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A bounded, lock-free, allocation-free queue of fixed-size entries of four longs, safe for any number of
 * producer and consumer threads (Vyukov's bounded MPMC queue, storing primitives instead of references).
 *
 * <p>Each slot carries a sequence number. A producer claims position {@code p} by CAS when the slot's
 * sequence equals {@code p}, writes the four longs with plain stores, and then publishes them with a
 * <b>release</b> store of {@code p + 1}. A consumer claims position {@code p} when an <b>acquire</b> load
 * of the sequence reads {@code p + 1}, so it sees the entry and everything its producer wrote before
 * publishing it (for loopback: the payload of the write whose imm this is). It hands the slot back with a
 * release store of {@code p + capacity}.
 */
final class EventQueue {
    static final int ENTRY_LONGS = 4;

    private static final VarHandle SEQUENCE = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle PRODUCER_INDEX;
    private static final VarHandle CONSUMER_INDEX;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            PRODUCER_INDEX = lookup.findVarHandle(EventQueue.class, "producerIndex", long.class);
            CONSUMER_INDEX = lookup.findVarHandle(EventQueue.class, "consumerIndex", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int mask;
    private final long[] sequences;
    private final long[] entries;
    @SuppressWarnings("unused") // accessed through PRODUCER_INDEX
    private volatile long producerIndex;
    @SuppressWarnings("unused") // accessed through CONSUMER_INDEX
    private volatile long consumerIndex;

    /** @param minCapacity rounded up to a power of two, at least 2 */
    EventQueue(int minCapacity) {
        int capacity = Math.max(2, Integer.highestOneBit(Math.max(1, minCapacity - 1)) << 1);
        this.mask = capacity - 1;
        this.sequences = new long[capacity];
        this.entries = new long[capacity * ENTRY_LONGS];
        for (int i = 0; i < capacity; i++) {
            sequences[i] = i;
        }
    }

    int capacity() {
        return mask + 1;
    }

    /** Appends one entry; false when the queue is full (nothing was written). */
    boolean offer(long a, long b, long c, long d) {
        long position = (long) PRODUCER_INDEX.getVolatile(this);
        while (true) {
            int slot = (int) position & mask;
            long sequence = (long) SEQUENCE.getAcquire(sequences, slot);
            long lag = sequence - position;
            if (lag == 0) {
                if (PRODUCER_INDEX.compareAndSet(this, position, position + 1)) {
                    int at = slot * ENTRY_LONGS;
                    entries[at] = a;
                    entries[at + 1] = b;
                    entries[at + 2] = c;
                    entries[at + 3] = d;
                    SEQUENCE.setRelease(sequences, slot, position + 1);
                    return true;
                }
                position = (long) PRODUCER_INDEX.getVolatile(this);
            } else if (lag < 0) {
                return false;
            } else {
                position = (long) PRODUCER_INDEX.getVolatile(this);
            }
        }
    }

    /**
     * Removes the oldest published entry into {@code out[at .. at + 3]}; false when there is none (an
     * entry claimed but not yet published by its producer counts as none for now).
     */
    boolean poll(long[] out, int at) {
        long position = (long) CONSUMER_INDEX.getVolatile(this);
        while (true) {
            int slot = (int) position & mask;
            long sequence = (long) SEQUENCE.getAcquire(sequences, slot);
            long lag = sequence - (position + 1);
            if (lag == 0) {
                if (CONSUMER_INDEX.compareAndSet(this, position, position + 1)) {
                    int from = slot * ENTRY_LONGS;
                    out[at] = entries[from];
                    out[at + 1] = entries[from + 1];
                    out[at + 2] = entries[from + 2];
                    out[at + 3] = entries[from + 3];
                    SEQUENCE.setRelease(sequences, slot, position + mask + 1);
                    return true;
                }
                position = (long) CONSUMER_INDEX.getVolatile(this);
            } else if (lag < 0) {
                return false;
            } else {
                position = (long) CONSUMER_INDEX.getVolatile(this);
            }
        }
    }
}
