package dev.transferengine.core;

import dev.transferengine.core.jfr.TransferEvent;

import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.TransferException;
import dev.transferengine.api.TransferRequest;

/**
 * The worker-side state of one submitted request: its plan (how many writes, over which NICs), how far
 * posting got, how many posted writes completed, the first error, the deadline. Pooled and reused by
 * one worker; every field is touched only by that worker's thread. The context handed to providers is
 * {@link #context()}: slot index and generation, so completions that arrive after the slot was reused
 * (a transfer that timed out) are recognised and ignored.
 */
final class PendingTransfer {
    static final int SINGLE = 1;
    static final int PAGED = 2;
    static final int SCATTER_PEERS = 3;
    static final int SCATTER_BYTES = 4;
    static final int SCATTER_PINNED = 5;
    static final int BARRIER = 6;
    static final int IMM = 7;
    static final int SEND = 8;

    final int slot;
    int generation;

    int kind;
    TransferRequest request;
    Region src;
    Object completion;
    /** SEND only. */
    DomainAddress sendTo;
    long sendOffset;
    long sendLength;

    /** Total writes of the plan, and the next one to post. */
    int opCount;
    int nextOp;
    /** First NIC of the round-robin plan, or the pinned NIC. */
    int firstNic;
    /** Single: bytes per shard; paged/scatter/barrier: items per NIC chunk. */
    long unit;
    boolean pinned;

    int posted;
    int completed;
    TransferException error;
    long deadlineNanos;

    PendingTransfer prev;
    PendingTransfer next;
    boolean inFlight;

    /** Payload bytes of the request (counters, JFR). */
    long bytes;
    /** This slot's JFR event, created the first time a recording wanted one and re-armed for every transfer. */
    TransferEvent event;
    /** Whether {@link #event} was armed for the current transfer. */
    boolean recording;

    PendingTransfer(int slot) {
        this.slot = slot;
    }

    long context() {
        return ((long) (generation & 0x3fff_ffff) << 32) | slot;
    }

    static int slotOf(long context) {
        return (int) context;
    }

    static int generationOf(long context) {
        return (int) (context >>> 32) & 0x3fff_ffff;
    }

    /** Every planned write was posted (or posting stopped after an error) and every posted one completed. */
    boolean isFinished() {
        return nextOp >= opCount && completed >= posted;
    }

    /** Records the first error and stops posting further writes. */
    void fail(TransferException e) {
        if (error == null) {
            error = e;
        }
        opCount = nextOp;
    }

    void clear() {
        generation++;
        request = null;
        src = null;
        completion = null;
        sendTo = null;
        error = null;
        opCount = nextOp = posted = completed = 0;
        prev = next = null;
        inFlight = false;
        bytes = 0;
        recording = false;
    }
}
