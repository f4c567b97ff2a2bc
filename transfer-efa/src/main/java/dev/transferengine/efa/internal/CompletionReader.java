package dev.transferengine.efa.internal;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.IntFunction;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Reads the domain's CQ and turns entries into {@link CompletionSink} calls. Reading is also what drives
 * progress (tcp and shm are FI_PROGRESS_MANUAL), so the engine calls this continuously, for receive-only
 * domains too.
 *
 * <p>Classification, in this order: FI_REMOTE_CQ_DATA means a peer's write landed (only that flag and
 * {@code data} are trusted: rxm reports len 0 and no FI_RMA bit); its data is the imm, unless it carries
 * {@link CqData#NO_IMM}, the mark of a write without imm that was posted with CQ data only so that this target
 * checked its key (shm): such entries are dropped; otherwise the op context names one of our
 * posts. An error entry ({@code -FI_EAVAIL}) is read with {@code fi_cq_readerr} (err_data_size zeroed so the
 * provider lends its own err_data) and explained with {@code fi_cq_strerror}. Single-threaded.
 */
final class CompletionReader {
    static final int BATCH = 32;

    private final LibfabricLibrary library;
    private final FiEndpoint endpoint;
    private final OpContexts contexts;
    private final StagedReceives staged;
    private final MemorySegment entries;
    private final MemorySegment errorEntry;
    private final MemorySegment errorText;
    private final boolean provErrnoIsErrno;
    private final NotConnectedRetries retries;
    private final RefusalTriage triage;
    private final WriterRefusals refusals;
    /** shm: names the dead peer of a write the engine answered for it ({@link ShmLockSentinel}); null elsewhere. */
    private IntFunction<String> deadPeerOf;

    CompletionReader(Arena arena, LibfabricLibrary library, FiEndpoint endpoint, OpContexts contexts,
                     StagedReceives staged, NotConnectedRetries retries, RefusalTriage triage,
                     WriterRefusals refusals, boolean provErrnoIsErrno) {
        this.refusals = refusals;
        this.retries = retries;
        this.triage = triage;
        this.library = library;
        this.provErrnoIsErrno = provErrnoIsErrno;
        this.endpoint = endpoint;
        this.contexts = contexts;
        this.staged = staged;
        this.entries = arena.allocate(FiLayouts.FI_CQ_DATA_ENTRY.byteSize() * BATCH, 64);
        this.errorEntry = arena.allocate(FiLayouts.FI_CQ_ERR_ENTRY.byteSize() + FiLayouts.INPUT_HEADROOM_BYTES, 64);
        this.errorText = arena.allocate(512);
    }

    int poll(CompletionSink sink, int maxEntries) {
        int delivered = refusals.deliver(sink, maxEntries);
        long n = FiCalls.dataPath(endpoint.cqRead, endpoint.cq, entries, Math.min(Math.max(maxEntries, 1), BATCH),
                endpoint.criticalCalls);
        if (n > 0) {
            for (int i = 0; i < n; i++) {
                delivered += dispatch(sink, i * FiLayouts.FI_CQ_DATA_ENTRY.byteSize());
            }
        } else if (n == -FiConst.Err.FI_EAVAIL) {
            delivered += readError(sink);
        } else if (n != -FiConst.Err.FI_EAGAIN) {
            throw FiErrors.callFailed(library, "fi_cq_read", n);
        }
        if (staged != null) {
            delivered += staged.deliver(sink);
        }
        if (triage != null) {
            delivered += triage.progress(sink);
        }
        if (retries != null) {
            delivered += retries.repost(sink);
        }
        return delivered;
    }

    private int dispatch(CompletionSink sink, long at) {
        long flags = entries.get(JAVA_LONG, at + FiLayouts.CQE_FLAGS);
        long opContext = entries.get(JAVA_LONG, at + FiLayouts.CQE_OP_CONTEXT);
        int slot = opContext == 0 ? -1 : contexts.slotOf(opContext);
        if ((flags & FiConst.Flag.FI_REMOTE_CQ_DATA) != 0) {
            long data = entries.get(JAVA_LONG, at + FiLayouts.CQE_DATA);
            boolean imm = CqData.isImm(data);
            if (imm) {
                sink.onImm((int) data);
            }
            if (slot >= 0 && contexts.kind(slot) == OpContexts.STAGED_RECEIVE) {
                staged.consumedByImm((int) contexts.engineContext(slot));
            }
            return imm ? 1 : 0; // the mark of a write without imm (posted with CQ data so we checked its key)
        }
        if (slot < 0) {
            return 0; // a remote write without imm on a provider that reports them anyway: nothing to deliver
        }
        long context = contexts.engineContext(slot);
        contexts.reported(slot);
        switch (contexts.kind(slot)) {
            case OpContexts.PROBE -> {
                return triage.probeDone(slot, 0, sink);
            }
            case OpContexts.WRITE -> {
                if (triage != null) {
                    triage.reported(slot);
                }
                contexts.release(slot);
                sink.onComplete(context);
            }
            case OpContexts.RECEIVE -> {
                contexts.release(slot);
                sink.onReceive(context, entries.get(JAVA_LONG, at + FiLayouts.CQE_LEN));
            }
            case OpContexts.STAGED_RECEIVE -> {
                staged.messageArrived((int) context, entries.get(JAVA_LONG, at + FiLayouts.CQE_LEN));
                return 0; // delivered later, when an engine receive is waiting
            }
            default -> {
                contexts.release(slot);
                sink.onComplete(context);
            }
        }
        return 1;
    }

    private int readError(CompletionSink sink) {
        errorEntry.fill((byte) 0);
        long rc = FiCalls.cqReadErr(endpoint.cqReadErr, endpoint.cq, errorEntry);
        if (rc == -FiConst.Err.FI_EAGAIN) {
            return 0;
        }
        if (rc < 0) {
            throw FiErrors.callFailed(library, "fi_cq_readerr", rc);
        }
        long opContext = errorEntry.get(JAVA_LONG, FiLayouts.ERR_OP_CONTEXT);
        int err = errorEntry.get(JAVA_INT, FiLayouts.ERR_ERR);
        int provErrno = errorEntry.get(JAVA_INT, FiLayouts.ERR_PROV_ERRNO);
        long errData = errorEntry.get(JAVA_LONG, FiLayouts.ERR_ERR_DATA);
        int slot = opContext == 0 ? -1 : contexts.slotOf(opContext);
        if (slot < 0) {
            return 0; // an error without one of our contexts (e.g. a failed incoming transfer): no one to tell
        }
        String providerText = FiCalls.cqStrerror(endpoint.cqStrerror, endpoint.cq, provErrno, errData, errorText);
        byte kind = contexts.kind(slot);
        long context = contexts.engineContext(slot);
        contexts.reported(slot);
        if (kind == OpContexts.PROBE) {
            return triage.probeDone(slot, err, sink);
        }
        String deadPeer = err == FiConst.Err.FI_EHOSTUNREACH && deadPeerOf != null ? deadPeerOf.apply(slot) : null;
        TransferException error = deadPeer != null
                ? new TransferException(ErrorCategory.PEER_UNREACHABLE, describe(kind) + " to " + deadPeer
                        + " failed: the peer's process died with it in flight and will never answer it (shm; the"
                        + " engine answered for it, docs/reliability.md)", -err, providerText, null)
                : FiErrors.completionFailed(library, describe(kind), err, provErrno, provErrnoIsErrno, providerText);
        if (kind == OpContexts.STAGED_RECEIVE) {
            staged.failed((int) context, error);
            return 0;
        }
        if (kind == OpContexts.WRITE && triage != null) {
            if (err == FiConst.Err.FI_ECANCELED && triage.canceled(slot, error)) {
                return 0; // flushed with a dropped connection: sorted out by the triage (refused, landed or re-posted)
            }
            if (err != FiConst.Err.FI_ECANCELED) {
                triage.reported(slot);
            }
        }
        if (retries != null && retries.offer(slot, err)) {
            return 0; // never sent: posted again once the connection is back
        }
        contexts.release(slot);
        sink.onError(context, error);
        return 1;
    }

    /** shm: how to name the dead peer of a slot whose write the engine failed for it (null: not one of those). */
    void deadPeerOf(IntFunction<String> names) {
        this.deadPeerOf = names;
    }

    private static String describe(byte kind) {
        return switch (kind) {
            case OpContexts.WRITE -> "RMA write";
            case OpContexts.SEND -> "send";
            default -> "receive";
        };
    }
}
