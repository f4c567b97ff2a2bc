package dev.transferengine.verbs.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Keeps the domain's immediate-data shared receive queue full of zero-length receives: every
 * WRITE_WITH_IMM that lands consumes one (its payload goes to the RDMA address, not to the receive). Consumed
 * receives are re-posted in batches, one {@code ibv_post_srq_recv} per batch. Single-threaded; no heap
 * allocation after construction.
 */
final class ImmReceives implements AutoCloseable {
    /** Receives posted per call; a chain of this many pre-linked templates. */
    private static final int BATCH = 64;
    private static final long WR_BYTES = IbvLayouts.IBV_RECV_WR.byteSize();
    private static final long WR_ID = IbvLayouts.offset(IbvLayouts.IBV_RECV_WR, "wr_id");
    private static final long NEXT = IbvLayouts.offset(IbvLayouts.IBV_RECV_WR, "next");
    private static final long NUM_SGE = IbvLayouts.offset(IbvLayouts.IBV_RECV_WR, "num_sge");

    private final Arena arena = Arena.ofShared();
    private final MemorySegment chain;
    private final long base;
    private final long badWrAddress;
    private final long srq;
    private final MemorySegment postSrqRecvFunction;
    /** Receives to (re-)post. */
    private int deficit;

    public ImmReceives(MemorySegment srq, MemorySegment postSrqRecvFunction, int depth) {
        this.srq = srq.address();
        this.postSrqRecvFunction = postSrqRecvFunction;
        this.chain = arena.allocate(WR_BYTES * BATCH + 8, 64);
        this.base = chain.address();
        this.badWrAddress = base + WR_BYTES * BATCH;
        for (int i = 0; i < BATCH; i++) {
            long w = WR_BYTES * i;
            chain.set(JAVA_LONG, w + WR_ID, WorkRequestId.of(WorkRequestId.IMM_RECEIVE, 0, 0));
            chain.set(JAVA_INT, w + NUM_SGE, 0);
            chain.set(JAVA_LONG, w + NEXT, i + 1 < BATCH ? base + WR_BYTES * (i + 1) : 0L);
        }
        this.deficit = depth;
    }

    /** One receive was consumed (by an immediate, or by an error completion). */
    public void consumed() {
        deficit++;
    }

    /**
     * Posts the receives owed.
     *
     * @return 0, or the errno of {@code ibv_post_srq_recv} (the rest is retried on the next call)
     */
    public int refill() {
        while (deficit > 0) {
            int k = Math.min(deficit, BATCH);
            long last = WR_BYTES * (k - 1);
            chain.set(JAVA_LONG, last + NEXT, 0L);
            chain.set(JAVA_LONG, badWrAddress - base, 0L);
            int rc;
            try {
                rc = (int) VerbsLibrary.POST_SRQ_RECV.invokeExact(postSrqRecvFunction, srq, base, badWrAddress);
            } catch (Throwable t) {
                throw NativeErrors.unexpected("ibv_post_srq_recv", t);
            } finally {
                if (k < BATCH) {
                    chain.set(JAVA_LONG, last + NEXT, base + WR_BYTES * k);
                }
            }
            if (rc != 0) {
                long bad = chain.get(JAVA_LONG, badWrAddress - base);
                if (bad >= base && bad < badWrAddress) {
                    deficit -= (int) ((bad - base) / WR_BYTES);
                }
                return rc;
            }
            deficit -= k;
        }
        return 0;
    }

    /** Receives still owed (0 when the queue is full). */
    public int deficit() {
        return deficit;
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
