package dev.transferengine.efa.internal;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.util.List;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * x86-64 / LP64 layouts of the libfabric 1.17 structs and the two libc structs the binding touches. Layout
 * and member names are the C names: {@code LibfabricLayoutTest} checks every size and every member offset
 * against the C probe compiled with the installed headers.
 *
 * <p>Rules that keep this honest: libfabric-owned structs ({@code fi_info} and its attrs, every fid) are
 * only ever read here, never allocated; structs we allocate ourselves get headroom (newer libfabric
 * versions append fields). {@code StructLayout} inserts no padding, so padding is spelled out.
 */
public final class FiLayouts {
    private FiLayouts() {
    }

    private static final MemoryLayout P = ADDRESS;
    private static final MemoryLayout SIZE_T = JAVA_LONG;
    private static final MemoryLayout U64 = JAVA_LONG;
    private static final MemoryLayout ENUM = JAVA_INT;

    private static StructLayout struct(String name, MemoryLayout... members) {
        return MemoryLayout.structLayout(members).withName(name);
    }

    /** An ops table: {@code size_t size} followed by function pointers. */
    private static StructLayout ops(String name, String... functions) {
        MemoryLayout[] m = new MemoryLayout[functions.length + 1];
        m[0] = SIZE_T.withName("size");
        for (int i = 0; i < functions.length; i++) {
            m[i + 1] = P.withName(functions[i]);
        }
        return struct(name, m);
    }

    public static long offset(StructLayout layout, String member) {
        return layout.byteOffset(groupElement(member));
    }

    // ---- fids and their ops tables --------------------------------------------------------------
    public static final StructLayout FID = struct("fid",
            SIZE_T.withName("fclass"), P.withName("context"), P.withName("ops"));
    public static final StructLayout FI_OPS = ops("fi_ops",
            "close", "bind", "control", "ops_open", "tostr", "ops_set");
    public static final StructLayout FID_FABRIC = struct("fid_fabric",
            FID.withName("fid"), P.withName("ops"), JAVA_INT.withName("api_version"), paddingLayout(4));
    public static final StructLayout FI_OPS_FABRIC = ops("fi_ops_fabric",
            "domain", "passive_ep", "eq_open", "wait_open", "trywait", "domain2");
    public static final StructLayout FID_DOMAIN = struct("fid_domain",
            FID.withName("fid"), P.withName("ops"), P.withName("mr"));
    public static final StructLayout FI_OPS_DOMAIN = ops("fi_ops_domain",
            "av_open", "cq_open", "endpoint", "scalable_ep", "cntr_open", "poll_open", "stx_ctx", "srx_ctx",
            "query_atomic", "query_collective", "endpoint2");
    public static final StructLayout FI_OPS_MR = ops("fi_ops_mr", "reg", "regv", "regattr");
    public static final StructLayout FID_EP = struct("fid_ep",
            FID.withName("fid"), P.withName("ops"), P.withName("cm"), P.withName("msg"), P.withName("rma"),
            P.withName("tagged"), P.withName("atomic"), P.withName("collective"));
    public static final StructLayout FI_OPS_CM = ops("fi_ops_cm",
            "setname", "getname", "getpeer", "connect", "listen", "accept", "reject", "shutdown", "join");
    public static final StructLayout FI_OPS_MSG = ops("fi_ops_msg",
            "recv", "recvv", "recvmsg", "send", "sendv", "sendmsg", "inject", "senddata", "injectdata");
    public static final StructLayout FI_OPS_RMA = ops("fi_ops_rma",
            "read", "readv", "readmsg", "write", "writev", "writemsg", "inject", "writedata", "injectdata");
    public static final StructLayout FID_MR = struct("fid_mr",
            FID.withName("fid"), P.withName("mem_desc"), U64.withName("key"));
    public static final StructLayout FID_AV = struct("fid_av", FID.withName("fid"), P.withName("ops"));
    public static final StructLayout FI_OPS_AV = ops("fi_ops_av",
            "insert", "insertsvc", "insertsym", "remove", "lookup", "straddr", "av_set");
    public static final StructLayout FID_CQ = struct("fid_cq", FID.withName("fid"), P.withName("ops"));
    public static final StructLayout FI_OPS_CQ = ops("fi_ops_cq",
            "read", "readfrom", "readerr", "sread", "sreadfrom", "signal", "strerror");
    public static final StructLayout FID_NIC = struct("fid_nic",
            FID.withName("fid"), P.withName("device_attr"), P.withName("bus_attr"), P.withName("link_attr"),
            P.withName("prov_attr"));

