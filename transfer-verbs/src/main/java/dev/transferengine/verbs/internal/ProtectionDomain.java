package dev.transferengine.verbs.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * An {@code ibv_pd} and the objects created under it: memory registrations, shared receive queues, queue
 * pairs and address handles. The creators return raw pointers; their owners destroy them through the
 * matching static method before {@link #close()}. Not thread-safe.
 */
final class ProtectionDomain implements AutoCloseable {
    private static final long MR_LKEY = IbvLayouts.offset(IbvLayouts.IBV_MR, "lkey");
    private static final long MR_RKEY = IbvLayouts.offset(IbvLayouts.IBV_MR, "rkey");
    private static final long QP_NUM = IbvLayouts.offset(IbvLayouts.IBV_QP, "qp_num");

    /** A registration: the {@code ibv_mr *} and its keys. */
    public record Registration(MemorySegment mr, int lkey, int rkey) {
    }

    /** A created queue pair: the {@code ibv_qp *} and its number. */
    public record QueuePairHandle(MemorySegment qp, int qpNum) {
    }

    private final DeviceContext context;
    private MemorySegment pd;

    ProtectionDomain(DeviceContext context, MemorySegment pd) {
        this.context = context;
        this.pd = pd;
    }

    public DeviceContext context() {
        return context;
    }

    private MemorySegment live() {
        if (pd.address() == 0) {
            throw new IllegalStateException("protection domain of " + context.deviceName() + " is closed");
        }
        return pd;
    }

    /**
     * {@code ibv_reg_mr_iova2} with iova = address (virtual addressing). Optional access flags such as
     * {@link Ibv#IBV_ACCESS_RELAXED_ORDERING} are dropped by libibverbs where unsupported.
     */
    public Registration register(long address, long length, int access) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(VerbsLibrary.CALL_STATE);
            MemorySegment mr = (MemorySegment) VerbsLibrary.REG_MR_IOVA2.invokeExact(state, live(),
                    address, length, address, access);
            if (mr.address() == 0) {
                throw NativeErrors.call("ibv_reg_mr_iova2(" + context.deviceName() + ", " + length + " bytes)",
                        VerbsLibrary.errno(state));
            }
            MemorySegment m = mr.reinterpret(IbvLayouts.IBV_MR.byteSize());
            return new Registration(m, m.get(JAVA_INT, MR_LKEY), m.get(JAVA_INT, MR_RKEY));
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_reg_mr_iova2", t);
        }
    }

    /**
     * {@code ibv_reg_dmabuf_mr(pd, offset, length, iova, fd, access)}: registers {@code length} bytes starting
     * {@code offset} bytes into the dma-buf {@code fd}, addressed by peers as {@code iova}. The kernel takes its
     * own reference on the dma-buf ({@code dma_buf_get} in {@code ib_umem_dmabuf_get}, dropped by
     * {@code dma_buf_put} when the MR is destroyed), so the caller may close {@code fd} right after this returns.
     *
     * @throws dev.transferengine.api.TransferException PROVIDER with the errno ({@code EOPNOTSUPP} where the
     *         provider library or the kernel driver has no dma-buf support, e.g. rxe)
     */
    public Registration registerDmabuf(long offset, long length, long iova, int fd, int access) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(VerbsLibrary.CALL_STATE);
            MemorySegment mr = regDmabufMr(VerbsLibrary.REG_DMABUF_MR, state, live(), offset, length, iova, fd,
                    access);
            if (mr.address() == 0) {
                throw NativeErrors.call("ibv_reg_dmabuf_mr(" + context.deviceName() + ", " + length + " bytes)",
                        VerbsLibrary.errno(state));
            }
            MemorySegment m = mr.reinterpret(IbvLayouts.IBV_MR.byteSize());
            return new Registration(m, m.get(JAVA_INT, MR_LKEY), m.get(JAVA_INT, MR_RKEY));
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_reg_dmabuf_mr", t);
        }
    }

    /**
     * The one call site of {@link VerbsLibrary#REG_DMABUF_MR}, separate so that the layout test can check on a
     * machine without a device that its static types match the handle's descriptor (a mismatch is a
     * {@code WrongMethodTypeException} at run time only).
     */
    static MemorySegment regDmabufMr(MethodHandle handle, MemorySegment state, MemorySegment pd, long offset,
                                     long length, long iova, int fd, int access) throws Throwable {
        return (MemorySegment) handle.invokeExact(state, pd, offset, length, iova, fd, access);
    }

    /** {@code ibv_dereg_mr}; returns the errno (0 on success). */
    public static int deregister(MemorySegment mr) {
        try {
            return (int) VerbsLibrary.DEREG_MR.invokeExact(mr);
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_dereg_mr", t);
        }
    }

    /** {@code ibv_create_srq} with one SGE per receive. */
    public MemorySegment createSharedReceiveQueue(int maxWr) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(VerbsLibrary.CALL_STATE);
            MemorySegment attr = arena.allocate(IbvLayouts.IBV_SRQ_INIT_ATTR);
            attr.set(JAVA_INT, IbvLayouts.offset(IbvLayouts.IBV_SRQ_INIT_ATTR, "attr.max_wr"), maxWr);
            attr.set(JAVA_INT, IbvLayouts.offset(IbvLayouts.IBV_SRQ_INIT_ATTR, "attr.max_sge"), 1);
            MemorySegment srq = (MemorySegment) VerbsLibrary.CREATE_SRQ.invokeExact(state, live(), attr);
            if (srq.address() == 0) {
                throw NativeErrors.call("ibv_create_srq(" + context.deviceName() + ", " + maxWr + ")",
                        VerbsLibrary.errno(state));
            }
            return srq;
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_create_srq", t);
        }
    }

    /** {@code ibv_destroy_srq}; returns the errno (0 on success). */
    public static int destroySharedReceiveQueue(MemorySegment srq) {
        try {
            return (int) VerbsLibrary.DESTROY_SRQ.invokeExact(srq);
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_destroy_srq", t);
        }
    }

    /**
     * {@code ibv_create_qp}: one SGE each way, no inline data, selective signalling ({@code sq_sig_all = 0}).
     *
     * @param srq the shared receive queue, or {@link MemorySegment#NULL} for a QP with its own receive queue
     */
    public QueuePairHandle createQueuePair(int qpType, MemorySegment cq, MemorySegment srq, int maxSendWr,
                                           int maxRecvWr) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(VerbsLibrary.CALL_STATE);
            MemorySegment a = arena.allocate(IbvLayouts.IBV_QP_INIT_ATTR);
            a.set(ADDRESS, qpInit("send_cq"), cq);
            a.set(ADDRESS, qpInit("recv_cq"), cq);
            a.set(ADDRESS, qpInit("srq"), srq);
            a.set(JAVA_INT, qpInit("cap.max_send_wr"), maxSendWr);
            a.set(JAVA_INT, qpInit("cap.max_recv_wr"), srq.address() == 0 ? maxRecvWr : 0);
            a.set(JAVA_INT, qpInit("cap.max_send_sge"), 1);
            a.set(JAVA_INT, qpInit("cap.max_recv_sge"), 1);
            a.set(JAVA_INT, qpInit("qp_type"), qpType);
            MemorySegment qp = (MemorySegment) VerbsLibrary.CREATE_QP.invokeExact(state, live(), a);
            if (qp.address() == 0) {
                throw NativeErrors.call("ibv_create_qp(" + context.deviceName() + ")", VerbsLibrary.errno(state));
            }
            MemorySegment q = qp.reinterpret(IbvLayouts.IBV_QP.byteSize());
            return new QueuePairHandle(q, q.get(JAVA_INT, QP_NUM));
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_create_qp", t);
        }
    }

    private static long qpInit(String field) {
        return IbvLayouts.offset(IbvLayouts.IBV_QP_INIT_ATTR, field);
    }

    /** {@code ibv_destroy_qp}; returns the errno (0 on success). */
    public static int destroyQueuePair(MemorySegment qp) {
        try {
            return (int) VerbsLibrary.DESTROY_QP.invokeExact(qp);
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_destroy_qp", t);
        }
    }

    /** {@code ibv_create_ah} for UD sends along {@code route}. */
    public MemorySegment createAddressHandle(Route route) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(VerbsLibrary.CALL_STATE);
            MemorySegment attr = arena.allocate(IbvLayouts.IBV_AH_ATTR);
            route.writeTo(attr, 0);
            MemorySegment ah = (MemorySegment) VerbsLibrary.CREATE_AH.invokeExact(state, live(), attr);
            if (ah.address() == 0) {
                throw NativeErrors.call("ibv_create_ah(" + context.deviceName() + ")", VerbsLibrary.errno(state));
            }
            return ah;
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_create_ah", t);
        }
    }

    /** {@code ibv_destroy_ah}; returns the errno (0 on success). */
    public static int destroyAddressHandle(MemorySegment ah) {
        try {
            return (int) VerbsLibrary.DESTROY_AH.invokeExact(ah);
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_destroy_ah", t);
        }
    }

    /** {@code ibv_dealloc_pd}. Idempotent. */
    @Override
    public void close() {
        MemorySegment p = pd;
        pd = MemorySegment.NULL;
        if (p.address() != 0) {
            try {
                int rc = (int) VerbsLibrary.DEALLOC_PD.invokeExact(p);
                if (rc != 0) {
                    throw NativeErrors.call("ibv_dealloc_pd(" + context.deviceName() + ")", rc);
                }
            } catch (Throwable t) {
                throw NativeErrors.unexpected("ibv_dealloc_pd", t);
            }
        }
    }
}
