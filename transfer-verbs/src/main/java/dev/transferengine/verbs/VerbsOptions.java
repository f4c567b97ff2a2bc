package dev.transferengine.verbs;

import dev.transferengine.api.InvalidRequestException;

import java.util.Map;

/**
 * The verbs provider's options, read from the builder's provider options ({@code verbs.<name>}) or, when
 * absent there, from system properties {@code te.verbs.<name>}. Immutable.
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
record VerbsOptions(String device, int port, int gidIndex, int rmaQpsPerPeer, int sendQueueDepth,
                    int completionQueueDepth, int messageReceiveDepth, int immReceiveDepth, int signalInterval,
                    long handshakeTimeoutMillis, long handshakeRetryMillis, long peerTimeoutMillis, int ackTimeout,
                    int retryCount,
                    boolean relaxedOrdering) {

    static final int MAX_RMA_QPS = 16;

    static VerbsOptions from(Map<String, String> options) {
        Reader r = new Reader(options);
        int sendDepth = r.integer("sendQueueDepth", 256, 16, 1 << 15);
        if (Integer.bitCount(sendDepth) != 1) {
            throw new InvalidRequestException("verbs.sendQueueDepth must be a power of two, got " + sendDepth);
        }
        VerbsOptions o = new VerbsOptions(
                r.string("device"),
                r.integer("port", 0, 0, 255),
                r.integer("gidIndex", -1, -1, 1 << 16),
                r.integer("rmaQpsPerPeer", 1, 1, MAX_RMA_QPS),
                sendDepth,
                r.integer("completionQueueDepth", 8192, 256, 1 << 22),
                r.integer("messageReceiveDepth", 512, 16, 1 << 15),
                r.integer("immReceiveDepth", 1024, 16, 1 << 15),
                r.integer("signalInterval", 16, 1, 1 << 15),
                r.integer("handshakeTimeoutMillis", 10_000, 10, Integer.MAX_VALUE),
                r.integer("handshakeRetryMillis", 400, 1, Integer.MAX_VALUE),
                r.integer("peerTimeoutMillis", 10_000, 100, Integer.MAX_VALUE),
                r.integer("ackTimeout", 16, 1, 31),
                r.integer("retryCount", 7, 0, 7),
                r.bool("relaxedOrdering", true));
        if (o.signalInterval > sendDepth / 2) {
            throw new InvalidRequestException("verbs.signalInterval (" + o.signalInterval
                    + ") must be at most half of verbs.sendQueueDepth (" + sendDepth + ")");
        }
        return o;
    }

    /** Reads {@code verbs.<name>} from the map, then {@code te.verbs.<name>} from system properties. */
    private record Reader(Map<String, String> options) {
        String string(String name) {
            String v = options.get("verbs." + name);
            if (v == null) {
                v = System.getProperty("te.verbs." + name);
            }
            return v == null || v.isBlank() ? null : v.trim();
        }

        int integer(String name, int fallback, int min, int max) {
            String v = string(name);
            if (v == null) {
                return fallback;
            }
            try {
                int i = Integer.parseInt(v);
                if (i < min || i > max) {
                    throw new InvalidRequestException("verbs." + name + " must be in " + min + ".." + max + ", got " + i);
                }
                return i;
            } catch (NumberFormatException e) {
                throw new InvalidRequestException("verbs." + name + " must be an integer, got '" + v + "'");
            }
        }

        boolean bool(String name, boolean fallback) {
            String v = string(name);
            if (v == null) {
                return fallback;
            }
            if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
                return Boolean.parseBoolean(v);
            }
            throw new InvalidRequestException("verbs." + name + " must be true or false, got '" + v + "'");
        }
    }
}