    // ---- fi_info and its attributes (libfabric-owned: read only) ----------------------------------
    public static final StructLayout FI_INFO = struct("fi_info",
            P.withName("next"), U64.withName("caps"), U64.withName("mode"), JAVA_INT.withName("addr_format"),
            paddingLayout(4), SIZE_T.withName("src_addrlen"), SIZE_T.withName("dest_addrlen"),
            P.withName("src_addr"), P.withName("dest_addr"), P.withName("handle"), P.withName("tx_attr"),
            P.withName("rx_attr"), P.withName("ep_attr"), P.withName("domain_attr"), P.withName("fabric_attr"),
            P.withName("nic"));
    public static final StructLayout FI_TX_ATTR = struct("fi_tx_attr",
            U64.withName("caps"), U64.withName("mode"), U64.withName("op_flags"), U64.withName("msg_order"),
            U64.withName("comp_order"), SIZE_T.withName("inject_size"), SIZE_T.withName("size"),
            SIZE_T.withName("iov_limit"), SIZE_T.withName("rma_iov_limit"), JAVA_INT.withName("tclass"),
            paddingLayout(4));
    public static final StructLayout FI_RX_ATTR = struct("fi_rx_attr",
            U64.withName("caps"), U64.withName("mode"), U64.withName("op_flags"), U64.withName("msg_order"),
            U64.withName("comp_order"), SIZE_T.withName("total_buffered_recv"), SIZE_T.withName("size"),
            SIZE_T.withName("iov_limit"));
    public static final StructLayout FI_EP_ATTR = struct("fi_ep_attr",
            ENUM.withName("type"), JAVA_INT.withName("protocol"), JAVA_INT.withName("protocol_version"),
            paddingLayout(4), SIZE_T.withName("max_msg_size"), SIZE_T.withName("msg_prefix_size"),
            SIZE_T.withName("max_order_raw_size"), SIZE_T.withName("max_order_war_size"),
            SIZE_T.withName("max_order_waw_size"), U64.withName("mem_tag_format"), SIZE_T.withName("tx_ctx_cnt"),
            SIZE_T.withName("rx_ctx_cnt"), SIZE_T.withName("auth_key_size"), P.withName("auth_key"));
    public static final StructLayout FI_DOMAIN_ATTR = struct("fi_domain_attr",
            P.withName("domain"), P.withName("name"), ENUM.withName("threading"),
            ENUM.withName("control_progress"), ENUM.withName("data_progress"), ENUM.withName("resource_mgmt"),
            ENUM.withName("av_type"), JAVA_INT.withName("mr_mode"), SIZE_T.withName("mr_key_size"),
            SIZE_T.withName("cq_data_size"), SIZE_T.withName("cq_cnt"), SIZE_T.withName("ep_cnt"),
            SIZE_T.withName("tx_ctx_cnt"), SIZE_T.withName("rx_ctx_cnt"), SIZE_T.withName("max_ep_tx_ctx"),
            SIZE_T.withName("max_ep_rx_ctx"), SIZE_T.withName("max_ep_stx_ctx"),
            SIZE_T.withName("max_ep_srx_ctx"), SIZE_T.withName("cntr_cnt"), SIZE_T.withName("mr_iov_limit"),
            U64.withName("caps"), U64.withName("mode"), P.withName("auth_key"), SIZE_T.withName("auth_key_size"),
            SIZE_T.withName("max_err_data"), SIZE_T.withName("mr_cnt"), JAVA_INT.withName("tclass"),
            paddingLayout(4));
    public static final StructLayout FI_FABRIC_ATTR = struct("fi_fabric_attr",
            P.withName("fabric"), P.withName("name"), P.withName("prov_name"), JAVA_INT.withName("prov_version"),
            JAVA_INT.withName("api_version"));
    public static final StructLayout FI_LINK_ATTR = struct("fi_link_attr",
            P.withName("address"), SIZE_T.withName("mtu"), SIZE_T.withName("speed"), ENUM.withName("state"),
            paddingLayout(4), P.withName("network_type"));

