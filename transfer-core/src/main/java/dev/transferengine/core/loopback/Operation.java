package dev.transferengine.core.loopback;

import dev.transferengine.api.TransferException;

/**
 * One posted WRITE or SEND, in a preallocated slot that is reused once the operation completes (so posting
 * allocates nothing). Owned by one domain's worker thread.
 */
final class Operation {
    static final byte WRITE = 1;
    static final byte SEND = 2;

    final int slot;

    byte kind;
    int peer;
    /** Null only for zero-length writes and sends posted without a source. */
    LoopbackRegistration source;
    long sourceAddress;
    long length;
    /** WRITE only. */
    long remoteAddress;
    long remoteKey;
    boolean withImm;
    int imm;
    long context;
    /** With {@code loopback.delayNanos}: the earliest {@link System#nanoTime()} at which it may be applied. */
    long dueNanos;
    /** Fail with an injected error instead of applying ({@code loopback.failEveryNth}). */
    boolean injectFailure;
    /** WRITE only: 1 for the domain's first posted write, 2 for the next, and so on. */
    long writeOrdinal;

    /**
     * Set once the operation reached the target (bytes copied, or the failure decided). From then on only
     * its notice is outstanding: an event for the target's inbound queue (an imm, a receive completion or
     * a receive failure) that waits for room there and is never dropped.
     */
    boolean applied;
    /** Its target closed and the domain models silent peers: it ends without any local completion. */
    boolean silent;
    long noticeKind;
    long noticeA;
    long noticeB;
    long noticeC;
    /** A device copy queued for this WRITE and its ticket; 0 while none is in flight. */
    long copyTicket;
    dev.transferengine.spi.DeviceCopyQueue copyQueue;
    /** The writer's outcome: null for success. */
    TransferException error;

    Operation(int slot) {
        this.slot = slot;
    }

    void notice(long kind, long a, long b, long c) {
        noticeKind = kind;
        noticeA = a;
        noticeB = b;
        noticeC = c;
    }

    /** Forgets everything but the slot, so a finished operation holds no references. */
    void reset() {
        kind = 0;
        peer = 0;
        source = null;
        sourceAddress = 0;
        length = 0;
        remoteAddress = 0;
        remoteKey = 0;
        withImm = false;
        imm = 0;
        context = 0;
        dueNanos = 0;
        injectFailure = false;
        writeOrdinal = 0;
        applied = false;
        silent = false;
        noticeKind = Inbound.NONE;
        noticeA = 0;
        noticeB = 0;
        noticeC = 0;
        error = null;
        copyTicket = 0;
        copyQueue = null;
    }
}
