package dev.transferengine.efa.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Pre-built native messages for the data path ("work-request templates"): one {@code fi_msg_rma} with its
 * iovec, rma_iov and desc slot for writes, one {@code fi_msg} with iovec and desc slot for sends and receives.
 * Each post patches a few fields and calls the cached function pointer; nothing is allocated. Sharing one
 * template per kind is safe because providers copy what they need during the call (we never offer
 * FI_ASYNC_IOV), and the domain is single-threaded.
 *
 * <p>Every call returns the provider's raw result: 0, -FI_EAGAIN, or another negative error.
 */
final class PostTemplates {
    private final FiEndpoint endpoint;
    private final long completionFlags;
    /** Whether writes without an imm carry remote CQ data anyway ({@link CqData#NO_IMM}), so the target checks them. */
    private final boolean markImmlessWrites;

    private final MemorySegment rmaMsg;
    private final MemorySegment rmaLocalIov;
    private final MemorySegment rmaRemoteIov;
    private final MemorySegment rmaDesc;
    private final MemorySegment msg;
    private final MemorySegment msgIov;
    private final MemorySegment msgDesc;

    /**
     * @param completionFlags flags every write and send carries: FI_COMPLETION, plus FI_DELIVERY_COMPLETE when
     *                        the domain wants a write's completion to mean "landed in remote memory"
     * @param markImmlessWrites post writes without an imm with FI_REMOTE_CQ_DATA and {@link CqData#NO_IMM} as the
     *                        data ({@link LibfabricSettings#markImmlessWrites}: shm checks the key only then)
     */
    PostTemplates(Arena arena, FiEndpoint endpoint, long completionFlags, boolean markImmlessWrites) {
        this.endpoint = endpoint;
        this.completionFlags = completionFlags;
        this.markImmlessWrites = markImmlessWrites;
        // Sizes with headroom: never let a provider read past what we allocated.
        rmaMsg = arena.allocate(FiLayouts.FI_MSG_RMA.byteSize() + FiLayouts.INPUT_HEADROOM_BYTES, 64);
        rmaLocalIov = arena.allocate(FiLayouts.IOVEC.byteSize(), 16);
        rmaRemoteIov = arena.allocate(FiLayouts.FI_RMA_IOV.byteSize(), 16);
        rmaDesc = arena.allocate(JAVA_LONG);
        msg = arena.allocate(FiLayouts.FI_MSG.byteSize() + FiLayouts.INPUT_HEADROOM_BYTES, 64);
        msgIov = arena.allocate(FiLayouts.IOVEC.byteSize(), 16);
        msgDesc = arena.allocate(JAVA_LONG);

        rmaMsg.set(JAVA_LONG, FiLayouts.RMA_MSG_RMA_IOV, rmaRemoteIov.address());
        rmaMsg.set(JAVA_LONG, FiLayouts.RMA_MSG_RMA_IOV_COUNT, 1);
        msg.set(JAVA_LONG, FiLayouts.MSG_IOV, msgIov.address());
        msg.set(JAVA_LONG, FiLayouts.MSG_DESC, msgDesc.address());
        msg.set(JAVA_LONG, FiLayouts.MSG_IOV_COUNT, 1);
    }

    /**
     * {@code fi_writemsg}. A zero-length write has no local iov but still a valid remote iov (address and key):
     * EFA rejects imm-only writes without one. A write without an imm carries remote CQ data too when
     * {@code markImmlessWrites} is set: the mark {@link CqData#NO_IMM}, which the target's reader drops.
     */
    long write(long peer, long srcAddress, long length, long srcDescriptor, long remoteAddress, long remoteKey,
               boolean withImm, int imm, long context) {
        if (length > 0) {
            rmaLocalIov.set(JAVA_LONG, FiLayouts.IOV_BASE, srcAddress);
            rmaLocalIov.set(JAVA_LONG, FiLayouts.IOV_LEN, length);
            rmaDesc.set(JAVA_LONG, 0, srcDescriptor);
            rmaMsg.set(JAVA_LONG, FiLayouts.RMA_MSG_IOV, rmaLocalIov.address());
            rmaMsg.set(JAVA_LONG, FiLayouts.RMA_MSG_DESC, rmaDesc.address());
            rmaMsg.set(JAVA_LONG, FiLayouts.RMA_MSG_IOV_COUNT, 1);
        } else {
            rmaMsg.set(JAVA_LONG, FiLayouts.RMA_MSG_IOV, 0);
            rmaMsg.set(JAVA_LONG, FiLayouts.RMA_MSG_DESC, 0);
            rmaMsg.set(JAVA_LONG, FiLayouts.RMA_MSG_IOV_COUNT, 0);
        }
        rmaRemoteIov.set(JAVA_LONG, FiLayouts.RMA_IOV_ADDR, remoteAddress);
        rmaRemoteIov.set(JAVA_LONG, FiLayouts.RMA_IOV_LEN, length);
        rmaRemoteIov.set(JAVA_LONG, FiLayouts.RMA_IOV_KEY, remoteKey);
        rmaMsg.set(JAVA_LONG, FiLayouts.RMA_MSG_ADDR, peer);
        rmaMsg.set(JAVA_LONG, FiLayouts.RMA_MSG_CONTEXT, context);
        boolean cqData = withImm || markImmlessWrites;
        rmaMsg.set(JAVA_LONG, FiLayouts.RMA_MSG_DATA, cqData ? CqData.of(withImm, imm) : 0);
        long flags = completionFlags | (cqData ? FiConst.Flag.FI_REMOTE_CQ_DATA : 0);
        return FiCalls.dataPath(endpoint.writemsg, endpoint.ep, rmaMsg, flags, endpoint.criticalCalls);
    }

    /** {@code fi_sendmsg}. */
    long send(long peer, long address, long length, long descriptor, long context) {
        fillMsg(peer, address, length, descriptor, context);
        return FiCalls.dataPath(endpoint.sendmsg, endpoint.ep, msg, completionFlags, endpoint.criticalCalls);
    }

    /** {@code fi_recvmsg} from any peer. */
    long receive(long address, long length, long descriptor, long context) {
        fillMsg(FiConst.Enum.FI_ADDR_UNSPEC, address, length, descriptor, context);
        return FiCalls.dataPath(endpoint.recvmsg, endpoint.ep, msg, FiConst.Flag.FI_COMPLETION,
                endpoint.criticalCalls);
    }

    private void fillMsg(long peer, long address, long length, long descriptor, long context) {
        msgIov.set(JAVA_LONG, FiLayouts.IOV_BASE, address);
        msgIov.set(JAVA_LONG, FiLayouts.IOV_LEN, length);
        msgDesc.set(JAVA_LONG, 0, descriptor);
        msg.set(JAVA_LONG, FiLayouts.MSG_ADDR, peer);
        msg.set(JAVA_LONG, FiLayouts.MSG_CONTEXT, context);
        msg.set(JAVA_LONG, FiLayouts.MSG_DATA, 0);
    }
}
