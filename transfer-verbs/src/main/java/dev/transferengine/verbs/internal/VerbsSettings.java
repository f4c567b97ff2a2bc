package dev.transferengine.verbs.internal;

import static dev.transferengine.verbs.VerbsOptions.*;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.spi.ProviderOptions;
import dev.transferengine.verbs.VerbsOptions;

import java.util.Map;
import java.util.Set;

/**
 * The verbs provider's options as parsed (the keys are {@link VerbsOptions}), read with {@link ProviderOptions}: the builder's provider options
 * ({@code verbs.<name>}), then system properties {@code te.verbs.<name>}, then the defaults. An unknown
 * {@code verbs.*} key in the options is rejected with the list of known ones, and a present value must be well
 * formed (a blank number or boolean is an error, not the default). Immutable.
 *
 * @param device                 only this device ("mlx5_0", "rxe0"); null = every device
 * @param port                   port number; 0 = the first active port of each device
 * @param gidIndex               GID table index; -1 = choose (RoCE v2 with an IPv4-mapped address first)
 * @param rmaQpsPerPeer          RC queue pairs per peer for WRITEs (1..16); both sides use the smaller count
 * @param sendQueueDepth         send work requests per queue pair (a power of two)
 * @param completionQueueDepth   completion queue entries per domain (capped by the device)
 * @param messageReceiveDepth    receives the SEND/RECV shared receive queue holds
 * @param immReceiveDepth        zero-length receives kept posted for WRITE_WITH_IMM
 * @param signalInterval         a send work request is signalled at least every this many
 * @param handshakeTimeoutMillis how long a connection may take before posts to the peer fail
 * @param handshakeRetryMillis   how often an unanswered handshake message is sent again
 * @param peerTimeoutMillis      a connection whose requests see no completion for this long is replaced and
 *                               its requests fail with PEER_UNREACHABLE
 * @param ackTimeout             RC local ACK timeout code (4.096 us * 2^code per attempt)
 * @param retryCount             RC transport retries before a send fails (0..7)
 * @param relaxedOrdering        register memory with IBV_ACCESS_RELAXED_ORDERING (ignored where unsupported)
 */
public record VerbsSettings(String device, int port, int gidIndex, int rmaQpsPerPeer, int sendQueueDepth,
                    int completionQueueDepth, int messageReceiveDepth, int immReceiveDepth, int signalInterval,
                    long handshakeTimeoutMillis, long handshakeRetryMillis, long peerTimeoutMillis, int ackTimeout,
                    int retryCount,
                    boolean relaxedOrdering) {

    static final int MAX_RMA_QPS = 16;


    /** Every {@code verbs.*} key; any other one in the options map is rejected with this list. */
    static final Set<String> KEYS = Set.of(DEVICE, PORT, GID_INDEX, RMA_QPS_PER_PEER, SEND_QUEUE_DEPTH,
            COMPLETION_QUEUE_DEPTH, MESSAGE_RECEIVE_DEPTH, IMM_RECEIVE_DEPTH, SIGNAL_INTERVAL, HANDSHAKE_TIMEOUT_MILLIS,
            HANDSHAKE_RETRY_MILLIS, PEER_TIMEOUT_MILLIS, ACK_TIMEOUT, RETRY_COUNT, RELAXED_ORDERING);

    public static VerbsSettings from(Map<String, String> options) {
        ProviderOptions r = new ProviderOptions("verbs", options, KEYS);
        int sendDepth = r.intValue(SEND_QUEUE_DEPTH, 256, 16, 1 << 15);
        if (Integer.bitCount(sendDepth) != 1) {
            throw new InvalidRequestException(SEND_QUEUE_DEPTH + " must be a power of two, got " + sendDepth);
        }
        String device = r.string(DEVICE, null);
        VerbsSettings o = new VerbsSettings(
                device == null || device.isBlank() ? null : device,
                r.intValue(PORT, 0, 0, 255),
                r.intValue(GID_INDEX, -1, -1, 1 << 16),
                r.intValue(RMA_QPS_PER_PEER, 1, 1, MAX_RMA_QPS),
                sendDepth,
                r.intValue(COMPLETION_QUEUE_DEPTH, 8192, 256, 1 << 22),
                r.intValue(MESSAGE_RECEIVE_DEPTH, 512, 16, 1 << 15),
                r.intValue(IMM_RECEIVE_DEPTH, 1024, 16, 1 << 15),
                r.intValue(SIGNAL_INTERVAL, 16, 1, 1 << 15),
                r.intValue(HANDSHAKE_TIMEOUT_MILLIS, 10_000, 10, Integer.MAX_VALUE),
                r.intValue(HANDSHAKE_RETRY_MILLIS, 400, 1, Integer.MAX_VALUE),
                r.intValue(PEER_TIMEOUT_MILLIS, 10_000, 100, Integer.MAX_VALUE),
                r.intValue(ACK_TIMEOUT, 16, 1, 31),
                r.intValue(RETRY_COUNT, 7, 0, 7),
                r.bool(RELAXED_ORDERING, true));
        if (o.signalInterval > sendDepth / 2) {
            throw new InvalidRequestException(SIGNAL_INTERVAL + " (" + o.signalInterval
                    + ") must be at most half of " + SEND_QUEUE_DEPTH + " (" + sendDepth + ")");
        }
        return o;
    }
}
