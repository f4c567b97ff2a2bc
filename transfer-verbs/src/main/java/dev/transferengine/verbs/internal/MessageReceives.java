package dev.transferengine.verbs.internal;

import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The receives the engine posts for SEND/RECV, on the domain's message shared receive queue (every peer's
 * message queue pair takes its receives from it). Slots of pre-built {@code ibv_recv_wr} + {@code ibv_sge}
 * in native memory and the engine context of each. Single-threaded; no heap allocation after construction.
 */
final class MessageReceives implements AutoCloseable {
    private static final long WR_BYTES = IbvLayouts.IBV_RECV_WR.byteSize();
    private static final long SGE_BYTES = IbvLayouts.IBV_SGE.byteSize();
    private static final long WR_ID = IbvLayouts.offset(IbvLayouts.IBV_RECV_WR, "wr_id");
    private static final long SG_LIST = IbvLayouts.offset(IbvLayouts.IBV_RECV_WR, "sg_list");
    private static final long NUM_SGE = IbvLayouts.offset(IbvLayouts.IBV_RECV_WR, "num_sge");
    private static final long SGE_ADDR = IbvLayouts.offset(IbvLayouts.IBV_SGE, "addr");
    private static final long SGE_LENGTH = IbvLayouts.offset(IbvLayouts.IBV_SGE, "length");
    private static final long SGE_LKEY = IbvLayouts.offset(IbvLayouts.IBV_SGE, "lkey");

    private final Arena arena = Arena.ofShared();
    private final MemorySegment slab;
    private final long base;
    private final long sgeOffset;
    private final long badWrAddress;
    private final long srq;
    private final MemorySegment postSrqRecvFunction;
    private final long[] contexts;
    private final int[] free;
    private int freeCount;

    public MessageReceives(MemorySegment srq, MemorySegment postSrqRecvFunction, int depth) {
        this.srq = srq.address();
        this.postSrqRecvFunction = postSrqRecvFunction;
        this.sgeOffset = WR_BYTES * depth;
        this.slab = arena.allocate((WR_BYTES + SGE_BYTES) * depth + 8, 64);
        this.base = slab.address();
        this.badWrAddress = base + (WR_BYTES + SGE_BYTES) * depth;
        this.contexts = new long[depth];
        this.free = new int[depth];
        for (int i = 0; i < depth; i++) {
            long w = WR_BYTES * i;
            slab.set(JAVA_LONG, w + WR_ID, WorkRequestId.of(WorkRequestId.MESSAGE_RECEIVE, 0, i));
            slab.set(JAVA_LONG, w + SG_LIST, base + sgeOffset + SGE_BYTES * i);
            slab.set(JAVA_INT, w + NUM_SGE, 1);
            free[i] = depth - 1 - i;
        }
        freeCount = depth;
    }

    /**
     * Posts one receive buffer.
     *
     * @return 0, or the errno of {@code ibv_post_srq_recv} (ENOMEM when full); {@link NativeErrors#EAGAIN} when
     *         every slot is in use
     */
    public int post(long context, int lkey, long address, int length) {
        if (freeCount == 0) {
            return NativeErrors.EAGAIN;
        }
        int slot = free[--freeCount];
        long s = sgeOffset + SGE_BYTES * slot;
        slab.set(JAVA_LONG, s + SGE_ADDR, address);
        slab.set(JAVA_INT, s + SGE_LENGTH, length);
        slab.set(JAVA_INT, s + SGE_LKEY, lkey);
        contexts[slot] = context;
        int rc;
        try {
            rc = (int) VerbsLibrary.POST_SRQ_RECV.invokeExact(postSrqRecvFunction, srq, base + WR_BYTES * slot,
                    badWrAddress);
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_post_srq_recv", t);
        }
        if (rc != 0) {
            free[freeCount++] = slot;
        }
        return rc;
    }

    /** A receive completed: delivers it (or its error) and frees the slot. */
    public void complete(long wrId, int status, int byteLength, TransferException error, CompletionSink sink) {
        int slot = WorkRequestId.low(wrId);
        long ctx = contexts[slot];
        free[freeCount++] = slot;
        if (status == Ibv.IBV_WC_SUCCESS) {
            sink.onReceive(ctx, Integer.toUnsignedLong(byteLength));
        } else {
            sink.onError(ctx, error);
        }
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
