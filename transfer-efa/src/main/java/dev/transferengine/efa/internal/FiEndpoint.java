package dev.transferengine.efa.internal;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Deque;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One opened endpoint and everything under it: {@code fi_domain}, a CQ ({@code FI_CQ_FORMAT_DATA}, no wait
 * object) bound for transmit and receive, an AV table, the RDM endpoint, and the function pointers the data
 * path calls, read once after {@code fi_enable}. Owns the native objects and closes them in reverse order.
 *
 * <p>Opening runs under {@link SignalHandlers#preserving}: the shm provider (alone or inside EFA) replaces
 * SIGSEGV/SIGBUS when its first endpoint opens. Single-threaded after construction.
 */
final class FiEndpoint implements AutoCloseable {
    /** Largest address fi_getname may return (EFA 32 B, sockaddr_in6 28 B, shm strings about 20-60 B). */
    static final int MAX_ADDRESS_BYTES = 256;

    final MemorySegment domain;
    final MemorySegment cq;
    final MemorySegment av;
    final MemorySegment ep;
    final byte[] address;

    final MemorySegment mrReg;
    final MemorySegment avInsert;
    final MemorySegment writemsg;
    final MemorySegment sendmsg;
    final MemorySegment recvmsg;
    final MemorySegment cqRead;
    final MemorySegment cqReadErr;
    final MemorySegment cqStrerror;
    /**
     * Whether the data path (posts, CQ reads) may use critical downcalls. Not on shm and efa (which embeds shm): there
     * a post can spin for good on a lock that a killed peer held (docs/reliability.md, "Peer death"), and a thread
     * stuck in a critical call keeps the whole JVM from reaching a safepoint. A non-critical call is a few
     * nanoseconds dearer and leaves only the worker stuck, which the engine's watchdog reports.
     */
    final boolean criticalCalls;

    /** Opened fids, most recent first: closed in this order. */
    private final Deque<MemorySegment> opened = new ArrayDeque<>();
    private final LibfabricLibrary library;
    private boolean closed;

    FiEndpoint(LibfabricLibrary library, MemorySegment fabric, FiInfo info, int cqSize) {
        this.library = library;
        this.criticalCalls = !RetiredEndpoints.applies(info.providerName());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            MemorySegment fabricFid = fabric.reinterpret(FiLayouts.FID_FABRIC.byteSize());

            check(FiCalls.open(FiCalls.function(fabricFid, FiLayouts.FABRIC_OPS, FiLayouts.FI_OPS_FABRIC, "domain"),
                    fabricFid, info.pointer(), out, MemorySegment.NULL), "fi_domain");
            domain = remember(out, FiLayouts.FID_DOMAIN.byteSize());

            MemorySegment cqAttr = arena.allocate(FiLayouts.FI_CQ_ATTR.byteSize() + FiLayouts.INPUT_HEADROOM_BYTES, 8);
            cqAttr.set(JAVA_LONG, FiLayouts.CQ_ATTR_SIZE, cqSize);
            cqAttr.set(JAVA_INT, FiLayouts.CQ_ATTR_FORMAT, FiConst.Enum.FI_CQ_FORMAT_DATA);
            cqAttr.set(JAVA_INT, FiLayouts.CQ_ATTR_WAIT_OBJ, FiConst.Enum.FI_WAIT_NONE);
            check(FiCalls.open(FiCalls.function(domain, FiLayouts.DOMAIN_OPS, FiLayouts.FI_OPS_DOMAIN, "cq_open"),
                    domain, cqAttr, out, MemorySegment.NULL), "fi_cq_open");
            cq = remember(out, FiLayouts.FID_CQ.byteSize());

            MemorySegment avAttr = arena.allocate(FiLayouts.FI_AV_ATTR.byteSize() + FiLayouts.INPUT_HEADROOM_BYTES, 8);
            avAttr.set(JAVA_INT, FiLayouts.AV_ATTR_TYPE, FiConst.Enum.FI_AV_TABLE);
            check(FiCalls.open(FiCalls.function(domain, FiLayouts.DOMAIN_OPS, FiLayouts.FI_OPS_DOMAIN, "av_open"),
                    domain, avAttr, out, MemorySegment.NULL), "fi_av_open");
            av = remember(out, FiLayouts.FID_AV.byteSize());

            MemorySegment endpointFn = FiCalls.function(domain, FiLayouts.DOMAIN_OPS, FiLayouts.FI_OPS_DOMAIN, "endpoint");
            check(SignalHandlers.preserving(SignalHandlers.AT_ENDPOINT,
                    () -> FiCalls.open(endpointFn, domain, info.pointer(), out, MemorySegment.NULL)), "fi_endpoint");
            ep = remember(out, FiLayouts.FID_EP.byteSize());

            MemorySegment bind = FiCalls.function(ep, FiLayouts.FID_OPS, FiLayouts.FI_OPS, "bind");
            check(FiCalls.bind(bind, ep, av, 0), "fi_ep_bind(av)");
            check(FiCalls.bind(bind, ep, cq, FiConst.Cap.FI_TRANSMIT | FiConst.Cap.FI_RECV), "fi_ep_bind(cq)");
            MemorySegment control = FiCalls.function(ep, FiLayouts.FID_OPS, FiLayouts.FI_OPS, "control");
            check(SignalHandlers.preserving(SignalHandlers.AT_ENDPOINT,
                    () -> FiCalls.control(control, ep, FiConst.Enum.FI_ENABLE, MemorySegment.NULL)), "fi_enable");

            // Ops tables may change on bind/enable: read the pointers only now.
            mrReg = FiCalls.function(domain, FiLayouts.DOMAIN_MR, FiLayouts.FI_OPS_MR, "reg");
            avInsert = FiCalls.function(av, FiLayouts.AV_OPS, FiLayouts.FI_OPS_AV, "insert");
            writemsg = FiCalls.function(ep, FiLayouts.EP_RMA, FiLayouts.FI_OPS_RMA, "writemsg");
            sendmsg = FiCalls.function(ep, FiLayouts.EP_MSG, FiLayouts.FI_OPS_MSG, "sendmsg");
            recvmsg = FiCalls.function(ep, FiLayouts.EP_MSG, FiLayouts.FI_OPS_MSG, "recvmsg");
            cqRead = FiCalls.function(cq, FiLayouts.CQ_OPS, FiLayouts.FI_OPS_CQ, "read");
            cqReadErr = FiCalls.function(cq, FiLayouts.CQ_OPS, FiLayouts.FI_OPS_CQ, "readerr");
            cqStrerror = FiCalls.function(cq, FiLayouts.CQ_OPS, FiLayouts.FI_OPS_CQ, "strerror");
            address = name(arena);
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    private MemorySegment remember(MemorySegment out, long size) {
        MemorySegment fid = out.get(ADDRESS, 0).reinterpret(size);
        opened.push(fid);
        return fid;
    }

    private byte[] name(Arena arena) {
        MemorySegment buf = arena.allocate(MAX_ADDRESS_BYTES);
        MemorySegment len = arena.allocate(JAVA_LONG);
        len.set(JAVA_LONG, 0, MAX_ADDRESS_BYTES);
        check(FiCalls.getname(FiCalls.function(ep, FiLayouts.EP_CM, FiLayouts.FI_OPS_CM, "getname"), ep, buf, len),
                "fi_getname");
        long n = len.get(JAVA_LONG, 0);
        if (n <= 0 || n > MAX_ADDRESS_BYTES) {
            throw new TransferException(ErrorCategory.PROVIDER, "fi_getname returned a " + n + "-byte address");
        }
        return buf.asSlice(0, n).toArray(JAVA_BYTE);
    }

    void check(int rc, String call) {
        if (rc != 0) {
            throw FiErrors.callFailed(library, call, rc);
        }
    }

    /** fi_close on {@code fid}; returns the (negative) error or 0. */
    static int closeFid(MemorySegment fid) {
        return FiCalls.close(FiCalls.function(fid, FiLayouts.FID_OPS, FiLayouts.FI_OPS, "close"), fid);
    }

    /**
     * Closes the endpoint alone, first: after this no operation is in flight, so memory registrations may
     * be closed before {@link #close()} closes the AV, the CQ and the domain.
     */
    void closeEndpoint() {
        if (!closed && opened.remove(ep)) {
            closeFid(ep);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        while (!opened.isEmpty()) {
            closeFid(opened.pop());
        }
    }
}
