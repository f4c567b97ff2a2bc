package dev.transferengine.verbs;

/**
 * The verbs provider's option keys ({@code TransferEngine.Builder.providerOption(key, value)}, or the system
 * property {@code te.<key>}). An unknown {@code verbs.*} key is rejected when the engine is built, with the list of
 * the known ones. docs/verbs.md describes each.
 */
public final class VerbsOptions {
    /** Only this device ("mlx5_0", "rxe0"); unset = every device. */
    public static final String DEVICE = "verbs.device";

    /** Port number; 0 (default) = the first active port of each device. */
    public static final String PORT = "verbs.port";

    /** GID table index; -1 (default) = choose (RoCE v2 with an IPv4-mapped address first). */
    public static final String GID_INDEX = "verbs.gidIndex";

    /** RC queue pairs per peer for WRITEs, 1..16 (default 1); both sides use the smaller count. */
    public static final String RMA_QPS_PER_PEER = "verbs.rmaQpsPerPeer";

    /** Send work requests per queue pair, a power of two (default 256). */
    public static final String SEND_QUEUE_DEPTH = "verbs.sendQueueDepth";

    /** Completion queue entries per domain (default 8192; capped by the device). */
    public static final String COMPLETION_QUEUE_DEPTH = "verbs.completionQueueDepth";

    /** Receives the SEND/RECV shared receive queue holds (default 512). */
    public static final String MESSAGE_RECEIVE_DEPTH = "verbs.messageReceiveDepth";

    /** Zero-length receives kept posted for WRITE_WITH_IMM (default 1024). */
    public static final String IMM_RECEIVE_DEPTH = "verbs.immReceiveDepth";

    /** A send work request is signalled at least every this many (default 16; at most half the send queue). */
    public static final String SIGNAL_INTERVAL = "verbs.signalInterval";

    /** How long a connection may take before posts to the peer fail (default 10,000). */
    public static final String HANDSHAKE_TIMEOUT_MILLIS = "verbs.handshakeTimeoutMillis";

    /** How often an unanswered handshake message is sent again (default 400). */
    public static final String HANDSHAKE_RETRY_MILLIS = "verbs.handshakeRetryMillis";

    /**
     * A connection whose requests see no completion for this long is replaced and its requests fail PEER_UNREACHABLE
     * (default 10,000).
     */
    public static final String PEER_TIMEOUT_MILLIS = "verbs.peerTimeoutMillis";

    /** RC local ACK timeout code: 4.096 us * 2^code per attempt (default 16). */
    public static final String ACK_TIMEOUT = "verbs.ackTimeout";

    /** RC transport retries before a send fails, 0..7 (default 7). */
    public static final String RETRY_COUNT = "verbs.retryCount";

    /** Register memory with IBV_ACCESS_RELAXED_ORDERING where supported (default true). */
    public static final String RELAXED_ORDERING = "verbs.relaxedOrdering";

    private VerbsOptions() {
    }
}