    // ---- inputs we allocate (zero-filled, with headroom) -----------------------------------------
    public static final StructLayout FI_AV_ATTR = struct("fi_av_attr",
            ENUM.withName("type"), JAVA_INT.withName("rx_ctx_bits"), SIZE_T.withName("count"),
            SIZE_T.withName("ep_per_node"), P.withName("name"), P.withName("map_addr"), U64.withName("flags"));
    public static final StructLayout FI_CQ_ATTR = struct("fi_cq_attr",
            SIZE_T.withName("size"), U64.withName("flags"), ENUM.withName("format"), ENUM.withName("wait_obj"),
            JAVA_INT.withName("signaling_vector"), ENUM.withName("wait_cond"), P.withName("wait_set"));
    public static final StructLayout FI_CQ_DATA_ENTRY = struct("fi_cq_data_entry",
            P.withName("op_context"), U64.withName("flags"), SIZE_T.withName("len"), P.withName("buf"),
            U64.withName("data"));
    public static final StructLayout FI_CQ_ERR_ENTRY = struct("fi_cq_err_entry",
            P.withName("op_context"), U64.withName("flags"), SIZE_T.withName("len"), P.withName("buf"),
            U64.withName("data"), U64.withName("tag"), SIZE_T.withName("olen"), JAVA_INT.withName("err"),
            JAVA_INT.withName("prov_errno"), P.withName("err_data"), SIZE_T.withName("err_data_size"));
    public static final StructLayout FI_MSG = struct("fi_msg",
            P.withName("msg_iov"), P.withName("desc"), SIZE_T.withName("iov_count"), U64.withName("addr"),
            P.withName("context"), U64.withName("data"));
    public static final StructLayout FI_MSG_RMA = struct("fi_msg_rma",
            P.withName("msg_iov"), P.withName("desc"), SIZE_T.withName("iov_count"), U64.withName("addr"),
            P.withName("rma_iov"), SIZE_T.withName("rma_iov_count"), P.withName("context"), U64.withName("data"));
    public static final StructLayout FI_RMA_IOV = struct("fi_rma_iov",
            U64.withName("addr"), SIZE_T.withName("len"), U64.withName("key"));
    /**
     * {@code struct fi_mr_attr} (1.17): {@code device} is a union of {@code uint64_t reserved} and the {@code int}
     * ordinals ({@code cuda}, {@code ze}, ...), all at offset 0; we write the CUDA ordinal as an int into the zeroed
     * union. libfabric 1.18+ appends fields; we pass API version 1.17 and allocate with headroom.
     */
    public static final StructLayout FI_MR_ATTR = struct("fi_mr_attr",
            P.withName("mr_iov"), SIZE_T.withName("iov_count"), U64.withName("access"), U64.withName("offset"),
            U64.withName("requested_key"), P.withName("context"), SIZE_T.withName("auth_key_size"),
            P.withName("auth_key"), ENUM.withName("iface"), paddingLayout(4), U64.withName("device"));
    public static final StructLayout IOVEC = struct("iovec", P.withName("iov_base"), SIZE_T.withName("iov_len"));
    public static final StructLayout FI_CONTEXT = struct("fi_context", sequenceLayout(4, P).withName("internal"));
    public static final StructLayout FI_CONTEXT2 = struct("fi_context2", sequenceLayout(8, P).withName("internal"));

    // ---- libc ------------------------------------------------------------------------------------
    public static final StructLayout SIGACTION = struct("sigaction",
            P.withName("sa_handler"), sequenceLayout(16, JAVA_LONG).withName("sa_mask"),
            JAVA_INT.withName("sa_flags"), paddingLayout(4), P.withName("sa_restorer"));
    public static final StructLayout DL_INFO = struct("Dl_info",
            P.withName("dli_fname"), P.withName("dli_fbase"), P.withName("dli_sname"), P.withName("dli_saddr"));

    /** Members the test must not look up in the probe (array payloads with no C member name). */
    public static final List<String> OPAQUE_MEMBERS = List.of("internal");

