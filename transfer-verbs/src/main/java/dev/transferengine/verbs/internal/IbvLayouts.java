package dev.transferengine.verbs.internal;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;
import java.lang.foreign.UnionLayout;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * x86-64 layouts of the libibverbs structs the provider reads or writes (rdma-core 44 headers). Member
 * names are the C names, so VerbsLayoutTest can compare each {@code offsetof} the C probe prints with
 * {@link #offset(String)}. Only members we touch are named; the rest is padding of the right size.
 */
final class IbvLayouts {
    private IbvLayouts() {
    }

    private static MemoryLayout pad(long bytes) {
        return MemoryLayout.paddingLayout(bytes);
    }

    private static MemoryLayout chars(long n, String name) {
        return MemoryLayout.sequenceLayout(n, JAVA_BYTE).withName(name);
    }

    public static final StructLayout IBV_DEVICE = MemoryLayout.structLayout(
            pad(16), // struct _ibv_device_ops: two obsolete function pointers
            JAVA_INT.withName("node_type"),
            JAVA_INT.withName("transport_type"),
            chars(64, "name"),
            chars(64, "dev_name"),
            chars(256, "dev_path"),
            chars(256, "ibdev_path")).withName("ibv_device");

    /** struct ibv_context_ops: 32 function pointers; the data path calls four of them. */
    private static final StructLayout IBV_CONTEXT_OPS = MemoryLayout.structLayout(
            pad(88),
            ADDRESS.withName("poll_cq"),
            pad(64),
            ADDRESS.withName("post_srq_recv"),
            pad(32),
            ADDRESS.withName("post_send"),
            ADDRESS.withName("post_recv"),
            pad(40)).withName("ops");

    public static final StructLayout IBV_CONTEXT = MemoryLayout.structLayout(
            ADDRESS.withName("device"),
            IBV_CONTEXT_OPS,
            JAVA_INT.withName("cmd_fd"),
            JAVA_INT.withName("async_fd"),
            JAVA_INT.withName("num_comp_vectors"),
            pad(4),
            pad(40), // pthread_mutex_t
            ADDRESS.withName("abi_compat")).withName("ibv_context");

    public static final StructLayout IBV_DEVICE_ATTR = MemoryLayout.structLayout(
            chars(64, "fw_ver"),
            JAVA_LONG.withName("node_guid"),
            JAVA_LONG.withName("sys_image_guid"),
            JAVA_LONG.withName("max_mr_size"),
            JAVA_LONG.withName("page_size_cap"),
            JAVA_INT.withName("vendor_id"),
            JAVA_INT.withName("vendor_part_id"),
            JAVA_INT.withName("hw_ver"),
            JAVA_INT.withName("max_qp"),
            JAVA_INT.withName("max_qp_wr"),
            JAVA_INT.withName("device_cap_flags"),
            JAVA_INT.withName("max_sge"),
            JAVA_INT.withName("max_sge_rd"),
            JAVA_INT.withName("max_cq"),
            JAVA_INT.withName("max_cqe"),
            JAVA_INT.withName("max_mr"),
            JAVA_INT.withName("max_pd"),
            JAVA_INT.withName("max_qp_rd_atom"),
            JAVA_INT.withName("max_ee_rd_atom"),
            JAVA_INT.withName("max_res_rd_atom"),
            JAVA_INT.withName("max_qp_init_rd_atom"),
            pad(4 * 13), // max_ee_init_rd_atom .. max_map_per_fmr
            JAVA_INT.withName("max_srq"),
            JAVA_INT.withName("max_srq_wr"),
            JAVA_INT.withName("max_srq_sge"),
            JAVA_SHORT.withName("max_pkeys"),
            JAVA_BYTE.withName("local_ca_ack_delay"),
            JAVA_BYTE.withName("phys_port_cnt"),
            pad(4)).withName("ibv_device_attr");

    public static final StructLayout IBV_PORT_ATTR = MemoryLayout.structLayout(
            JAVA_INT.withName("state"),
            JAVA_INT.withName("max_mtu"),
            JAVA_INT.withName("active_mtu"),
            JAVA_INT.withName("gid_tbl_len"),
            JAVA_INT.withName("port_cap_flags"),
            JAVA_INT.withName("max_msg_sz"),
            JAVA_INT.withName("bad_pkey_cntr"),
            JAVA_INT.withName("qkey_viol_cntr"),
            JAVA_SHORT.withName("pkey_tbl_len"),
            JAVA_SHORT.withName("lid"),
            JAVA_SHORT.withName("sm_lid"),
            JAVA_BYTE.withName("lmc"),
            JAVA_BYTE.withName("max_vl_num"),
            JAVA_BYTE.withName("sm_sl"),
            JAVA_BYTE.withName("subnet_timeout"),
            JAVA_BYTE.withName("init_type_reply"),
            JAVA_BYTE.withName("active_width"),
            JAVA_BYTE.withName("active_speed"),
            JAVA_BYTE.withName("phys_state"),
            JAVA_BYTE.withName("link_layer"),
            JAVA_BYTE.withName("flags"),
            JAVA_SHORT.withName("port_cap_flags2"),
            pad(2)).withName("ibv_port_attr");

    public static final UnionLayout IBV_GID = MemoryLayout.unionLayout(
            chars(16, "raw"),
            MemoryLayout.structLayout(
                    JAVA_LONG.withName("subnet_prefix"),
                    JAVA_LONG.withName("interface_id")).withName("global")).withName("ibv_gid");

    public static final StructLayout IBV_GID_ENTRY = MemoryLayout.structLayout(
            IBV_GID.withName("gid"),
            JAVA_INT.withName("gid_index"),
            JAVA_INT.withName("port_num"),
            JAVA_INT.withName("gid_type"),
            JAVA_INT.withName("ndev_ifindex")).withName("ibv_gid_entry");

    public static final StructLayout IBV_MR = MemoryLayout.structLayout(
            ADDRESS.withName("context"),
            ADDRESS.withName("pd"),
            ADDRESS.withName("addr"),
            JAVA_LONG.withName("length"),
            JAVA_INT.withName("handle"),
            JAVA_INT.withName("lkey"),
            JAVA_INT.withName("rkey"),
            pad(4)).withName("ibv_mr");

    public static final StructLayout IBV_QP = MemoryLayout.structLayout(
            ADDRESS.withName("context"),
            ADDRESS.withName("qp_context"),
            ADDRESS.withName("pd"),
            ADDRESS.withName("send_cq"),
            ADDRESS.withName("recv_cq"),
            ADDRESS.withName("srq"),
            JAVA_INT.withName("handle"),
            JAVA_INT.withName("qp_num"),
            JAVA_INT.withName("state"),
            JAVA_INT.withName("qp_type"),
            pad(40 + 48), // pthread_mutex_t, pthread_cond_t
            JAVA_INT.withName("events_completed"),
            pad(4)).withName("ibv_qp");

    public static final StructLayout IBV_SRQ_INIT_ATTR = MemoryLayout.structLayout(
            ADDRESS.withName("srq_context"),
            MemoryLayout.structLayout(
                    JAVA_INT.withName("max_wr"),
                    JAVA_INT.withName("max_sge"),
                    JAVA_INT.withName("srq_limit")).withName("attr"),
            pad(4)).withName("ibv_srq_init_attr");

    public static final StructLayout IBV_SGE = MemoryLayout.structLayout(
            JAVA_LONG.withName("addr"),
            JAVA_INT.withName("length"),
            JAVA_INT.withName("lkey")).withName("ibv_sge");

    public static final StructLayout IBV_SEND_WR = MemoryLayout.structLayout(
            JAVA_LONG.withName("wr_id"),
            ADDRESS.withName("next"),
            ADDRESS.withName("sg_list"),
            JAVA_INT.withName("num_sge"),
            JAVA_INT.withName("opcode"),
            JAVA_INT.withName("send_flags"),
            JAVA_INT.withName("imm_data"), // big-endian on the wire (union with invalidate_rkey)
            MemoryLayout.unionLayout(
                    MemoryLayout.structLayout(
                            JAVA_LONG.withName("remote_addr"),
                            JAVA_INT.withName("rkey"),
                            pad(20)).withName("rdma"), // padded to the size of the atomic member
                    MemoryLayout.structLayout(
                            ADDRESS.withName("ah"),
                            JAVA_INT.withName("remote_qpn"),
                            JAVA_INT.withName("remote_qkey")).withName("ud")).withName("wr"),
            pad(8 + 48)).withName("ibv_send_wr"); // qp_type (xrc) union + padding, bind_mw/tso union

    public static final StructLayout IBV_RECV_WR = MemoryLayout.structLayout(
            JAVA_LONG.withName("wr_id"),
            ADDRESS.withName("next"),
            ADDRESS.withName("sg_list"),
            JAVA_INT.withName("num_sge"),
            pad(4)).withName("ibv_recv_wr");

    public static final StructLayout IBV_WC = MemoryLayout.structLayout(
            JAVA_LONG.withName("wr_id"),
            JAVA_INT.withName("status"),
            JAVA_INT.withName("opcode"),
            JAVA_INT.withName("vendor_err"),
            JAVA_INT.withName("byte_len"),
            JAVA_INT.withName("imm_data"), // big-endian
            JAVA_INT.withName("qp_num"),
            JAVA_INT.withName("src_qp"),
            JAVA_INT.withName("wc_flags"),
            JAVA_SHORT.withName("pkey_index"),
            JAVA_SHORT.withName("slid"),
            JAVA_BYTE.withName("sl"),
            JAVA_BYTE.withName("dlid_path_bits"),
            pad(2)).withName("ibv_wc");

    public static final StructLayout IBV_QP_CAP = MemoryLayout.structLayout(
            JAVA_INT.withName("max_send_wr"),
            JAVA_INT.withName("max_recv_wr"),
            JAVA_INT.withName("max_send_sge"),
            JAVA_INT.withName("max_recv_sge"),
            JAVA_INT.withName("max_inline_data")).withName("ibv_qp_cap");

    public static final StructLayout IBV_QP_INIT_ATTR = MemoryLayout.structLayout(
            ADDRESS.withName("qp_context"),
            ADDRESS.withName("send_cq"),
            ADDRESS.withName("recv_cq"),
            ADDRESS.withName("srq"),
            IBV_QP_CAP.withName("cap"),
            JAVA_INT.withName("qp_type"),
            JAVA_INT.withName("sq_sig_all"),
            pad(4)).withName("ibv_qp_init_attr");

    public static final StructLayout IBV_GLOBAL_ROUTE = MemoryLayout.structLayout(
            IBV_GID.withName("dgid"),
            JAVA_INT.withName("flow_label"),
            JAVA_BYTE.withName("sgid_index"),
            JAVA_BYTE.withName("hop_limit"),
            JAVA_BYTE.withName("traffic_class"),
            pad(1)).withName("ibv_global_route");

    public static final StructLayout IBV_AH_ATTR = MemoryLayout.structLayout(
            IBV_GLOBAL_ROUTE.withName("grh"),
            JAVA_SHORT.withName("dlid"),
            JAVA_BYTE.withName("sl"),
            JAVA_BYTE.withName("src_path_bits"),
            JAVA_BYTE.withName("static_rate"),
            JAVA_BYTE.withName("is_global"),
            JAVA_BYTE.withName("port_num"),
            pad(1)).withName("ibv_ah_attr");

    public static final StructLayout IBV_QP_ATTR = MemoryLayout.structLayout(
            JAVA_INT.withName("qp_state"),
            JAVA_INT.withName("cur_qp_state"),
            JAVA_INT.withName("path_mtu"),
            JAVA_INT.withName("path_mig_state"),
            JAVA_INT.withName("qkey"),
            JAVA_INT.withName("rq_psn"),
            JAVA_INT.withName("sq_psn"),
            JAVA_INT.withName("dest_qp_num"),
            JAVA_INT.withName("qp_access_flags"),
            IBV_QP_CAP.withName("cap"),
            IBV_AH_ATTR.withName("ah_attr"),
            IBV_AH_ATTR.withName("alt_ah_attr"),
            JAVA_SHORT.withName("pkey_index"),
            JAVA_SHORT.withName("alt_pkey_index"),
            JAVA_BYTE.withName("en_sqd_async_notify"),
            JAVA_BYTE.withName("sq_draining"),
            JAVA_BYTE.withName("max_rd_atomic"),
            JAVA_BYTE.withName("max_dest_rd_atomic"),
            JAVA_BYTE.withName("min_rnr_timer"),
            JAVA_BYTE.withName("port_num"),
            JAVA_BYTE.withName("timeout"),
            JAVA_BYTE.withName("retry_cnt"),
            JAVA_BYTE.withName("rnr_retry"),
            JAVA_BYTE.withName("alt_port_num"),
            JAVA_BYTE.withName("alt_timeout"),
            pad(1),
            JAVA_INT.withName("rate_limit"),
            pad(4)).withName("ibv_qp_attr");

    /** Every layout by its C name, for the layout test. */
    public static final Map<String, GroupLayout> BY_C_NAME = Map.ofEntries(
            Map.entry("ibv_device", IBV_DEVICE),
            Map.entry("ibv_context", IBV_CONTEXT),
            Map.entry("ibv_device_attr", IBV_DEVICE_ATTR),
            Map.entry("ibv_port_attr", IBV_PORT_ATTR),
            Map.entry("ibv_gid", IBV_GID),
            Map.entry("ibv_gid_entry", IBV_GID_ENTRY),
            Map.entry("ibv_mr", IBV_MR),
            Map.entry("ibv_qp", IBV_QP),
            Map.entry("ibv_srq_init_attr", IBV_SRQ_INIT_ATTR),
            Map.entry("ibv_sge", IBV_SGE),
            Map.entry("ibv_send_wr", IBV_SEND_WR),
            Map.entry("ibv_recv_wr", IBV_RECV_WR),
            Map.entry("ibv_wc", IBV_WC),
            Map.entry("ibv_qp_cap", IBV_QP_CAP),
            Map.entry("ibv_qp_init_attr", IBV_QP_INIT_ATTR),
            Map.entry("ibv_global_route", IBV_GLOBAL_ROUTE),
            Map.entry("ibv_ah_attr", IBV_AH_ATTR),
            Map.entry("ibv_qp_attr", IBV_QP_ATTR));

    /** Byte offset of a dotted member path ("wr.rdma.rkey") inside {@code layout}. */
    public static long offset(GroupLayout layout, String dottedPath) {
        String[] names = dottedPath.split("\\.");
        PathElement[] path = new PathElement[names.length];
        for (int i = 0; i < names.length; i++) {
            path[i] = PathElement.groupElement(names[i]);
        }
        return layout.byteOffset(path);
    }
}
