package dev.transferengine.verbs.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * An open {@code struct ibv_context}: device queries, the protection domain and completion queue
 * factories, and the ops-table function pointers the data path calls. One owner; {@link #close()} is
 * idempotent and must come after every object created from it is destroyed. Not thread-safe.
 */
final class DeviceContext implements AutoCloseable {
    /**
     * {@code struct verbs_context} sits in front of {@code struct ibv_context} and grows towards lower
     * addresses, so these offsets (from the {@code ibv_context} pointer) are stable across rdma-core versions.
     */
    public static final long VERBS_CONTEXT_QUERY_PORT = -320;
    public static final long VERBS_CONTEXT_SZ = -8;
    /** {@code verbs_context.sz} must be at least this for {@code query_port} to exist. */
    public static final long MIN_SZ_QUERY_PORT = 648;

    private static final long ABI_COMPAT = IbvLayouts.offset(IbvLayouts.IBV_CONTEXT, "abi_compat");
    private static final long OPS_POLL_CQ = IbvLayouts.offset(IbvLayouts.IBV_CONTEXT, "ops.poll_cq");
    private static final long OPS_POST_SEND = IbvLayouts.offset(IbvLayouts.IBV_CONTEXT, "ops.post_send");
    private static final long OPS_POST_RECV = IbvLayouts.offset(IbvLayouts.IBV_CONTEXT, "ops.post_recv");
    private static final long OPS_POST_SRQ_RECV = IbvLayouts.offset(IbvLayouts.IBV_CONTEXT, "ops.post_srq_recv");

    /** Device limits the provider sizes its queues by. */
    public record DeviceAttributes(int maxQp, int maxQpWr, int maxSge, int maxCqe, int maxSrqWr, long maxMrSize,
                                   int physicalPorts) {
    }

    /** Port state; {@code activeMtu} is an {@code enum ibv_mtu} value. */
    public record PortAttributes(int state, int activeMtu, int gidTableLength, long maxMessageBytes, int lid,
                                 int linkLayer) {
    }

    /** One GID table entry; {@code type} is an {@code enum ibv_gid_type} value. */
    public record GidEntry(int index, byte[] gid, int type) {
    }

    private final String deviceName;
    private MemorySegment context;
    private final MemorySegment pollCq;
    private final MemorySegment postSend;
    private final MemorySegment postRecv;
    private final MemorySegment postSrqRecv;

    private DeviceContext(String deviceName, MemorySegment context) {
        this.deviceName = deviceName;
        this.context = context;
        this.pollCq = opsFunction(context, OPS_POLL_CQ, "poll_cq");
        this.postSend = opsFunction(context, OPS_POST_SEND, "post_send");
        this.postRecv = opsFunction(context, OPS_POST_RECV, "post_recv");
        this.postSrqRecv = opsFunction(context, OPS_POST_SRQ_RECV, "post_srq_recv");
    }

    private static MemorySegment opsFunction(MemorySegment context, long offset, String name) {
        MemorySegment fn = context.get(ADDRESS, offset);
        if (fn.address() == 0) {
            throw new UnsupportedOperationException("verbs provider has no ops." + name);
        }
        return fn;
    }

    /** {@code ibv_open_device}. */
    public static DeviceContext open(DeviceList.Device device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(VerbsLibrary.CALL_STATE);
            MemorySegment ctx = (MemorySegment) VerbsLibrary.OPEN_DEVICE.invokeExact(state, device.pointer());
            if (ctx.address() == 0) {
                throw NativeErrors.call("ibv_open_device(" + device.name() + ")", VerbsLibrary.errno(state));
            }
            return new DeviceContext(device.name(), ctx.reinterpret(IbvLayouts.IBV_CONTEXT.byteSize()));
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_open_device", t);
        }
    }

    public String deviceName() {
        return deviceName;
    }

    /** The {@code ibv_context *}. */
    public MemorySegment pointer() {
        return live();
    }

    public MemorySegment pollCqFunction() {
        return pollCq;
    }

    public MemorySegment postSendFunction() {
        return postSend;
    }

    public MemorySegment postRecvFunction() {
        return postRecv;
    }

    public MemorySegment postSrqRecvFunction() {
        return postSrqRecv;
    }

    private MemorySegment live() {
        if (context.address() == 0) {
            throw new IllegalStateException("device context " + deviceName + " is closed");
        }
        return context;
    }

    /** {@code ibv_query_device}. */
    public DeviceAttributes queryDevice() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(IbvLayouts.IBV_DEVICE_ATTR);
            int rc = (int) VerbsLibrary.QUERY_DEVICE.invokeExact(live(), a);
            if (rc != 0) {
                throw NativeErrors.call("ibv_query_device(" + deviceName + ")", rc);
            }
            return new DeviceAttributes(
                    a.get(JAVA_INT, off("max_qp")), a.get(JAVA_INT, off("max_qp_wr")),
                    a.get(JAVA_INT, off("max_sge")), a.get(JAVA_INT, off("max_cqe")),
                    a.get(JAVA_INT, off("max_srq_wr")), a.get(JAVA_LONG, off("max_mr_size")),
                    Byte.toUnsignedInt(a.get(JAVA_BYTE, off("phys_port_cnt"))));
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_query_device", t);
        }
    }

    private static long off(String field) {
        return IbvLayouts.offset(IbvLayouts.IBV_DEVICE_ATTR, field);
    }

    /**
     * {@code ibv_query_port} the way the header's inline does it: through {@code verbs_context.query_port}
     * with the full struct size when the context is extended and has that op. The exported symbol is the old
     * compat entry point that fills a smaller struct; it is only the fallback.
     */
    public PortAttributes queryPort(int port) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(IbvLayouts.IBV_PORT_ATTR);
            MemorySegment ctx = live();
            MemorySegment fn = extendedQueryPort(ctx);
            int rc;
            if (fn != null) {
                rc = (int) VerbsLibrary.QUERY_PORT_EX.invokeExact(fn, ctx, (byte) port, a,
                        IbvLayouts.IBV_PORT_ATTR.byteSize());
            } else {
                rc = (int) VerbsLibrary.QUERY_PORT_COMPAT.invokeExact(ctx, (byte) port, a);
            }
            if (rc != 0) {
                throw NativeErrors.call("ibv_query_port(" + deviceName + ", " + port + ")", rc);
            }
            return new PortAttributes(
                    a.get(JAVA_INT, portOff("state")), a.get(JAVA_INT, portOff("active_mtu")),
                    a.get(JAVA_INT, portOff("gid_tbl_len")), Integer.toUnsignedLong(a.get(JAVA_INT, portOff("max_msg_sz"))),
                    Short.toUnsignedInt(a.get(JAVA_SHORT, portOff("lid"))),
                    Byte.toUnsignedInt(a.get(JAVA_BYTE, portOff("link_layer"))));
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_query_port", t);
        }
    }

    private static long portOff(String field) {
        return IbvLayouts.offset(IbvLayouts.IBV_PORT_ATTR, field);
    }

    /** verbs_context.query_port, or null when the context is not extended or too old to have it. */
    private static MemorySegment extendedQueryPort(MemorySegment ctx) {
        if (ctx.get(JAVA_LONG, ABI_COMPAT) != -1L) { // __VERBS_ABI_IS_EXTENDED is (void *)-1
            return null;
        }
        MemorySegment front = MemorySegment.ofAddress(ctx.address() + VERBS_CONTEXT_QUERY_PORT)
                .reinterpret(-VERBS_CONTEXT_QUERY_PORT);
        long sz = front.get(JAVA_LONG, VERBS_CONTEXT_SZ - VERBS_CONTEXT_QUERY_PORT);
        if (sz < MIN_SZ_QUERY_PORT) {
            return null;
        }
        MemorySegment fn = front.get(ADDRESS, 0);
        return fn.address() == 0 ? null : fn;
    }

    /** {@code ibv_query_gid_ex}: the GID at {@code index} with its type, or null for an empty or unreadable slot. */
    public GidEntry queryGid(int port, int index) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment e = arena.allocate(IbvLayouts.IBV_GID_ENTRY);
            int rc = (int) VerbsLibrary.QUERY_GID_EX.invokeExact(live(), port, index, e, 0,
                    IbvLayouts.IBV_GID_ENTRY.byteSize());
            if (rc != 0) {
                return null; // ENODATA: empty slot; anything else makes the slot unusable just the same
            }
            byte[] gid = e.asSlice(0, 16).toArray(JAVA_BYTE);
            return new GidEntry(index, gid, e.get(JAVA_INT, IbvLayouts.offset(IbvLayouts.IBV_GID_ENTRY, "gid_type")));
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_query_gid_ex", t);
        }
    }

    /** {@code ibv_alloc_pd}. */
    public ProtectionDomain allocateProtectionDomain() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(VerbsLibrary.CALL_STATE);
            MemorySegment pd = (MemorySegment) VerbsLibrary.ALLOC_PD.invokeExact(state, live());
            if (pd.address() == 0) {
                throw NativeErrors.call("ibv_alloc_pd(" + deviceName + ")", VerbsLibrary.errno(state));
            }
            return new ProtectionDomain(this, pd);
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_alloc_pd", t);
        }
    }

    /** {@code ibv_create_cq} without a completion channel (the worker polls). */
    public MemorySegment createCompletionQueue(int entries) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(VerbsLibrary.CALL_STATE);
            MemorySegment cq = (MemorySegment) VerbsLibrary.CREATE_CQ.invokeExact(state, live(), entries,
                    MemorySegment.NULL, MemorySegment.NULL, 0);
            if (cq.address() == 0) {
                throw NativeErrors.call("ibv_create_cq(" + deviceName + ", " + entries + ")", VerbsLibrary.errno(state));
            }
            return cq;
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_create_cq", t);
        }
    }

    /** {@code ibv_destroy_cq}; returns the errno (0 on success) so teardown can go on. */
    public static int destroyCompletionQueue(MemorySegment cq) {
        try {
            return (int) VerbsLibrary.DESTROY_CQ.invokeExact(cq);
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_destroy_cq", t);
        }
    }

    /** {@code ibv_close_device}. Idempotent. */
    @Override
    public void close() {
        MemorySegment ctx = context;
        context = MemorySegment.NULL;
        if (ctx.address() != 0) {
            try {
                int rc = (int) VerbsLibrary.CLOSE_DEVICE.invokeExact(ctx);
                if (rc != 0) {
                    throw NativeErrors.call("ibv_close_device(" + deviceName + ")", rc);
                }
            } catch (Throwable t) {
                throw NativeErrors.unexpected("ibv_close_device", t);
            }
        }
    }
}
