package dev.transferengine.verbs.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The domain's UD queue pair that carries connection handshakes: small datagrams to a peer's UD queue pair
 * number and QKey, through an address handle. Owns the queue pair, its registered buffers and work request
 * templates. Single-threaded. Datagrams may be lost: the connection logic retransmits.
 */
final class HandshakeChannel implements AutoCloseable {
    /** Largest handshake message. */
    public static final int MAX_MESSAGE = 256;
    private static final int RECV_SLOTS = 64;
    private static final int SEND_SLOTS = 16;
    private static final long RECV_BUF = 320; // GRH (40) + MAX_MESSAGE, rounded up
    private static final long RECV_WR_BYTES = IbvLayouts.IBV_RECV_WR.byteSize();
    private static final long SEND_WR_BYTES = IbvLayouts.IBV_SEND_WR.byteSize();
    private static final long SGE_BYTES = IbvLayouts.IBV_SGE.byteSize();

    private final Arena arena = Arena.ofShared();
    private final MemorySegment slab;
    private final long base;
    private final long sendBufs;
    private final long recvWrs;
    private final long sendWrs;
    private final long sges;
    private final long badWr;
    private final ProtectionDomain.QueuePairHandle qp;
    private final ProtectionDomain.Registration mr;
    private final MemorySegment postSend;
    private final MemorySegment postRecv;
    private final boolean[] sendBusy = new boolean[SEND_SLOTS];

    /**
     * Creates the UD queue pair on {@code cq}, moves it to RTS with {@code qkey}, and posts its receives.
     */
    public HandshakeChannel(ProtectionDomain pd, MemorySegment cq, int port, int qkey, int psn) {
        DeviceContext ctx = pd.context();
        this.postSend = ctx.postSendFunction();
        this.postRecv = ctx.postRecvFunction();
        this.sendBufs = RECV_BUF * RECV_SLOTS;
        this.recvWrs = sendBufs + (long) MAX_MESSAGE * SEND_SLOTS;
        this.sendWrs = recvWrs + RECV_WR_BYTES * RECV_SLOTS;
        this.sges = sendWrs + SEND_WR_BYTES * SEND_SLOTS;
        this.badWr = sges + SGE_BYTES * (RECV_SLOTS + SEND_SLOTS);
        this.slab = arena.allocate(badWr + 8, 4096);
        this.base = slab.address();
        ProtectionDomain.Registration registration = null;
        ProtectionDomain.QueuePairHandle queuePair = null;
        try {
            registration = pd.register(base, slab.byteSize(), Ibv.IBV_ACCESS_LOCAL_WRITE);
            queuePair = pd.createQueuePair(Ibv.IBV_QPT_UD, cq, MemorySegment.NULL, SEND_SLOTS, RECV_SLOTS);
            QueuePairTransitions.activateUd(queuePair.qp(), port, qkey, psn);
        } catch (RuntimeException e) {
            if (queuePair != null) {
                ProtectionDomain.destroyQueuePair(queuePair.qp());
            }
            if (registration != null) {
                ProtectionDomain.deregister(registration.mr());
            }
            arena.close();
            throw e;
        }
        this.mr = registration;
        this.qp = queuePair;
        buildTemplates();
        for (int i = 0; i < RECV_SLOTS; i++) {
            int rc = postReceive(i);
            if (rc != 0) {
                close();
                throw NativeErrors.call("ibv_post_recv(handshake)", rc);
            }
        }
    }

    private void buildTemplates() {
        for (int i = 0; i < RECV_SLOTS; i++) {
            long w = recvWrs + RECV_WR_BYTES * i;
            long s = sges + SGE_BYTES * i;
            slab.set(JAVA_LONG, w + off(IbvLayouts.IBV_RECV_WR, "wr_id"),
                    WorkRequestId.of(WorkRequestId.HANDSHAKE_RECEIVE, 0, i));
            slab.set(JAVA_LONG, w + off(IbvLayouts.IBV_RECV_WR, "sg_list"), base + s);
            slab.set(JAVA_INT, w + off(IbvLayouts.IBV_RECV_WR, "num_sge"), 1);
            sge(s, base + RECV_BUF * i, (int) RECV_BUF);
        }
        for (int i = 0; i < SEND_SLOTS; i++) {
            long w = sendWrs + SEND_WR_BYTES * i;
            long s = sges + SGE_BYTES * (RECV_SLOTS + i);
            slab.set(JAVA_LONG, w + off(IbvLayouts.IBV_SEND_WR, "wr_id"),
                    WorkRequestId.of(WorkRequestId.HANDSHAKE_SEND, 0, i));
            slab.set(JAVA_LONG, w + off(IbvLayouts.IBV_SEND_WR, "sg_list"), base + s);
            slab.set(JAVA_INT, w + off(IbvLayouts.IBV_SEND_WR, "num_sge"), 1);
            slab.set(JAVA_INT, w + off(IbvLayouts.IBV_SEND_WR, "opcode"), Ibv.IBV_WR_SEND);
            slab.set(JAVA_INT, w + off(IbvLayouts.IBV_SEND_WR, "send_flags"), Ibv.IBV_SEND_SIGNALED);
            sge(s, base + sendBufs + (long) MAX_MESSAGE * i, 0);
        }
    }

