package dev.transferengine.verbs.internal;

/**
 * libibverbs constants, named exactly as in {@code <infiniband/verbs.h>} so that VerbsLayoutTest can match
 * every one of them, by name, against the C probe in {@code native-headers/verbs}.
 */
@SuppressWarnings("unused") // every constant is checked against the header, used or not
final class Ibv {
    private Ibv() {
    }

    // enum ibv_wr_opcode
    public static final int IBV_WR_RDMA_WRITE = 0;
    public static final int IBV_WR_RDMA_WRITE_WITH_IMM = 1;
    public static final int IBV_WR_SEND = 2;
    // enum ibv_send_flags
    public static final int IBV_SEND_FENCE = 1;
    public static final int IBV_SEND_SIGNALED = 2;
    public static final int IBV_SEND_SOLICITED = 4;
    public static final int IBV_SEND_INLINE = 8;

    // enum ibv_wc_status (the ones the provider names; ibv_wc_status_str gives the text of any)
    public static final int IBV_WC_SUCCESS = 0;
    public static final int IBV_WC_LOC_LEN_ERR = 1;
    public static final int IBV_WC_LOC_PROT_ERR = 4;
    public static final int IBV_WC_WR_FLUSH_ERR = 5;
    public static final int IBV_WC_REM_INV_REQ_ERR = 9;
    public static final int IBV_WC_REM_ACCESS_ERR = 10;
    public static final int IBV_WC_REM_OP_ERR = 11;
    public static final int IBV_WC_RETRY_EXC_ERR = 12;
    public static final int IBV_WC_RNR_RETRY_EXC_ERR = 13;
    public static final int IBV_WC_RESP_TIMEOUT_ERR = 20;
    // enum ibv_wc_opcode and ibv_wc_flags
    public static final int IBV_WC_SEND = 0;
    public static final int IBV_WC_RDMA_WRITE = 1;
    public static final int IBV_WC_RECV = 128;
    public static final int IBV_WC_RECV_RDMA_WITH_IMM = 129;
    public static final int IBV_WC_GRH = 1;
    public static final int IBV_WC_WITH_IMM = 2;

    // enum ibv_access_flags
    public static final int IBV_ACCESS_LOCAL_WRITE = 1;
    public static final int IBV_ACCESS_REMOTE_WRITE = 2;
    public static final int IBV_ACCESS_REMOTE_READ = 4;
    /** Optional flag: libibverbs drops it where the kernel or device does not support it. */
    public static final int IBV_ACCESS_RELAXED_ORDERING = 1 << 20;
    public static final int IBV_ACCESS_OPTIONAL_RANGE = 0x3ff00000;

    // enum ibv_qp_type, ibv_qp_state
    public static final int IBV_QPT_RC = 2;
    public static final int IBV_QPT_UD = 4;
    public static final int IBV_QPS_RESET = 0;
    public static final int IBV_QPS_INIT = 1;
    public static final int IBV_QPS_RTR = 2;
    public static final int IBV_QPS_RTS = 3;
    public static final int IBV_QPS_ERR = 6;

    // enum ibv_qp_attr_mask
    public static final int IBV_QP_STATE = 1;
    public static final int IBV_QP_ACCESS_FLAGS = 1 << 3;
    public static final int IBV_QP_PKEY_INDEX = 1 << 4;
    public static final int IBV_QP_PORT = 1 << 5;
    public static final int IBV_QP_QKEY = 1 << 6;
    public static final int IBV_QP_AV = 1 << 7;
    public static final int IBV_QP_PATH_MTU = 1 << 8;
    public static final int IBV_QP_TIMEOUT = 1 << 9;
    public static final int IBV_QP_RETRY_CNT = 1 << 10;
    public static final int IBV_QP_RNR_RETRY = 1 << 11;
    public static final int IBV_QP_RQ_PSN = 1 << 12;
    public static final int IBV_QP_MAX_QP_RD_ATOMIC = 1 << 13;
    public static final int IBV_QP_MIN_RNR_TIMER = 1 << 15;
    public static final int IBV_QP_SQ_PSN = 1 << 16;
    public static final int IBV_QP_MAX_DEST_RD_ATOMIC = 1 << 17;
    public static final int IBV_QP_DEST_QPN = 1 << 20;

    // ports and GIDs
    public static final int IBV_PORT_ACTIVE = 4;
    public static final int IBV_LINK_LAYER_INFINIBAND = 1;
    public static final int IBV_LINK_LAYER_ETHERNET = 2;
    public static final int IBV_MTU_256 = 1;
    public static final int IBV_MTU_4096 = 5;
    public static final int IBV_GID_TYPE_IB = 0;
    public static final int IBV_GID_TYPE_ROCE_V1 = 1;
    public static final int IBV_GID_TYPE_ROCE_V2 = 2;

    /** Bytes of GRH in front of every UD receive buffer (IB spec; present for RoCE as well). */
    public static final int GRH_BYTES = 40;

    /** The MTU in bytes of an {@code enum ibv_mtu} value (1 = 256 ... 5 = 4096). */
    public static int mtuBytes(int ibvMtu) {
        return 128 << ibvMtu;
    }
}
