package dev.transferengine.verbs.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * libibverbs.so.1, loaded once, and one downcall handle per C signature. Thread-safe (immutable after
 * class initialisation).
 *
 * <p>Two kinds of handles:
 * <ul>
 *   <li>Exported functions (setup and teardown): bound by name; those that report failure through
 *       {@code errno} capture it ({@link #CALL_STATE} segment as first argument).</li>
 *   <li>The data path ({@code ibv_post_send}, {@code ibv_post_recv}, {@code ibv_post_srq_recv},
 *       {@code ibv_poll_cq}) and {@code ibv_query_port} are {@code static inline} in the header: they call
 *       through the context's ops tables. Their handles are "address-first" (the function pointer is the first
 *       argument). Pointer parameters of the data-path handles are declared {@code JAVA_LONG}: on LP64 a
 *       pointer and a long travel in the same register, and passing a long avoids creating a
 *       {@link MemorySegment} per call. They are {@code critical}: short, non-blocking, no upcalls.</li>
 * </ul>
 */
public final class VerbsLibrary {
    /** The shared object libibverbs is loaded from (rdma-core's soname, stable since 2016). */
    public static final String SONAME = "libibverbs.so.1";

    /** Layout of the capture-state segment that receives {@code errno}. */
    public static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final long ERRNO_OFFSET = CALL_STATE.byteOffset(MemoryLayout.PathElement.groupElement("errno"));

    /** Every exported symbol the provider binds; the layout test checks each resolves. */
    public static final List<String> BOUND_SYMBOLS = List.of(
            "ibv_get_device_list", "ibv_free_device_list", "ibv_get_device_name", "ibv_open_device",
            "ibv_close_device", "ibv_query_device", "ibv_query_port", "_ibv_query_gid_ex", "ibv_alloc_pd",
            "ibv_dealloc_pd", "ibv_reg_mr_iova2", "ibv_reg_dmabuf_mr", "ibv_dereg_mr", "ibv_create_cq",
            "ibv_destroy_cq", "ibv_create_srq", "ibv_destroy_srq", "ibv_create_qp", "ibv_destroy_qp",
            "ibv_modify_qp", "ibv_create_ah", "ibv_destroy_ah", "ibv_wc_status_str");

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final Linker.Option CRITICAL = Linker.Option.critical(false);

    // Exported functions. "E" = errno captured: the first argument is a CALL_STATE segment.
    static final MethodHandle GET_DEVICE_LIST;   // E ibv_device **(int *num)
    static final MethodHandle FREE_DEVICE_LIST;  // void (ibv_device **)
    static final MethodHandle GET_DEVICE_NAME;   // const char *(ibv_device *)
    static final MethodHandle OPEN_DEVICE;       // E ibv_context *(ibv_device *)
    static final MethodHandle CLOSE_DEVICE;      // int (ibv_context *)
    static final MethodHandle QUERY_DEVICE;      // int (ibv_context *, ibv_device_attr *)
    static final MethodHandle QUERY_PORT_COMPAT; // int (ibv_context *, uint8_t, _compat_ibv_port_attr *)
    static final MethodHandle QUERY_GID_EX;      // int (ibv_context *, u32 port, u32 index, ibv_gid_entry *, u32 flags, size_t)
    static final MethodHandle ALLOC_PD;          // E ibv_pd *(ibv_context *)
    static final MethodHandle DEALLOC_PD;        // int (ibv_pd *)
    static final MethodHandle REG_MR_IOVA2;      // E ibv_mr *(ibv_pd *, void *, size_t, u64 iova, unsigned access)
    static final MethodHandle REG_DMABUF_MR;     // E ibv_mr *(ibv_pd *, u64 offset, size_t, u64 iova, int fd, int access)
    static final MethodHandle DEREG_MR;          // int (ibv_mr *)
    static final MethodHandle CREATE_CQ;         // E ibv_cq *(ibv_context *, int cqe, void *, ibv_comp_channel *, int)
    static final MethodHandle DESTROY_CQ;        // int (ibv_cq *)
    static final MethodHandle CREATE_SRQ;        // E ibv_srq *(ibv_pd *, ibv_srq_init_attr *)
    static final MethodHandle DESTROY_SRQ;       // int (ibv_srq *)
    static final MethodHandle CREATE_QP;         // E ibv_qp *(ibv_pd *, ibv_qp_init_attr *)
    static final MethodHandle DESTROY_QP;        // int (ibv_qp *)
    static final MethodHandle MODIFY_QP;         // int (ibv_qp *, ibv_qp_attr *, int mask)
    static final MethodHandle CREATE_AH;         // E ibv_ah *(ibv_pd *, ibv_ah_attr *)
    static final MethodHandle DESTROY_AH;        // int (ibv_ah *)
    static final MethodHandle WC_STATUS_STR;     // const char *(enum ibv_wc_status)
    static final MethodHandle STRERROR;          // libc: char *strerror(int)
    static final MethodHandle CLOSE;             // libc: E int close(int fd) (dma-buf descriptors)
    static final MethodHandle SYSCONF;           // libc: long sysconf(int name)

    /** {@code struct ibv_mr *ibv_reg_dmabuf_mr(struct ibv_pd *, uint64_t offset, size_t length, uint64_t iova,
     *  int fd, int access)}; the C probe checks the header declares exactly this (verbs_probe.c). */
    public static final FunctionDescriptor REG_DMABUF_MR_DESCRIPTOR = FunctionDescriptor.of(ADDRESS, ADDRESS,
            JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT);
    /** {@code struct ibv_mr *ibv_reg_mr_iova2(struct ibv_pd *, void *addr, size_t length, uint64_t iova,
     *  unsigned int access)}; the address travels as a {@code long}. */
    public static final FunctionDescriptor REG_MR_IOVA2_DESCRIPTOR = FunctionDescriptor.of(ADDRESS, ADDRESS,
            JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT);
    /** Linux x86-64 / aarch64 {@code _SC_PAGESIZE}. */
    private static final int SC_PAGESIZE = 30;

    // Address-first handles for the ops-table functions.
    /** int query_port(ibv_context *, uint8_t port, ibv_port_attr *, size_t attr_len) (verbs_context). */
    static final MethodHandle QUERY_PORT_EX = LINKER.downcallHandle(
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_BYTE, ADDRESS, JAVA_LONG));
    /** int poll_cq(ibv_cq *, int n, ibv_wc *). */
    public static final MethodHandle POLL_CQ = LINKER.downcallHandle(
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG), CRITICAL);
    /** int post_send(ibv_qp *, ibv_send_wr *, ibv_send_wr **bad). */
    public static final MethodHandle POST_SEND = LINKER.downcallHandle(
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG), CRITICAL);
    /** int post_recv(ibv_qp *, ibv_recv_wr *, ibv_recv_wr **bad). */
    public static final MethodHandle POST_RECV = LINKER.downcallHandle(
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG), CRITICAL);
    /** int post_srq_recv(ibv_srq *, ibv_recv_wr *, ibv_recv_wr **bad). */
    public static final MethodHandle POST_SRQ_RECV = LINKER.downcallHandle(
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG), CRITICAL);

    private static final Throwable LOAD_FAILURE;

    static {
        MethodHandle[] h = new MethodHandle[26];
        Throwable failure = null;
        try {
            SymbolLookup ibv = SymbolLookup.libraryLookup(SONAME, Arena.global());
            SymbolLookup libc = LINKER.defaultLookup();
            h[0] = bind(ibv, "ibv_get_device_list", FunctionDescriptor.of(ADDRESS, ADDRESS), ERRNO);
            h[1] = bind(ibv, "ibv_free_device_list", FunctionDescriptor.ofVoid(ADDRESS));
            h[2] = bind(ibv, "ibv_get_device_name", FunctionDescriptor.of(ADDRESS, ADDRESS));
            h[3] = bind(ibv, "ibv_open_device", FunctionDescriptor.of(ADDRESS, ADDRESS), ERRNO);
            h[4] = bind(ibv, "ibv_close_device", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            h[5] = bind(ibv, "ibv_query_device", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            h[6] = bind(ibv, "ibv_query_port", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_BYTE, ADDRESS));
            h[7] = bind(ibv, "_ibv_query_gid_ex", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                    ADDRESS, JAVA_INT, JAVA_LONG));
            h[8] = bind(ibv, "ibv_alloc_pd", FunctionDescriptor.of(ADDRESS, ADDRESS), ERRNO);
            h[9] = bind(ibv, "ibv_dealloc_pd", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            h[10] = bind(ibv, "ibv_reg_mr_iova2", REG_MR_IOVA2_DESCRIPTOR, ERRNO);
            h[11] = bind(ibv, "ibv_reg_dmabuf_mr", REG_DMABUF_MR_DESCRIPTOR, ERRNO);
            h[12] = bind(ibv, "ibv_dereg_mr", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            h[13] = bind(ibv, "ibv_create_cq", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS,
                    JAVA_INT), ERRNO);
            h[14] = bind(ibv, "ibv_destroy_cq", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            h[15] = bind(ibv, "ibv_create_srq", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), ERRNO);
            h[16] = bind(ibv, "ibv_destroy_srq", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            h[17] = bind(ibv, "ibv_create_qp", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), ERRNO);
            h[18] = bind(ibv, "ibv_destroy_qp", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            h[19] = bind(ibv, "ibv_modify_qp", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
            h[20] = bind(ibv, "ibv_create_ah", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), ERRNO);
            h[21] = bind(ibv, "ibv_destroy_ah", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            h[22] = bind(ibv, "ibv_wc_status_str", FunctionDescriptor.of(ADDRESS, JAVA_INT));
            h[23] = bind(libc, "strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
            h[24] = bind(libc, "close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), ERRNO);
            h[25] = bind(libc, "sysconf", FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
        } catch (Throwable t) {
            failure = t;
        }
        LOAD_FAILURE = failure;
        GET_DEVICE_LIST = h[0];
        FREE_DEVICE_LIST = h[1];
        GET_DEVICE_NAME = h[2];
        OPEN_DEVICE = h[3];
        CLOSE_DEVICE = h[4];
        QUERY_DEVICE = h[5];
        QUERY_PORT_COMPAT = h[6];
        QUERY_GID_EX = h[7];
        ALLOC_PD = h[8];
        DEALLOC_PD = h[9];
        REG_MR_IOVA2 = h[10];
        REG_DMABUF_MR = h[11];
        DEREG_MR = h[12];
        CREATE_CQ = h[13];
        DESTROY_CQ = h[14];
        CREATE_SRQ = h[15];
        DESTROY_SRQ = h[16];
        CREATE_QP = h[17];
        DESTROY_QP = h[18];
        MODIFY_QP = h[19];
        CREATE_AH = h[20];
        DESTROY_AH = h[21];
        WC_STATUS_STR = h[22];
        STRERROR = h[23];
        CLOSE = h[24];
        SYSCONF = h[25];
    }

    private VerbsLibrary() {
    }

    private static MethodHandle bind(SymbolLookup lookup, String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment symbol = lookup.find(name).orElseThrow(
                () -> new UnsatisfiedLinkError("symbol " + name + " not found in " + SONAME
                        + " (rdma-core older than 44?)"));
        return LINKER.downcallHandle(symbol, fd, options);
    }

    /** Null when libibverbs and every bound symbol loaded; otherwise why not. */
    public static Throwable loadFailure() {
        return LOAD_FAILURE;
    }

    /** Whether {@code symbol} resolves in libibverbs (for the layout test's symbol checks). */
    public static boolean hasSymbol(String symbol) {
        return LOAD_FAILURE == null
                && SymbolLookup.libraryLookup(SONAME, Arena.global()).find(symbol).isPresent();
    }

    /** The {@code errno} a call left in its capture-state segment. */
    static int errno(MemorySegment callState) {
        return callState.get(JAVA_INT, ERRNO_OFFSET);
    }

    /** The host page size ({@code sysconf(_SC_PAGESIZE)}); 4096 when libc could not be bound. */
    public static long pageSize() {
        try {
            long p = SYSCONF == null ? -1 : (long) SYSCONF.invokeExact(SC_PAGESIZE);
            return p > 0 && Long.bitCount(p) == 1 ? p : 4096;
        } catch (Throwable t) {
            return 4096;
        }
    }

    /** libc {@code close(fd)}; returns 0 or the errno. */
    public static int close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc = (int) CLOSE.invokeExact(state, fd);
            return rc == 0 ? 0 : errno(state);
        } catch (Throwable t) {
            throw NativeErrors.unexpected("close(" + fd + ")", t);
        }
    }

    /** libc's text for an errno value. */
    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.address() == 0 ? "errno " + errno : s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    /** {@code ibv_wc_status_str(status)}: libibverbs' own text for a completion status. */
    public static String wcStatusString(int status) {
        try {
            MemorySegment s = (MemorySegment) WC_STATUS_STR.invokeExact(status);
            return s.address() == 0 ? "status " + status : s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "status " + status;
        }
    }
}
