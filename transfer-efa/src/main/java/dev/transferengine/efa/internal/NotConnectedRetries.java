package dev.transferengine.efa.internal;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;

/**
 * Writes and sends that a socket-based provider failed with FI_ENOTCONN, posted again.
 *
 * <p>Why: when a tcp target refuses a write (bad key, address outside the region) it drops the connection, and
 * ofi_rxm notices only after reading its connection events, which it does once per 128 completions or 10 ms of
 * idleness. Until then every post to that peer goes into the dead socket and fails with FI_ENOTCONN / EPIPE
 * ("msg send failed"): nothing of it was sent, so posting it again is safe, and after rxm has reconnected it goes
 * through. Only FI_ENOTCONN is retried (FI_ECANCELED means the operation was in flight and may have landed), and
 * only until the retry timeout measured from the operation's first failure; then the error is reported.
 *
 * <p>No allocation: a ring of slot indices; the operation's parameters are in {@link OpContexts}.
 * Single-threaded.
 */
final class NotConnectedRetries {
    private final LibfabricLibrary library;
    private final OpContexts contexts;
    private final PostTemplates templates;
    private final PeerTable peers;
    private final long timeoutNanos;
    private final int[] queue;
    private RefusalTriage triage;
    private int head;
    private int size;

    NotConnectedRetries(LibfabricLibrary library, OpContexts contexts, PostTemplates templates, PeerTable peers,
                        long timeoutNanos) {
        this.library = library;
        this.contexts = contexts;
        this.templates = templates;
        this.peers = peers;
        this.timeoutNanos = timeoutNanos;
        this.queue = new int[contexts.capacity()];
    }

    void triage(RefusalTriage triage) {
        this.triage = triage;
    }

    /**
     * Takes a write that {@link RefusalTriage} found innocent (flushed with a dropped connection, never reached
     * the target) for another post; the retry timeout runs from now.
     */
    void enqueue(int slot) {
        contexts.clearFirstFailure(slot);
        contexts.firstFailureNanos(slot, System.nanoTime());
        queue[(head + size++) % queue.length] = slot;
    }

    /** Takes a failed operation for another attempt; false when it is not retryable (report the error). */
    boolean offer(int slot, int err) {
        byte kind = contexts.kind(slot);
        if (err != FiConst.Err.FI_ENOTCONN || (kind != OpContexts.WRITE && kind != OpContexts.SEND)) {
            return false;
        }
        long now = System.nanoTime();
        if (now - contexts.firstFailureNanos(slot, now) > timeoutNanos) {
            return false;
        }
        queue[(head + size++) % queue.length] = slot;
        return true;
    }

    /** Posts queued operations again, in order, until the provider refuses one; returns errors reported. */
    int repost(CompletionSink sink) {
        int reported = 0;
        while (size > 0) {
            int slot = queue[head];
            int peer = contexts.peer(slot);
            if (triage != null && triage.holds(peer)) {
                return reported; // the peer's dropped connection is being sorted out: keep the order, wait
            }
            long rc = post(slot);
            if (rc == -FiConst.Err.FI_EAGAIN) {
                long now = System.nanoTime();
                if (!peers.dead(peer) && now - contexts.firstFailureNanos(slot, now) <= timeoutNanos) {
                    return reported;
                }
                peers.markDead(peer); // pending and new posts to it fail at once until one is accepted
                rc = -FiConst.Err.FI_ENOTCONN;
            }
            head = (head + 1) % queue.length;
            size--;
            if (rc == 0) {
                contexts.posted(slot);
                peers.accepted(peer);
            } else {
                long context = contexts.engineContext(slot);
                contexts.release(slot);
                TransferException error = FiErrors.callFailed(library, "posting again after the connection dropped", rc);
                sink.onError(context, error.category() == ErrorCategory.PROVIDER ? new TransferException(
                        ErrorCategory.PEER_UNREACHABLE, error.getMessage(), error.providerCode(),
                        error.providerMessage(), null) : error);
                reported++;
            }
        }
        return reported;
    }

    private long post(int slot) {
        long fiAddr = peers.fiAddr(contexts.peer(slot));
        if (contexts.kind(slot) == OpContexts.SEND) {
            return templates.send(fiAddr, contexts.local(slot), contexts.length(slot), contexts.descriptor(slot),
                    contexts.address(slot));
        }
        return templates.write(fiAddr, contexts.local(slot), contexts.length(slot), contexts.descriptor(slot),
                contexts.remoteAddress(slot), contexts.remoteKey(slot), contexts.hasImm(slot), contexts.imm(slot),
                contexts.address(slot));
    }
}
