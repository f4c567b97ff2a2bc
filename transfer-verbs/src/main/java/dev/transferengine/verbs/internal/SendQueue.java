package dev.transferengine.verbs.internal;

import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The send side of one RC queue pair: a ring of pre-built {@code ibv_send_wr} + {@code ibv_sge} slots in
 * native memory and the engine context of each. Single-threaded (the domain's worker).
 *
 * <p><b>Batching.</b> {@code append*} only fills a slot and links it to the previous unposted one; {@link #flush}
 * hands the whole chain to the NIC with one {@code ibv_post_send} (WR chaining: one doorbell per batch).
 *
 * <p><b>Selective signalling.</b> Only every {@code signalInterval}-th work request, every large one (so a
 * slow link still reports progress often), and the last of each flushed chain, asks for a completion. An RC send queue completes in order, so a completion for sequence
 * {@code s} also completes every earlier unsignalled request; an error completion means the ones before it
 * succeeded, and a flush completion means every one up to it was flushed.
 *
 * <p>Nothing here allocates on the Java heap after construction.
 */
final class SendQueue implements AutoCloseable {
    /** Writes and sends of at least this many bytes are always signalled. */
    static final int SIGNAL_BYTES = 256 * 1024;
    private static final long WR_BYTES = IbvLayouts.IBV_SEND_WR.byteSize();
    private static final long SGE_BYTES = IbvLayouts.IBV_SGE.byteSize();
    private static final long WR_ID = IbvLayouts.offset(IbvLayouts.IBV_SEND_WR, "wr_id");
    private static final long NEXT = IbvLayouts.offset(IbvLayouts.IBV_SEND_WR, "next");
    private static final long SG_LIST = IbvLayouts.offset(IbvLayouts.IBV_SEND_WR, "sg_list");
    private static final long NUM_SGE = IbvLayouts.offset(IbvLayouts.IBV_SEND_WR, "num_sge");
    private static final long OPCODE = IbvLayouts.offset(IbvLayouts.IBV_SEND_WR, "opcode");
    private static final long SEND_FLAGS = IbvLayouts.offset(IbvLayouts.IBV_SEND_WR, "send_flags");
    private static final long IMM_DATA = IbvLayouts.offset(IbvLayouts.IBV_SEND_WR, "imm_data");
    private static final long REMOTE_ADDR = IbvLayouts.offset(IbvLayouts.IBV_SEND_WR, "wr.rdma.remote_addr");
    private static final long RKEY = IbvLayouts.offset(IbvLayouts.IBV_SEND_WR, "wr.rdma.rkey");
    private static final long SGE_ADDR = IbvLayouts.offset(IbvLayouts.IBV_SGE, "addr");
    private static final long SGE_LENGTH = IbvLayouts.offset(IbvLayouts.IBV_SGE, "length");
    private static final long SGE_LKEY = IbvLayouts.offset(IbvLayouts.IBV_SGE, "lkey");

    private final Arena arena;
    private final MemorySegment slab;
    private final long wrBase;
    private final long sgeOffset;
    private final int depth;
    private final int mask;
    private final long[] contexts;
    private final long qp;
    private final MemorySegment postSendFunction;
    private final MemorySegment badWr;
    private final long badWrAddress;
    private final int owner;
    private final int signalInterval;
    private final SendBudget budget;
    /** When the NIC last made progress on this queue (a completion, or posting to an idle queue). */
    private long lastProgressNanos;
    /** Whether the domain has this queue on its list of queues to flush. */
    private boolean flushPending;

    /** Sequence numbers: [head, posted) are with the NIC, [posted, tail) are filled but not yet posted. */
    private long head;
    private long posted;
    private long tail;
    private int sinceSignal;
    /** What flushed requests of this queue report (set when the queue pair is retired); null = generic. */
    private TransferException flushError;
    /** Where flushed requests go instead of failing (set after a refusal: they were never executed); or null. */
    private HeldRequests holdFlushed;

    /**
     * @param qp       the {@code ibv_qp *}
     * @param owner    this queue's index, carried in every wr_id
     * @param depth    slots (a power of two, at most the queue pair's max_send_wr)
     * @param budget   the domain-wide limit this queue's requests count against
     */
    public SendQueue(MemorySegment qp, MemorySegment postSendFunction, int owner, int depth, int signalInterval,
                     SendBudget budget) {
        if (Integer.bitCount(depth) != 1) {
            throw new IllegalArgumentException("depth must be a power of two: " + depth);
        }
        this.arena = Arena.ofShared();
        this.depth = depth;
        this.mask = depth - 1;
        this.sgeOffset = WR_BYTES * depth;
        this.slab = arena.allocate((WR_BYTES + SGE_BYTES) * depth + 8, 64);
        this.wrBase = slab.address();
        this.badWr = slab.asSlice((WR_BYTES + SGE_BYTES) * depth, 8);
        this.badWrAddress = badWr.address();
        this.contexts = new long[depth];
        this.qp = qp.address();
        this.postSendFunction = postSendFunction;
        this.owner = owner;
        this.signalInterval = signalInterval;
        this.budget = budget;
        for (int i = 0; i < depth; i++) {
            slab.set(JAVA_LONG, wr(i) + SG_LIST, wrBase + sgeOffset + SGE_BYTES * i);
        }
    }

    private long wr(int slot) {
        return WR_BYTES * slot;
    }

    private long sge(int slot) {
        return sgeOffset + SGE_BYTES * slot;
    }

    public int owner() {
        return owner;
    }

    /** Whether another request fits, in this ring and in the domain's budget. */
    public boolean hasRoom() {
        return tail - head < depth && budget.available();
    }

    /** Whether this ring itself is full (its peer's problem), as opposed to the domain's budget (everyone's). */
    public boolean ringFull() {
        return tail - head >= depth;
    }

    /** Whether the domain has listed this queue for its next flush. */
    public boolean flushPending() {
        return flushPending;
    }

    public void flushPending(boolean pending) {
        this.flushPending = pending;
    }

    /** Requests appended and not yet completed (posted or not). */
    public int outstanding() {
        return (int) (tail - head);
    }

    /** Whether some appended requests still wait for {@link #flush}. */
    public boolean hasUnposted() {
        return posted != tail;
    }

    /** Number of appended requests waiting for {@link #flush}. */
    public int unposted() {
        return (int) (tail - posted);
    }

    /**
     * Appends an RDMA WRITE ({@code withImm}: WRITE_WITH_IMM carrying {@code imm}, sent big-endian as verbs
     * requires). A zero {@code length} posts no SGE. The caller checked {@link #hasRoom()}.
     */
    public void appendWrite(long context, int lkey, long source, int length, long remoteAddress, int rkey,
                            boolean withImm, int imm) {
        int slot = fill(context, withImm ? Ibv.IBV_WR_RDMA_WRITE_WITH_IMM : Ibv.IBV_WR_RDMA_WRITE, lkey, source, length);
        long w = wr(slot);
        slab.set(JAVA_INT, w + IMM_DATA, withImm ? Integer.reverseBytes(imm) : 0);
        slab.set(JAVA_LONG, w + REMOTE_ADDR, remoteAddress);
        slab.set(JAVA_INT, w + RKEY, rkey);
    }

    /**
     * Appends the oldest request of {@code held} (a write or send that an earlier queue pair never executed)
     * with its original context, buffers, keys and immediate, and removes it from {@code held}. The caller
     * checked {@link #hasRoom()}.
     */
    public void appendHeld(HeldRequests held) {
        int slot = fill(held.nextContext(), held.nextOpcode(), held.nextLkey(), held.nextSource(), held.nextLength());
        long w = wr(slot);
        slab.set(JAVA_INT, w + IMM_DATA, held.nextRawImm());
        slab.set(JAVA_LONG, w + REMOTE_ADDR, held.nextRemoteAddress());
        slab.set(JAVA_INT, w + RKEY, held.nextRkey());
        held.removeFirst();
    }

    /** Appends a SEND of {@code length} bytes. The caller checked {@link #hasRoom()}. */
    public void appendSend(long context, int lkey, long source, int length) {
        int slot = fill(context, Ibv.IBV_WR_SEND, lkey, source, length);
        slab.set(JAVA_INT, wr(slot) + IMM_DATA, 0);
    }

    private int fill(long context, int opcode, int lkey, long source, int length) {
        long seq = tail;
        int slot = (int) (seq & mask);
        long w = wr(slot);
        slab.set(JAVA_LONG, w + WR_ID, WorkRequestId.of(WorkRequestId.SEND, owner, (int) seq));
        slab.set(JAVA_LONG, w + NEXT, 0L);
        slab.set(JAVA_INT, w + NUM_SGE, length == 0 ? 0 : 1);
        slab.set(JAVA_INT, w + OPCODE, opcode);
        boolean signal = ++sinceSignal >= signalInterval || length >= SIGNAL_BYTES;
        if (signal) {
            sinceSignal = 0;
        }
        slab.set(JAVA_INT, w + SEND_FLAGS, signal ? Ibv.IBV_SEND_SIGNALED : 0);
        long s = sge(slot);
        slab.set(JAVA_LONG, s + SGE_ADDR, source);
        slab.set(JAVA_INT, s + SGE_LENGTH, length);
        slab.set(JAVA_INT, s + SGE_LKEY, lkey);
        if (seq != posted) { // chain behind the previous unposted request
            slab.set(JAVA_LONG, wr((int) ((seq - 1) & mask)) + NEXT, wrBase + w);
        }
        contexts[slot] = context;
        tail = seq + 1;
        budget.acquire();
        return slot;
    }

    /**
     * Posts every unposted request with one {@code ibv_post_send}; the last one is signalled so each context
     * completes even when nothing follows.
     *
     * @return 0, or the errno of the post (ENOMEM: the NIC's queue is full; the requests it did not take
     *         stay unposted for the next flush)
     */
    public int flush() {
        if (posted == tail) {
            return 0;
        }
        if (head == posted) {
            lastProgressNanos = System.nanoTime(); // the NIC had nothing of ours: the clock starts now
        }
        long last = wr((int) ((tail - 1) & mask));
        slab.set(JAVA_INT, last + SEND_FLAGS, slab.get(JAVA_INT, last + SEND_FLAGS) | Ibv.IBV_SEND_SIGNALED);
        sinceSignal = 0;
        badWr.set(JAVA_LONG, 0, 0L);
        int rc;
        try {
            rc = (int) VerbsLibrary.POST_SEND.invokeExact(postSendFunction, qp,
                    wrBase + wr((int) (posted & mask)), badWrAddress);
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_post_send", t);
        }
        if (rc == 0) {
            posted = tail;
            return 0;
        }
        long bad = badWr.get(JAVA_LONG, 0);
        if (bad >= wrBase && bad < wrBase + sgeOffset) { // the NIC took everything before bad_wr
            int badSlot = (int) ((bad - wrBase) / WR_BYTES);
            posted += (badSlot - (int) (posted & mask)) & mask;
        }
        return rc;
    }

    /**
     * Completes requests up to the one {@code wrId} names. On success every one of them completes; on an
     * error the earlier ones succeeded (an RC send queue fails in order) and this one fails with
     * {@code error}; on a flush every one up to it was flushed and fails with {@code error} (or the retire
     * reason).
     *
     * @return how many contexts were completed
     */
    public int complete(long wrId, int status, TransferException error, CompletionSink sink) {
        long seq = head + Integer.toUnsignedLong(WorkRequestId.low(wrId) - (int) head);
        if (seq >= posted) {
            return 0; // not ours to complete (cannot happen with a sane NIC); ignore rather than corrupt the ring
        }
        TransferException flush = flushError != null ? flushError : error;
        int n = 0;
        for (long s = head; s <= seq; s++) {
            long ctx = contexts[(int) (s & mask)];
            if (status == Ibv.IBV_WC_SUCCESS) {
                sink.onComplete(ctx);
            } else if (status == Ibv.IBV_WC_WR_FLUSH_ERR && holdFlushed != null) {
                hold(s, holdFlushed);
                continue;
            } else if (status == Ibv.IBV_WC_WR_FLUSH_ERR) {
                sink.onError(ctx, flush);
            } else if (s == seq) {
                sink.onError(ctx, error);
            } else {
                sink.onComplete(ctx);
            }
            n++;
        }
        budget.release((int) (seq + 1 - head));
        head = seq + 1;
        lastProgressNanos = System.nanoTime();
        return n;
    }

    private void hold(long seq, HeldRequests into) {
        int slot = (int) (seq & mask);
        long w = wr(slot);
        long s = sge(slot);
        into.add(contexts[slot], slab.get(JAVA_INT, w + OPCODE), slab.get(JAVA_INT, s + SGE_LKEY),
                slab.get(JAVA_LONG, s + SGE_ADDR), slab.get(JAVA_INT, s + SGE_LENGTH),
                slab.get(JAVA_LONG, w + REMOTE_ADDR), slab.get(JAVA_INT, w + RKEY), slab.get(JAVA_INT, w + IMM_DATA));
    }

    /**
     * From now on, requests the NIC flushes on this queue are added to {@code into} instead of failing. Only
     * correct when they were never executed: the queue pair broke on a request the responder refused (it
     * executes nothing after the refused PSN), so every request behind it is flushed unexecuted.
     */
    public void holdFlushesInto(HeldRequests into) {
        this.holdFlushed = into;
    }

    /** Requests never handed to the NIC move to {@code into} (posted again elsewhere). @return how many */
    public int holdUnposted(HeldRequests into) {
        int n = 0;
        for (long s = posted; s < tail; s++) {
            hold(s, into);
            n++;
        }
        tail = posted;
        budget.release(n);
        return n;
    }

    /**
     * Whether requests are with the NIC and nothing completed for longer than {@code limitNanos}: the peer
     * stopped acknowledging (RC retries should report that, but a dead peer's queue pairs do not always
     * produce an error completion: see docs/verbs.md).
     */
    public boolean stalled(long nowNanos, long limitNanos) {
        return head != posted && nowNanos - lastProgressNanos > limitNanos;
    }

    /** Requests never handed to the NIC fail now with {@code error}. @return how many */
    public int failUnposted(TransferException error, CompletionSink sink) {
        int n = 0;
        for (long s = posted; s < tail; s++) {
            sink.onError(contexts[(int) (s & mask)], error);
            n++;
        }
        tail = posted;
        budget.release(n);
        return n;
    }

    /** From now on flushed requests report {@code error} (the reason the queue pair was retired). */
    public void retire(TransferException error) {
        this.flushError = error;
    }

    /** Frees the native slots. Only once the NIC can no longer touch them (QP destroyed). Idempotent. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