    /** Every layout above, for the layout test. */
    public static final List<StructLayout> ALL = List.of(FID, FI_OPS, FID_FABRIC, FI_OPS_FABRIC, FID_DOMAIN,
            FI_OPS_DOMAIN, FI_OPS_MR, FID_EP, FI_OPS_CM, FI_OPS_MSG, FI_OPS_RMA, FID_MR, FID_AV, FI_OPS_AV, FID_CQ,
            FI_OPS_CQ, FID_NIC, FI_INFO, FI_TX_ATTR, FI_RX_ATTR, FI_EP_ATTR, FI_DOMAIN_ATTR, FI_FABRIC_ATTR,
            FI_LINK_ATTR, FI_AV_ATTR, FI_CQ_ATTR, FI_CQ_DATA_ENTRY, FI_CQ_ERR_ENTRY, FI_MSG, FI_MSG_RMA,
            FI_RMA_IOV, FI_MR_ATTR, IOVEC, FI_CONTEXT, FI_CONTEXT2, SIGACTION, DL_INFO);

    // ---- offsets used by the code (derived, so the test above covers them) -------------------------
    public static final long FID_OPS = offset(FID, "ops");
    public static final long FABRIC_OPS = offset(FID_FABRIC, "ops");
    public static final long DOMAIN_OPS = offset(FID_DOMAIN, "ops");
    public static final long DOMAIN_MR = offset(FID_DOMAIN, "mr");
    public static final long EP_CM = offset(FID_EP, "cm");
    public static final long EP_MSG = offset(FID_EP, "msg");
    public static final long EP_RMA = offset(FID_EP, "rma");
    public static final long MR_MEM_DESC = offset(FID_MR, "mem_desc");
    public static final long MR_KEY = offset(FID_MR, "key");
    public static final long AV_OPS = offset(FID_AV, "ops");
    public static final long CQ_OPS = offset(FID_CQ, "ops");
    public static final long NIC_LINK_ATTR = offset(FID_NIC, "link_attr");
    public static final long LINK_SPEED = offset(FI_LINK_ATTR, "speed");

    public static final long INFO_NEXT = offset(FI_INFO, "next");
    public static final long INFO_CAPS = offset(FI_INFO, "caps");
    public static final long INFO_MODE = offset(FI_INFO, "mode");
    public static final long INFO_ADDR_FORMAT = offset(FI_INFO, "addr_format");
    public static final long INFO_SRC_ADDRLEN = offset(FI_INFO, "src_addrlen");
    public static final long INFO_TX_ATTR = offset(FI_INFO, "tx_attr");
    public static final long INFO_RX_ATTR = offset(FI_INFO, "rx_attr");
    public static final long INFO_EP_ATTR = offset(FI_INFO, "ep_attr");
    public static final long INFO_DOMAIN_ATTR = offset(FI_INFO, "domain_attr");
    public static final long INFO_FABRIC_ATTR = offset(FI_INFO, "fabric_attr");
    public static final long INFO_NIC = offset(FI_INFO, "nic");
    public static final long TX_MODE = offset(FI_TX_ATTR, "mode");
    public static final long TX_INJECT_SIZE = offset(FI_TX_ATTR, "inject_size");
    public static final long TX_SIZE = offset(FI_TX_ATTR, "size");
    public static final long RX_MODE = offset(FI_RX_ATTR, "mode");
    public static final long RX_SIZE = offset(FI_RX_ATTR, "size");
    public static final long EP_ATTR_TYPE = offset(FI_EP_ATTR, "type");
    public static final long EP_ATTR_MAX_MSG_SIZE = offset(FI_EP_ATTR, "max_msg_size");
    public static final long DOMAIN_ATTR_NAME = offset(FI_DOMAIN_ATTR, "name");
    public static final long DOMAIN_ATTR_THREADING = offset(FI_DOMAIN_ATTR, "threading");
    public static final long DOMAIN_ATTR_DATA_PROGRESS = offset(FI_DOMAIN_ATTR, "data_progress");
    public static final long DOMAIN_ATTR_AV_TYPE = offset(FI_DOMAIN_ATTR, "av_type");
    public static final long DOMAIN_ATTR_MR_MODE = offset(FI_DOMAIN_ATTR, "mr_mode");
    public static final long DOMAIN_ATTR_CQ_DATA_SIZE = offset(FI_DOMAIN_ATTR, "cq_data_size");
    public static final long FABRIC_ATTR_NAME = offset(FI_FABRIC_ATTR, "name");
    public static final long FABRIC_ATTR_PROV_NAME = offset(FI_FABRIC_ATTR, "prov_name");

