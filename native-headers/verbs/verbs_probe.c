/*
 * Layout probe for the libibverbs bindings of transfer-verbs.
 *
 * Compiled at test time with gcc against the installed <infiniband/verbs.h> (libibverbs-dev) and run by
 * VerbsLayoutTest, which compares every line with the Java layouts and constants. Output: one
 * "key=value" per line:
 *   sizeof.<struct>=<bytes>            struct sizes
 *   <struct>.<field.path>=<offset>     member offsets (nested members joined with '.')
 *   <CONSTANT>=<value>                 enum and #define values, named exactly as in C
 *   verbs_context.<name>=<value>       offsets relative to struct ibv_context (negative: verbs_context
 *                                      grows towards lower addresses) and the minimum 'sz' for an op
 *   sig.<function>.argc=<n>            exported functions bound by name whose prototype is checked here at
 *   sig.<function>.ret|argN=<bytes>    compile time (_Static_assert: an exact match of the type) and whose
 *                                      return and parameter sizes must equal the Java FunctionDescriptor's
 * Every key printed here must have a Java counterpart: the probe is the checklist.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <infiniband/verbs.h>

#define SIZE(s) printf("sizeof.%s=%zu\n", #s, sizeof(struct s))
#define OFF(s, f) printf("%s.%s=%zu\n", #s, #f, offsetof(struct s, f))
#define UOFF(s, f) printf("%s.%s=%zu\n", #s, #f, offsetof(union s, f))
#define CONST(c) printf("%s=%lld\n", #c, (long long)(c))

/* ibv_query_port is an inline in the header: it calls verbs_context.query_port when the context is
 * extended and verbs_context.sz covers that member. */
static void verbs_context_offsets(void) {
    long ctx = (long)offsetof(struct verbs_context, context);
    printf("verbs_context.query_port=%ld\n", (long)offsetof(struct verbs_context, query_port) - ctx);
    printf("verbs_context.sz=%ld\n", (long)offsetof(struct verbs_context, sz) - ctx);
    printf("verbs_context.min_sz_query_port=%zu\n",
           sizeof(struct verbs_context) - offsetof(struct verbs_context, query_port));
}

/* Prototypes of exported functions, exactly as VerbsLibrary binds them: a header that declares another type
 * fails the compilation (and with it VerbsLayoutTest). ibv_reg_dmabuf_mr: rdma-core v34+. */
#define SIGNATURE(fn, type) \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&fn), type), #fn " is not declared as " #type)
SIGNATURE(ibv_reg_dmabuf_mr,
          struct ibv_mr *(*)(struct ibv_pd *, uint64_t, size_t, uint64_t, int, int));
SIGNATURE(ibv_reg_mr_iova2,
          struct ibv_mr *(*)(struct ibv_pd *, void *, size_t, uint64_t, unsigned int));

static void signatures(void) {
    printf("sig.ibv_reg_dmabuf_mr.argc=6\n");
    printf("sig.ibv_reg_dmabuf_mr.ret=%zu\n", sizeof(struct ibv_mr *));
    printf("sig.ibv_reg_dmabuf_mr.arg0=%zu\n", sizeof(struct ibv_pd *));
    printf("sig.ibv_reg_dmabuf_mr.arg1=%zu\n", sizeof(uint64_t)); /* offset into the dma-buf */
    printf("sig.ibv_reg_dmabuf_mr.arg2=%zu\n", sizeof(size_t));   /* length */
    printf("sig.ibv_reg_dmabuf_mr.arg3=%zu\n", sizeof(uint64_t)); /* iova */
    printf("sig.ibv_reg_dmabuf_mr.arg4=%zu\n", sizeof(int));      /* fd */
    printf("sig.ibv_reg_dmabuf_mr.arg5=%zu\n", sizeof(int));      /* access */
    printf("sig.ibv_reg_mr_iova2.argc=5\n");
    printf("sig.ibv_reg_mr_iova2.ret=%zu\n", sizeof(struct ibv_mr *));
    printf("sig.ibv_reg_mr_iova2.arg0=%zu\n", sizeof(struct ibv_pd *));
    printf("sig.ibv_reg_mr_iova2.arg1=%zu\n", sizeof(void *));        /* addr, bound as a long */
    printf("sig.ibv_reg_mr_iova2.arg2=%zu\n", sizeof(size_t));
    printf("sig.ibv_reg_mr_iova2.arg3=%zu\n", sizeof(uint64_t));
    printf("sig.ibv_reg_mr_iova2.arg4=%zu\n", sizeof(unsigned int));
}

