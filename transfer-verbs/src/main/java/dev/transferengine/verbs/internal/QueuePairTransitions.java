package dev.transferengine.verbs.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;

import static dev.transferengine.verbs.internal.Ibv.IBV_QPS_ERR;
import static dev.transferengine.verbs.internal.Ibv.IBV_QPS_INIT;
import static dev.transferengine.verbs.internal.Ibv.IBV_QPS_RTR;
import static dev.transferengine.verbs.internal.Ibv.IBV_QPS_RTS;
import static dev.transferengine.verbs.internal.Ibv.IBV_QP_ACCESS_FLAGS;
import static dev.transferengine.verbs.internal.Ibv.IBV_QP_AV;
import static dev.transferengine.verbs.internal.Ibv.IBV_QP_DEST_QPN;
import static dev.transferengine.verbs.internal.Ibv.IBV_QP_MAX_DEST_RD_ATOMIC;
import static dev.transferengine.verbs.internal.Ibv.IBV_QP_MAX_QP_RD_ATOMIC;
import static dev.transferengine.verbs.internal.Ibv.IBV_QP_MIN_RNR_TIMER;
import static dev.transferengine.verbs.internal.Ibv.IBV_QP_PATH_MTU;
import static dev.transferengine.verbs.internal.Ibv.IBV_QP_PKEY_INDEX;
import static dev.transferengine.verbs.internal.Ibv.IBV_QP_PORT;
import static dev.transferengine.verbs.internal.Ibv.IBV_QP_QKEY;
import static dev.transferengine.verbs.internal.Ibv.IBV_QP_RETRY_CNT;
import static dev.transferengine.verbs.internal.Ibv.IBV_QP_RNR_RETRY;
import static dev.transferengine.verbs.internal.Ibv.IBV_QP_RQ_PSN;
import static dev.transferengine.verbs.internal.Ibv.IBV_QP_SQ_PSN;
import static dev.transferengine.verbs.internal.Ibv.IBV_QP_STATE;
import static dev.transferengine.verbs.internal.Ibv.IBV_QP_TIMEOUT;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/** The {@code ibv_modify_qp} state transitions the provider uses, for RC and UD queue pairs. Stateless. */
final class QueuePairTransitions {
    /** RNR NAK timer code 12 = 0.64 ms, the usual default. */
    private static final int MIN_RNR_TIMER = 12;
    /** 7 = retry forever on "receiver not ready": a SEND waits until the peer posts a receive. */
    private static final int RNR_RETRY_INFINITE = 7;

    private QueuePairTransitions() {
    }

    /** RESET to INIT for an RC queue pair accepting remote writes. */
    public static void initRc(MemorySegment qp, int port, int access) {
        modify(qp, "INIT", IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS, a -> {
            a.set(JAVA_INT, off("qp_state"), IBV_QPS_INIT);
            a.set(JAVA_SHORT, off("pkey_index"), (short) 0);
            a.set(JAVA_BYTE, off("port_num"), (byte) port);
            a.set(JAVA_INT, off("qp_access_flags"), access);
        });
    }

    /** INIT to RTR: connect to the remote queue pair {@code remoteQpn} whose first PSN is {@code remotePsn}. */
    public static void readyToReceive(MemorySegment qp, Route route, int pathMtu, int remoteQpn, int remotePsn) {
        modify(qp, "RTR", IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN
                | IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER, a -> {
            a.set(JAVA_INT, off("qp_state"), IBV_QPS_RTR);
            route.writeTo(a, off("ah_attr"));
            a.set(JAVA_INT, off("path_mtu"), pathMtu);
            a.set(JAVA_INT, off("dest_qp_num"), remoteQpn);
            a.set(JAVA_INT, off("rq_psn"), remotePsn);
            a.set(JAVA_BYTE, off("max_dest_rd_atomic"), (byte) 1);
            a.set(JAVA_BYTE, off("min_rnr_timer"), (byte) MIN_RNR_TIMER);
        });
    }

    /**
     * RTR to RTS.
     *
     * @param psn        our first send PSN (the one we advertised to the peer)
     * @param ackTimeout local ACK timeout code: 4.096 us * 2^code per attempt
     * @param retryCount transport retries before the send fails with RETRY_EXC_ERR (0..7)
     */
    public static void readyToSend(MemorySegment qp, int psn, int ackTimeout, int retryCount) {
        modify(qp, "RTS", IBV_QP_STATE | IBV_QP_SQ_PSN | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY
                | IBV_QP_MAX_QP_RD_ATOMIC, a -> {
            a.set(JAVA_INT, off("qp_state"), IBV_QPS_RTS);
            a.set(JAVA_INT, off("sq_psn"), psn);
            a.set(JAVA_BYTE, off("timeout"), (byte) ackTimeout);
            a.set(JAVA_BYTE, off("retry_cnt"), (byte) retryCount);
            a.set(JAVA_BYTE, off("rnr_retry"), (byte) RNR_RETRY_INFINITE);
            a.set(JAVA_BYTE, off("max_rd_atomic"), (byte) 1);
        });
    }

    /** RESET to INIT to RTR to RTS for a UD queue pair with {@code qkey}. */
    public static void activateUd(MemorySegment qp, int port, int qkey, int psn) {
        modify(qp, "UD INIT", IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_QKEY, a -> {
            a.set(JAVA_INT, off("qp_state"), IBV_QPS_INIT);
            a.set(JAVA_SHORT, off("pkey_index"), (short) 0);
            a.set(JAVA_BYTE, off("port_num"), (byte) port);
            a.set(JAVA_INT, off("qkey"), qkey);
        });
        modify(qp, "UD RTR", IBV_QP_STATE, a -> a.set(JAVA_INT, off("qp_state"), IBV_QPS_RTR));
        modify(qp, "UD RTS", IBV_QP_STATE | IBV_QP_SQ_PSN, a -> {
            a.set(JAVA_INT, off("qp_state"), IBV_QPS_RTS);
            a.set(JAVA_INT, off("sq_psn"), psn);
        });
    }

    /** Any state to ERR: outstanding work requests complete with IBV_WC_WR_FLUSH_ERR. */
    public static void toError(MemorySegment qp) {
        modify(qp, "ERR", IBV_QP_STATE, a -> a.set(JAVA_INT, off("qp_state"), IBV_QPS_ERR));
    }

    private static void modify(MemorySegment qp, String what, int mask, Consumer<MemorySegment> fill) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(IbvLayouts.IBV_QP_ATTR);
            fill.accept(attr);
            int rc = (int) VerbsLibrary.MODIFY_QP.invokeExact(qp, attr, mask);
            if (rc != 0) {
                throw NativeErrors.call("ibv_modify_qp(" + what + ")", rc);
            }
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_modify_qp", t);
        }
    }

    private static long off(String field) {
        return IbvLayouts.offset(IbvLayouts.IBV_QP_ATTR, field);
    }
}