    private void sge(long at, long address, int length) {
        slab.set(JAVA_LONG, at + off(IbvLayouts.IBV_SGE, "addr"), address);
        slab.set(JAVA_INT, at + off(IbvLayouts.IBV_SGE, "length"), length);
        slab.set(JAVA_INT, at + off(IbvLayouts.IBV_SGE, "lkey"), mr.lkey());
    }

    private static long off(java.lang.foreign.GroupLayout layout, String field) {
        return IbvLayouts.offset(layout, field);
    }

    /** This channel's UD queue pair number (part of the domain's address). */
    public int queuePairNumber() {
        return qp.qpNum();
    }

    private int postReceive(int slot) {
        try {
            return (int) VerbsLibrary.POST_RECV.invokeExact(postRecv, qp.qp().address(),
                    base + recvWrs + RECV_WR_BYTES * slot, base + badWr);
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_post_recv", t);
        }
    }

    /**
     * Sends {@code message} to UD queue pair {@code remoteQpn} with {@code qkey} through address handle
     * {@code ah}.
     *
     * @return false when every send slot is busy or the post failed (the caller retransmits later anyway)
     */
    public boolean send(MemorySegment ah, int remoteQpn, int qkey, byte[] message) {
        if (message.length > MAX_MESSAGE) {
            throw new IllegalArgumentException("handshake message of " + message.length + " bytes");
        }
        int slot = -1;
        for (int i = 0; i < SEND_SLOTS; i++) {
            if (!sendBusy[i]) {
                slot = i;
                break;
            }
        }
        if (slot < 0) {
            return false;
        }
        long buf = sendBufs + (long) MAX_MESSAGE * slot;
        MemorySegment.copy(message, 0, slab, JAVA_BYTE, buf, message.length);
        long s = sges + SGE_BYTES * (RECV_SLOTS + slot);
        slab.set(JAVA_INT, s + off(IbvLayouts.IBV_SGE, "length"), message.length);
        long w = sendWrs + SEND_WR_BYTES * slot;
        slab.set(JAVA_LONG, w + off(IbvLayouts.IBV_SEND_WR, "wr.ud.ah"), ah.address());
        slab.set(JAVA_INT, w + off(IbvLayouts.IBV_SEND_WR, "wr.ud.remote_qpn"), remoteQpn);
        slab.set(JAVA_INT, w + off(IbvLayouts.IBV_SEND_WR, "wr.ud.remote_qkey"), qkey);
        int rc;
        try {
            rc = (int) VerbsLibrary.POST_SEND.invokeExact(postSend, qp.qp().address(), base + w, base + badWr);
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_post_send", t);
        }
        if (rc != 0) {
            return false;
        }
        sendBusy[slot] = true;
        return true;
    }

    /** A handshake send completed (successfully or not): its slot is free again. */
    public void onSendCompleted(long wrId) {
        sendBusy[WorkRequestId.low(wrId)] = false;
    }

    /**
     * A handshake receive completed: returns its payload (GRH stripped), or null when it failed or is
     * malformed, and re-posts the receive.
     */
    public byte[] onReceived(long wrId, int status, int byteLength) {
        int slot = WorkRequestId.low(wrId);
        byte[] payload = null;
        if (status == Ibv.IBV_WC_SUCCESS && byteLength > Ibv.GRH_BYTES && byteLength <= RECV_BUF) {
            payload = slab.asSlice(RECV_BUF * slot + Ibv.GRH_BYTES, byteLength - Ibv.GRH_BYTES).toArray(JAVA_BYTE);
        }
        if (status != Ibv.IBV_WC_WR_FLUSH_ERR) {
            postReceive(slot); // a failure leaves one slot fewer; the next handshake retransmission copes
        }
        return payload;
    }

    /** Destroys the queue pair, then frees the buffers. Idempotent. */
    @Override
    public void close() {
        if (!arena.scope().isAlive()) {
            return;
        }
        if (qp != null) {
            ProtectionDomain.destroyQueuePair(qp.qp());
        }
        if (mr != null) {
            ProtectionDomain.deregister(mr.mr());
        }
        arena.close();
    }
}
