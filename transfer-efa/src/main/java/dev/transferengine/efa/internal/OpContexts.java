package dev.transferengine.efa.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The native operation contexts of one domain: a slab of 64-byte slots (the size of {@code fi_context2},
 * which EFA requires; FI_CONTEXT providers use the first 32 bytes), each passed as the {@code context} of
 * exactly one post and handed back in its completion. A slot maps back to the engine's opaque context
 * and to what kind of operation it was. Fixed capacity, no allocation after construction.
 *
 * <p>Single-threaded (the domain's owner thread). The slab must outlive every posted operation: it is freed
 * only with the domain's arena, after the endpoint is closed.
 */
final class OpContexts {
    static final int SLOT_BYTES = (int) FiLayouts.FI_CONTEXT2.byteSize();

    /** Kinds of operation a slot can carry. */
    static final byte FREE = 0;
    static final byte WRITE = 1;
    static final byte SEND = 2;
    static final byte RECEIVE = 3;
    /** A receive the domain posts itself (FI_RX_CQ_DATA staging); its engine context is the staging index. */
    static final byte STAGED_RECEIVE = 4;
    /** A zero-length write without imm that {@link RefusalTriage} posts to test a key and address range. */
    static final byte PROBE = 5;

    private final long base;
    private final int capacity;
    private final long[] engineContext;
    private final byte[] kind;
    /** What a write or send posted, so {@link NotConnectedRetries} can post it again. */
    private final int[] peer;
    private final long[] local;
    private final long[] length;
    private final long[] descriptor;
    private final long[] remoteAddress;
    private final long[] remoteKey;
    /** The imm as an unsigned value, or -1 for a write without imm. */
    private final long[] imm;
    /** When the operation first failed with a retryable error; 0 when it has not. */
    private final long[] firstFailureNanos;
    /** The order of a write's latest native post (domain-wide, increasing), for {@link RefusalTriage}. */
    private final long[] sequence;
    /** Whether the operation is posted natively and has not reported yet. */
    private final boolean[] inFlight;
    /** How often a write was posted again after the connection it was on dropped. */
    private final int[] reposts;
    private long nextSequence = 1;
    private final int[] freeSlots;
    private int freeCount;

    OpContexts(Arena arena, int capacity) {
        MemorySegment slab = arena.allocate((long) capacity * SLOT_BYTES, SLOT_BYTES);
        this.base = slab.address();
        this.capacity = capacity;
        this.engineContext = new long[capacity];
        this.kind = new byte[capacity];
        this.peer = new int[capacity];
        this.local = new long[capacity];
        this.length = new long[capacity];
        this.descriptor = new long[capacity];
        this.remoteAddress = new long[capacity];
        this.remoteKey = new long[capacity];
        this.imm = new long[capacity];
        this.firstFailureNanos = new long[capacity];
        this.sequence = new long[capacity];
        this.inFlight = new boolean[capacity];
        this.reposts = new int[capacity];
        this.freeSlots = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            freeSlots[i] = capacity - 1 - i;
        }
        this.freeCount = capacity;
    }

    /** Takes a slot for an operation of {@code opKind}; -1 when all are in flight (the caller retries later). */
    int acquire(byte opKind, long context) {
        if (freeCount == 0) {
            return -1;
        }
        int slot = freeSlots[--freeCount];
        kind[slot] = opKind;
        engineContext[slot] = context;
        firstFailureNanos[slot] = 0;
        inFlight[slot] = false;
        reposts[slot] = 0;
        return slot;
    }

    /** The provider accepted the post of {@code slot}: it is in flight, with the next sequence number. */
    void posted(int slot) {
        inFlight[slot] = true;
        sequence[slot] = nextSequence++;
    }

    /** The slot's operation reported (a completion or an error entry): no longer in flight. */
    void reported(int slot) {
        inFlight[slot] = false;
    }

    boolean inFlight(int slot) {
        return inFlight[slot];
    }

    long sequence(int slot) {
        return sequence[slot];
    }

    /** Counts one more post after a dropped connection; returns the count. */
    int repostedOnce(int slot) {
        return ++reposts[slot];
    }

    /** Forgets a retryable failure's start (a new run of retries measures from its own first failure). */
    void clearFirstFailure(int slot) {
        firstFailureNanos[slot] = 0;
    }

    /** Records what a write in {@code slot} posts. */
    void recordWrite(int slot, int peerIndex, long src, long bytes, long desc, long remote, long key, boolean withImm,
                     int immValue) {
        peer[slot] = peerIndex;
        local[slot] = src;
        length[slot] = bytes;
        descriptor[slot] = desc;
        remoteAddress[slot] = remote;
        remoteKey[slot] = key;
        imm[slot] = withImm ? Integer.toUnsignedLong(immValue) : -1;
    }

    /** Records what a send in {@code slot} posts. */
    void recordSend(int slot, int peerIndex, long src, long bytes, long desc) {
        peer[slot] = peerIndex;
        local[slot] = src;
        length[slot] = bytes;
        descriptor[slot] = desc;
    }

    int peer(int slot) {
        return peer[slot];
    }

    long local(int slot) {
        return local[slot];
    }

    long length(int slot) {
        return length[slot];
    }

    long descriptor(int slot) {
        return descriptor[slot];
    }

    long remoteAddress(int slot) {
        return remoteAddress[slot];
    }

    long remoteKey(int slot) {
        return remoteKey[slot];
    }

    boolean hasImm(int slot) {
        return imm[slot] >= 0;
    }

    int imm(int slot) {
        return (int) imm[slot];
    }

    /** When the operation first failed retryably (set on the first call); 0 before. */
    long firstFailureNanos(int slot, long now) {
        if (firstFailureNanos[slot] == 0) {
            firstFailureNanos[slot] = now;
        }
        return firstFailureNanos[slot];
    }

    /** Returns a slot whose operation completed, failed, or was never posted. */
    void release(int slot) {
        kind[slot] = FREE;
        inFlight[slot] = false;
        freeSlots[freeCount++] = slot;
    }

    /** The native address passed as the operation's context. */
    long address(int slot) {
        return base + (long) slot * SLOT_BYTES;
    }

    /** The slot whose address is {@code opContext}, or -1 when it is not one of ours (or not in flight). */
    int slotOf(long opContext) {
        long delta = opContext - base;
        if (delta < 0 || delta % SLOT_BYTES != 0 || delta / SLOT_BYTES >= capacity) {
            return -1;
        }
        int slot = (int) (delta / SLOT_BYTES);
        return kind[slot] == FREE ? -1 : slot;
    }

    byte kind(int slot) {
        return kind[slot];
    }

    long engineContext(int slot) {
        return engineContext[slot];
    }

    int capacity() {
        return capacity;
    }
}