int main(void) {
    signatures();

    SIZE(ibv_device);
    OFF(ibv_device, node_type);
    OFF(ibv_device, transport_type);
    OFF(ibv_device, name);
    OFF(ibv_device, dev_name);
    OFF(ibv_device, dev_path);
    OFF(ibv_device, ibdev_path);

    SIZE(ibv_context);
    OFF(ibv_context, device);
    OFF(ibv_context, ops.poll_cq);
    OFF(ibv_context, ops.post_srq_recv);
    OFF(ibv_context, ops.post_send);
    OFF(ibv_context, ops.post_recv);
    OFF(ibv_context, abi_compat);
    verbs_context_offsets();

    SIZE(ibv_device_attr);
    OFF(ibv_device_attr, max_mr_size);
    OFF(ibv_device_attr, max_qp);
    OFF(ibv_device_attr, max_qp_wr);
    OFF(ibv_device_attr, device_cap_flags);
    OFF(ibv_device_attr, max_sge);
    OFF(ibv_device_attr, max_cq);
    OFF(ibv_device_attr, max_cqe);
    OFF(ibv_device_attr, max_mr);
    OFF(ibv_device_attr, max_qp_rd_atom);
    OFF(ibv_device_attr, max_qp_init_rd_atom);
    OFF(ibv_device_attr, max_srq);
    OFF(ibv_device_attr, max_srq_wr);
    OFF(ibv_device_attr, max_srq_sge);
    OFF(ibv_device_attr, max_pkeys);
    OFF(ibv_device_attr, phys_port_cnt);

    SIZE(ibv_port_attr);
    OFF(ibv_port_attr, state);
    OFF(ibv_port_attr, max_mtu);
    OFF(ibv_port_attr, active_mtu);
    OFF(ibv_port_attr, gid_tbl_len);
    OFF(ibv_port_attr, port_cap_flags);
    OFF(ibv_port_attr, max_msg_sz);
    OFF(ibv_port_attr, lid);
    OFF(ibv_port_attr, active_width);
    OFF(ibv_port_attr, active_speed);
    OFF(ibv_port_attr, link_layer);
    OFF(ibv_port_attr, flags);
    OFF(ibv_port_attr, port_cap_flags2);

    printf("sizeof.ibv_gid=%zu\n", sizeof(union ibv_gid));
    UOFF(ibv_gid, global.subnet_prefix);
    UOFF(ibv_gid, global.interface_id);
    SIZE(ibv_gid_entry);
    OFF(ibv_gid_entry, gid);
    OFF(ibv_gid_entry, gid_index);
    OFF(ibv_gid_entry, port_num);
    OFF(ibv_gid_entry, gid_type);
    OFF(ibv_gid_entry, ndev_ifindex);

    SIZE(ibv_mr);
    OFF(ibv_mr, context);
    OFF(ibv_mr, addr);
    OFF(ibv_mr, length);
    OFF(ibv_mr, lkey);
    OFF(ibv_mr, rkey);

    SIZE(ibv_qp);
    OFF(ibv_qp, context);
    OFF(ibv_qp, qp_num);
    OFF(ibv_qp, state);
    OFF(ibv_qp, qp_type);

    SIZE(ibv_srq_init_attr);
    OFF(ibv_srq_init_attr, srq_context);
    OFF(ibv_srq_init_attr, attr.max_wr);
    OFF(ibv_srq_init_attr, attr.max_sge);
    OFF(ibv_srq_init_attr, attr.srq_limit);

    SIZE(ibv_sge);
    OFF(ibv_sge, addr);
    OFF(ibv_sge, length);
    OFF(ibv_sge, lkey);

    SIZE(ibv_send_wr);
    OFF(ibv_send_wr, wr_id);
    OFF(ibv_send_wr, next);
    OFF(ibv_send_wr, sg_list);
    OFF(ibv_send_wr, num_sge);
    OFF(ibv_send_wr, opcode);
    OFF(ibv_send_wr, send_flags);
    OFF(ibv_send_wr, imm_data);
    OFF(ibv_send_wr, wr.rdma.remote_addr);
    OFF(ibv_send_wr, wr.rdma.rkey);
    OFF(ibv_send_wr, wr.ud.ah);
    OFF(ibv_send_wr, wr.ud.remote_qpn);
    OFF(ibv_send_wr, wr.ud.remote_qkey);

    SIZE(ibv_recv_wr);
    OFF(ibv_recv_wr, wr_id);
    OFF(ibv_recv_wr, next);
    OFF(ibv_recv_wr, sg_list);
    OFF(ibv_recv_wr, num_sge);

    SIZE(ibv_wc);
    OFF(ibv_wc, wr_id);
    OFF(ibv_wc, status);
    OFF(ibv_wc, opcode);
    OFF(ibv_wc, vendor_err);
    OFF(ibv_wc, byte_len);
    OFF(ibv_wc, imm_data);
    OFF(ibv_wc, qp_num);
    OFF(ibv_wc, src_qp);
    OFF(ibv_wc, wc_flags);

    SIZE(ibv_qp_cap);
    SIZE(ibv_qp_init_attr);
    OFF(ibv_qp_init_attr, qp_context);
    OFF(ibv_qp_init_attr, send_cq);
    OFF(ibv_qp_init_attr, recv_cq);
    OFF(ibv_qp_init_attr, srq);
    OFF(ibv_qp_init_attr, cap.max_send_wr);
    OFF(ibv_qp_init_attr, cap.max_recv_wr);
    OFF(ibv_qp_init_attr, cap.max_send_sge);
    OFF(ibv_qp_init_attr, cap.max_recv_sge);
    OFF(ibv_qp_init_attr, cap.max_inline_data);
    OFF(ibv_qp_init_attr, qp_type);
    OFF(ibv_qp_init_attr, sq_sig_all);

    SIZE(ibv_global_route);
    SIZE(ibv_ah_attr);
    OFF(ibv_ah_attr, grh.dgid);
    OFF(ibv_ah_attr, grh.flow_label);
    OFF(ibv_ah_attr, grh.sgid_index);
    OFF(ibv_ah_attr, grh.hop_limit);
    OFF(ibv_ah_attr, grh.traffic_class);
    OFF(ibv_ah_attr, dlid);
    OFF(ibv_ah_attr, sl);
    OFF(ibv_ah_attr, src_path_bits);
    OFF(ibv_ah_attr, static_rate);
    OFF(ibv_ah_attr, is_global);
    OFF(ibv_ah_attr, port_num);

    SIZE(ibv_qp_attr);
    OFF(ibv_qp_attr, qp_state);
    OFF(ibv_qp_attr, cur_qp_state);
    OFF(ibv_qp_attr, path_mtu);
    OFF(ibv_qp_attr, qkey);
    OFF(ibv_qp_attr, rq_psn);
    OFF(ibv_qp_attr, sq_psn);
    OFF(ibv_qp_attr, dest_qp_num);
    OFF(ibv_qp_attr, qp_access_flags);
    OFF(ibv_qp_attr, cap);
    OFF(ibv_qp_attr, ah_attr);
    OFF(ibv_qp_attr, alt_ah_attr);
    OFF(ibv_qp_attr, pkey_index);
    OFF(ibv_qp_attr, max_rd_atomic);
    OFF(ibv_qp_attr, max_dest_rd_atomic);
    OFF(ibv_qp_attr, min_rnr_timer);
    OFF(ibv_qp_attr, port_num);
    OFF(ibv_qp_attr, timeout);
    OFF(ibv_qp_attr, retry_cnt);
    OFF(ibv_qp_attr, rnr_retry);
    OFF(ibv_qp_attr, rate_limit);

    /* Work-request opcodes and flags. */
    CONST(IBV_WR_RDMA_WRITE);
    CONST(IBV_WR_RDMA_WRITE_WITH_IMM);
    CONST(IBV_WR_SEND);
    CONST(IBV_SEND_FENCE);
    CONST(IBV_SEND_SIGNALED);
    CONST(IBV_SEND_SOLICITED);
    CONST(IBV_SEND_INLINE);
    /* Completions. */
    CONST(IBV_WC_SUCCESS);
    CONST(IBV_WC_LOC_LEN_ERR);
    CONST(IBV_WC_LOC_PROT_ERR);
    CONST(IBV_WC_WR_FLUSH_ERR);
    CONST(IBV_WC_REM_INV_REQ_ERR);
    CONST(IBV_WC_REM_ACCESS_ERR);
    CONST(IBV_WC_REM_OP_ERR);
    CONST(IBV_WC_RETRY_EXC_ERR);
    CONST(IBV_WC_RNR_RETRY_EXC_ERR);
    CONST(IBV_WC_RESP_TIMEOUT_ERR);
    CONST(IBV_WC_SEND);
    CONST(IBV_WC_RDMA_WRITE);
    CONST(IBV_WC_RECV);
    CONST(IBV_WC_RECV_RDMA_WITH_IMM);
    CONST(IBV_WC_WITH_IMM);
    CONST(IBV_WC_GRH);
    /* Memory access. */
    CONST(IBV_ACCESS_LOCAL_WRITE);
    CONST(IBV_ACCESS_REMOTE_WRITE);
    CONST(IBV_ACCESS_REMOTE_READ);
    CONST(IBV_ACCESS_RELAXED_ORDERING);
    CONST(IBV_ACCESS_OPTIONAL_RANGE);
    /* Queue pairs. */
    CONST(IBV_QPT_RC);
    CONST(IBV_QPT_UD);
    CONST(IBV_QPS_RESET);
    CONST(IBV_QPS_INIT);
    CONST(IBV_QPS_RTR);
    CONST(IBV_QPS_RTS);
    CONST(IBV_QPS_ERR);
    CONST(IBV_QP_STATE);
    CONST(IBV_QP_ACCESS_FLAGS);
    CONST(IBV_QP_PKEY_INDEX);
    CONST(IBV_QP_PORT);
    CONST(IBV_QP_QKEY);
    CONST(IBV_QP_AV);
    CONST(IBV_QP_PATH_MTU);
    CONST(IBV_QP_TIMEOUT);
    CONST(IBV_QP_RETRY_CNT);
    CONST(IBV_QP_RNR_RETRY);
    CONST(IBV_QP_RQ_PSN);
    CONST(IBV_QP_MAX_QP_RD_ATOMIC);
    CONST(IBV_QP_MIN_RNR_TIMER);
    CONST(IBV_QP_SQ_PSN);
    CONST(IBV_QP_MAX_DEST_RD_ATOMIC);
    CONST(IBV_QP_DEST_QPN);
    /* Ports and GIDs. */
    CONST(IBV_PORT_ACTIVE);
    CONST(IBV_LINK_LAYER_INFINIBAND);
    CONST(IBV_LINK_LAYER_ETHERNET);
    CONST(IBV_MTU_256);
    CONST(IBV_MTU_4096);
    CONST(IBV_GID_TYPE_IB);
    CONST(IBV_GID_TYPE_ROCE_V1);
    CONST(IBV_GID_TYPE_ROCE_V2);
    return 0;
}