    public static final long AV_ATTR_TYPE = offset(FI_AV_ATTR, "type");
    public static final long AV_ATTR_COUNT = offset(FI_AV_ATTR, "count");
    public static final long CQ_ATTR_SIZE = offset(FI_CQ_ATTR, "size");
    public static final long CQ_ATTR_FORMAT = offset(FI_CQ_ATTR, "format");
    public static final long CQ_ATTR_WAIT_OBJ = offset(FI_CQ_ATTR, "wait_obj");
    public static final long CQE_OP_CONTEXT = offset(FI_CQ_DATA_ENTRY, "op_context");
    public static final long CQE_FLAGS = offset(FI_CQ_DATA_ENTRY, "flags");
    public static final long CQE_LEN = offset(FI_CQ_DATA_ENTRY, "len");
    public static final long CQE_DATA = offset(FI_CQ_DATA_ENTRY, "data");
    public static final long ERR_OP_CONTEXT = offset(FI_CQ_ERR_ENTRY, "op_context");
    public static final long ERR_FLAGS = offset(FI_CQ_ERR_ENTRY, "flags");
    public static final long ERR_OLEN = offset(FI_CQ_ERR_ENTRY, "olen");
    public static final long ERR_ERR = offset(FI_CQ_ERR_ENTRY, "err");
    public static final long ERR_PROV_ERRNO = offset(FI_CQ_ERR_ENTRY, "prov_errno");
    public static final long ERR_ERR_DATA = offset(FI_CQ_ERR_ENTRY, "err_data");
    public static final long ERR_ERR_DATA_SIZE = offset(FI_CQ_ERR_ENTRY, "err_data_size");
    public static final long MSG_IOV = offset(FI_MSG, "msg_iov");
    public static final long MSG_DESC = offset(FI_MSG, "desc");
    public static final long MSG_IOV_COUNT = offset(FI_MSG, "iov_count");
    public static final long MSG_ADDR = offset(FI_MSG, "addr");
    public static final long MSG_CONTEXT = offset(FI_MSG, "context");
    public static final long MSG_DATA = offset(FI_MSG, "data");
    public static final long RMA_MSG_IOV = offset(FI_MSG_RMA, "msg_iov");
    public static final long RMA_MSG_DESC = offset(FI_MSG_RMA, "desc");
    public static final long RMA_MSG_IOV_COUNT = offset(FI_MSG_RMA, "iov_count");
    public static final long RMA_MSG_ADDR = offset(FI_MSG_RMA, "addr");
    public static final long RMA_MSG_RMA_IOV = offset(FI_MSG_RMA, "rma_iov");
    public static final long RMA_MSG_RMA_IOV_COUNT = offset(FI_MSG_RMA, "rma_iov_count");
    public static final long RMA_MSG_CONTEXT = offset(FI_MSG_RMA, "context");
    public static final long RMA_MSG_DATA = offset(FI_MSG_RMA, "data");
    public static final long RMA_IOV_ADDR = offset(FI_RMA_IOV, "addr");
    public static final long RMA_IOV_LEN = offset(FI_RMA_IOV, "len");
    public static final long RMA_IOV_KEY = offset(FI_RMA_IOV, "key");
    public static final long MR_ATTR_MR_IOV = offset(FI_MR_ATTR, "mr_iov");
    public static final long MR_ATTR_IOV_COUNT = offset(FI_MR_ATTR, "iov_count");
    public static final long MR_ATTR_ACCESS = offset(FI_MR_ATTR, "access");
    public static final long MR_ATTR_OFFSET = offset(FI_MR_ATTR, "offset");
    public static final long MR_ATTR_REQUESTED_KEY = offset(FI_MR_ATTR, "requested_key");
    public static final long MR_ATTR_IFACE = offset(FI_MR_ATTR, "iface");
    public static final long MR_ATTR_DEVICE = offset(FI_MR_ATTR, "device");
    public static final long IOV_BASE = offset(IOVEC, "iov_base");
    public static final long IOV_LEN = offset(IOVEC, "iov_len");
    public static final long SIGACTION_HANDLER = offset(SIGACTION, "sa_handler");
    public static final long SIGACTION_FLAGS = offset(SIGACTION, "sa_flags");
    public static final long DL_INFO_FNAME = offset(DL_INFO, "dli_fname");

    /** Bytes we allocate for structs libfabric may grow (newer versions append fields). */
    public static final long INPUT_HEADROOM_BYTES = 256;
}
