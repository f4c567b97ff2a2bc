package dev.transferengine.verbs.internal;

import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Reads a domain's completion queue ({@code ibv_poll_cq} through the context's ops table, into a native
 * array of {@code ibv_wc}) and routes each completion by the kind in its wr_id: sends to their
 * {@link SendQueue}, receives to {@link MessageReceives}, immediates to the sink (re-posting a receive),
 * handshake datagrams to the {@link ConnectionManager}; error completions that break a connection are reported
 * to it too. Single-threaded (the domain's worker); no heap allocation on success paths.
 */
final class CompletionRouter {
    /** Completions read per ibv_poll_cq. */
    private static final int WC_BATCH = 32;
    private static final long WC_BYTES = IbvLayouts.IBV_WC.byteSize();
    private static final long WC_WR_ID = IbvLayouts.offset(IbvLayouts.IBV_WC, "wr_id");
    private static final long WC_STATUS = IbvLayouts.offset(IbvLayouts.IBV_WC, "status");
    private static final long WC_VENDOR_ERR = IbvLayouts.offset(IbvLayouts.IBV_WC, "vendor_err");
    private static final long WC_BYTE_LEN = IbvLayouts.offset(IbvLayouts.IBV_WC, "byte_len");
    private static final long WC_IMM = IbvLayouts.offset(IbvLayouts.IBV_WC, "imm_data");
    private static final long WC_QP_NUM = IbvLayouts.offset(IbvLayouts.IBV_WC, "qp_num");
    private static final long WC_FLAGS = IbvLayouts.offset(IbvLayouts.IBV_WC, "wc_flags");

    private final String deviceName;
    private final MemorySegment pollFunction;
    private final long cqAddress;
    private final MemorySegment completions;
    private final long completionsAddress;
    private final SendQueueRegistry registry;
    private final MessageReceives messageReceives;
    private final ImmReceives immReceives;
    private final HandshakeChannel handshake;
    private final ConnectionManager connections;

    CompletionRouter(DeviceContext context, MemorySegment cq, Arena arena, SendQueueRegistry registry,
                     MessageReceives messageReceives, ImmReceives immReceives, HandshakeChannel handshake,
                     ConnectionManager connections) {
        this.deviceName = context.deviceName();
        this.pollFunction = context.pollCqFunction();
        this.cqAddress = cq.address();
        this.completions = arena.allocate(WC_BYTES * WC_BATCH, 64);
        this.completionsAddress = completions.address();
        this.registry = registry;
        this.messageReceives = messageReceives;
        this.immReceives = immReceives;
        this.handshake = handshake;
        this.connections = connections;
    }

    /**
     * Reads up to {@code maxEntries} (at most 32) completions and routes them. One completion of a send
     * queue may complete several contexts (selective signalling), so the count returned can exceed
     * {@code maxEntries}.
     *
     * @return how many contexts and immediates were delivered to {@code sink}
     */
    int poll(CompletionSink sink, int maxEntries) {
        int n;
        try {
            n = (int) VerbsLibrary.POLL_CQ.invokeExact(pollFunction, cqAddress,
                    Math.max(1, Math.min(maxEntries, WC_BATCH)), completionsAddress);
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_poll_cq", t);
        }
        if (n < 0) {
            throw NativeErrors.call("ibv_poll_cq(" + deviceName + ")", -n);
        }
        int delivered = 0;
        for (int i = 0; i < n; i++) {
            delivered += dispatch(WC_BYTES * i, sink);
        }
        return delivered;
    }

    /** Handles one work completion; returns how many contexts it completed for the engine. */
    private int dispatch(long at, CompletionSink sink) {
        MemorySegment wc = completions;
        long wrId = wc.get(JAVA_LONG, at + WC_WR_ID);
        int status = wc.get(JAVA_INT, at + WC_STATUS);
        switch (WorkRequestId.kind(wrId)) {
            case WorkRequestId.SEND -> {
                SendQueue q = registry.get(WorkRequestId.owner(wrId));
                if (q == null) {
                    return 0;
                }
                TransferException error = status == Ibv.IBV_WC_SUCCESS ? null
                        : CompletionErrors.of(status, wc.get(JAVA_INT, at + WC_VENDOR_ERR), "RDMA WRITE/SEND");
                int n = q.complete(wrId, status, error, sink);
                if (status == Ibv.IBV_WC_WR_FLUSH_ERR) {
                    connections.onSendQueueFlushed(q, error, sink);
                } else if (error != null) {
                    connections.onSendQueueError(q, status, error, sink);
                }
                return n;
            }
            case WorkRequestId.MESSAGE_RECEIVE -> {
                TransferException error = status == Ibv.IBV_WC_SUCCESS ? null
                        : CompletionErrors.of(status, wc.get(JAVA_INT, at + WC_VENDOR_ERR), "receive");
                messageReceives.complete(wrId, status, wc.get(JAVA_INT, at + WC_BYTE_LEN), error, sink);
                if (error != null && status != Ibv.IBV_WC_WR_FLUSH_ERR) {
                    connections.onReceiveError(wc.get(JAVA_INT, at + WC_QP_NUM), status, error, sink);
                }
                return 1;
            }
            case WorkRequestId.IMM_RECEIVE -> {
                immReceives.consumed();
                if (status == Ibv.IBV_WC_SUCCESS) {
                    if ((wc.get(JAVA_INT, at + WC_FLAGS) & Ibv.IBV_WC_WITH_IMM) == 0) {
                        return 0; // a SEND reached an RMA queue pair: cannot happen between our own domains
                    }
                    sink.onImm(Integer.reverseBytes(wc.get(JAVA_INT, at + WC_IMM))); // imm_data is big-endian
                    return 1;
                }
                if (status != Ibv.IBV_WC_WR_FLUSH_ERR) {
                    connections.onReceiveError(wc.get(JAVA_INT, at + WC_QP_NUM), status,
                            CompletionErrors.of(status, wc.get(JAVA_INT, at + WC_VENDOR_ERR), "immediate receive"), sink);
                }
                return 0;
            }
            case WorkRequestId.HANDSHAKE_RECEIVE -> {
                byte[] payload = handshake.onReceived(wrId, status, wc.get(JAVA_INT, at + WC_BYTE_LEN));
                if (payload != null) {
                    connections.onMessage(payload, sink);
                }
                return 0;
            }
            case WorkRequestId.HANDSHAKE_SEND -> {
                handshake.onSendCompleted(wrId);
                return 0;
            }
            default -> {
                return 0;
            }
        }
    }

}
