package dev.transferengine.verbs;

import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;
import dev.transferengine.verbs.internal.HandshakeChannel;
import dev.transferengine.verbs.internal.ProtectionDomain;
import dev.transferengine.verbs.internal.Route;
import dev.transferengine.verbs.internal.SendQueue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Connects one domain's RC queue pairs to its peers, knowing nothing but their {@link DomainAddress}es, over
 * the UD {@link HandshakeChannel}. Single-threaded (the domain's worker).
 *
 * <p><b>Protocol.</b> Each side creates one {@link QueuePairSet} per peer, numbered by an epoch, and sends
 * {@link HandshakeMessage}s describing it. On a message from a peer: a set it sent from an epoch we consider
 * dead is ignored; if our set is connected to an older set of the peer, the peer re-created its queue pairs,
 * so we retire ours and create a new set; if our set is not connected yet, we connect it (RTR, RTS) to the
 * peer's set; if the peer says it is connected to our current set, we are READY (the peer's queue pairs accept
 * our packets); and if the peer is not READY yet, we answer. A side that is not READY re-sends its message every
 * {@code handshakeRetryMillis}; after {@code handshakeTimeoutMillis} without becoming READY the peer is FAILED
 * and posts to it throw PEER_UNREACHABLE. Simultaneous connects need no tie-break: both sides simply connect
 * their one set to the other's.
 *
 * <p><b>Failures.</b> An error completion on the current set (peer gone, remote access error) breaks RC
 * queue pairs for good: the set is retired (moved to ERR; its requests flush) and a new set is handshaken. So
 * does a set whose requests got no completion for {@code peerTimeoutMillis} (a watchdog: a dead peer's queue
 * pairs do not always make RC retries fail, see docs/verbs.md). A FAILED peer is retried when it sends a
 * message, when the engine resolves it again, or on the first post once the failure is a handshake timeout
 * old (see {@link #usable}).
 */
final class ConnectionManager {
    private final QueuePairSet.Factory factory;
    private final HandshakeChannel channel;
    private final ProtectionDomain pd;
    private final VerbsAddress self;
    private final int localMtu;
    private final int sgidIndex;
    private final int port;
    private final VerbsOptions options;
    private final Map<DomainAddress, PeerConnection> byAddress = new HashMap<>();
    private PeerConnection[] byHandle = new PeerConnection[8];
    private int peerCount;
    private final List<PeerConnection> connecting = new ArrayList<>();
    private final List<QueuePairSet> retired = new ArrayList<>();
    /** The stall watchdog runs every this many ticks (a power of two). */
    private static final int WATCHDOG_POLLS = 128;
    private int ticks;

    ConnectionManager(QueuePairSet.Factory factory, HandshakeChannel channel, VerbsAddress self, int localMtu,
                      int sgidIndex, VerbsOptions options) {
        this.factory = factory;
        this.channel = channel;
        this.pd = factory.pd();
        this.self = self;
        this.localMtu = localMtu;
        this.sgidIndex = sgidIndex;
        this.port = factory.port();
        this.options = options;
    }

    /** The peer for {@code address}, created (and its handshake started) on first use. */
    PeerConnection resolve(DomainAddress address) {
        VerbsAddress remote = VerbsAddress.parse(address);
        if (remote.global() != self.global()) {
            throw new InvalidRequestException("peer " + remote + " is on a " + (remote.global() ? "RoCE" : "InfiniBand")
                    + " fabric, this domain is not");
        }
        PeerConnection p = byAddress.get(address);
        if (p == null) {
            p = create(address, remote);
        } else if (p.state == PeerConnection.State.FAILED) {
            restart(p);
        }
        return p;
    }

    /** The peer behind a handle from {@link #resolve}; an InvalidRequestException for anything else. */
    PeerConnection peer(long handle) {
        if (handle < 0 || handle >= peerCount) {
            throw new InvalidRequestException("unknown verbs peer handle " + handle);
        }
        return byHandle[(int) handle];
    }

    private PeerConnection create(DomainAddress address, VerbsAddress remote) {
        Route route = new Route(remote.global(), remote.gid(), remote.lid(), sgidIndex, port);
        MemorySegment ah = pd.createAddressHandle(route);
        PeerConnection p = new PeerConnection(peerCount, address, remote, route, ah);
        try {
            startSet(p);
        } catch (RuntimeException e) {
            ProtectionDomain.destroyAddressHandle(ah);
            throw e;
        }
        if (peerCount == byHandle.length) {
            byHandle = java.util.Arrays.copyOf(byHandle, peerCount * 2);
        }
        byHandle[peerCount++] = p;
        byAddress.put(address, p);
        return p;
    }

    /** A new set for {@code p} (epoch + 1), CONNECTING with a fresh deadline; announces it at once. */
    private void startSet(PeerConnection p) {
        p.current = factory.create(p.localEpoch + 1);
        p.localEpoch++;
        p.state = PeerConnection.State.CONNECTING;
        p.failure = null;
        long now = System.nanoTime();
        p.deadlineNanos = now + TimeUnit.MILLISECONDS.toNanos(options.handshakeTimeoutMillis());
        p.nextSendNanos = now;
        if (!connecting.contains(p)) {
            connecting.add(p);
        }
        announce(p, now);
    }

    private void restart(PeerConnection p) {
        startSet(p);
    }

    private void announce(PeerConnection p, long now) {
        QueuePairSet s = p.current;
        HandshakeMessage m = s.describe(self, s.connected() ? s.remoteEpoch() : 0,
                p.state == PeerConnection.State.READY, localMtu);
        channel.send(p.addressHandle, p.remote.udQpn(), p.remote.qkey(), m.encode());
        p.nextSendNanos = now + TimeUnit.MILLISECONDS.toNanos(options.handshakeRetryMillis());
    }

    /** A handshake datagram arrived. */
    void onMessage(byte[] payload, CompletionSink sink) {
        HandshakeMessage m = HandshakeMessage.decode(payload);
        if (m == null || m.sender().global() != self.global()) {
            return; // not ours, or garbage: the sender retransmits if it matters
        }
        DomainAddress from = m.sender().toDomainAddress();
        PeerConnection p = byAddress.get(from);
        if (p == null) {
            p = create(from, m.sender());
        } else if (p.state == PeerConnection.State.FAILED) {
            restart(p);
        }
        if (m.epoch() < p.minRemoteEpoch) {
            return; // a set we already saw die, or a stale retransmission
        }
        QueuePairSet s = p.current;
        if (s.connected() && m.epoch() != s.remoteEpoch()) {
            replace(p, new TransferException(ErrorCategory.PEER_UNREACHABLE,
                    "verbs: peer " + p.remote + " re-created its queue pairs; requests on the old ones were flushed"), sink);
            s = p.current;
        }
        if (!s.connected()) {
            try {
                s.connect(m, p.route, localMtu, options);
            } catch (TransferException e) {
                fail(p, new TransferException(ErrorCategory.PEER_UNREACHABLE, "verbs: connecting the queue pairs to "
                        + p.remote + " failed: " + e.getMessage(), e), sink);
                return;
            }
            p.minRemoteEpoch = m.epoch();
        }
        if (p.state == PeerConnection.State.CONNECTING && m.connectedTo() == s.epoch) {
            p.state = PeerConnection.State.READY;
        }
        if (!m.ready()) {
            announce(p, System.nanoTime());
        }
    }

    /**
     * An error completion on send queue {@code q}: if it belongs to a peer's current set, that set is broken
     * (RC queue pairs stay in ERR), so the peer reconnects with a new one.
     */
    void onSendQueueError(SendQueue q, TransferException error, CompletionSink sink) {
        for (int i = 0; i < peerCount; i++) {
            PeerConnection p = byHandle[i];
            if (p.current != null && p.current.owns(q)) {
                replace(p, flushedBecause(p, error), sink);
                return;
            }
        }
    }

    /** An error completion for a receive on queue pair {@code qpNum}: same as {@link #onSendQueueError}. */
    void onReceiveError(int qpNum, TransferException error, CompletionSink sink) {
        for (int i = 0; i < peerCount; i++) {
            PeerConnection p = byHandle[i];
            if (p.current != null && p.current.hasQueuePair(qpNum)) {
                replace(p, flushedBecause(p, error), sink);
                return;
            }
        }
    }

    /** What requests flushed by a broken connection report: the failure that broke it, as the cause. */
    private static TransferException flushedBecause(PeerConnection p, TransferException error) {
        return new TransferException(error.category(), "verbs: request flushed: the connection to " + p.remote
                + " broke on an earlier failure (" + error.getMessage() + "); it reconnects by itself", error);
    }

    /** Retires {@code p}'s current set (its requests fail with {@code reason}) and handshakes a new one. */
    private void replace(PeerConnection p, TransferException reason, CompletionSink sink) {
        retire(p, reason, sink);
        startSet(p);
    }

    private void retire(PeerConnection p, TransferException reason, CompletionSink sink) {
        QueuePairSet s = p.current;
        if (s == null) {
            return;
        }
        if (s.connected()) {
            p.minRemoteEpoch = Math.max(p.minRemoteEpoch, s.remoteEpoch() + 1);
        }
        s.retire(reason, sink);
        retired.add(s);
        p.current = null;
    }

    private void fail(PeerConnection p, TransferException reason, CompletionSink sink) {
        retire(p, reason, sink);
        p.state = PeerConnection.State.FAILED;
        p.failure = reason;
        p.failedAtNanos = System.nanoTime();
        connecting.remove(p);
    }

    /**
     * Whether posts to {@code p} may go out now: READY yes, CONNECTING no (RETRY). A FAILED peer throws
     * PEER_UNREACHABLE with the reason for {@code handshakeTimeoutMillis} after the failure; the first post after
     * that starts a new handshake (a peer that came up late becomes reachable without re-resolving it).
     */
    boolean usable(PeerConnection p) {
        if (p.state == PeerConnection.State.READY) {
            return true;
        }
        if (p.state == PeerConnection.State.CONNECTING) {
            return false;
        }
        if (System.nanoTime() - p.failedAtNanos > TimeUnit.MILLISECONDS.toNanos(options.handshakeTimeoutMillis())) {
            restart(p);
            return false;
        }
        throw new TransferException(ErrorCategory.PEER_UNREACHABLE, p.failure.getMessage(), p.failure);
    }

    /**
     * Re-sends unanswered handshakes, fails peers past their handshake deadline and, every
     * {@link #WATCHDOG_POLLS} polls, replaces connections whose peer stopped acknowledging.
     */
    void tick(CompletionSink sink) {
        boolean watchdog = (++ticks & (WATCHDOG_POLLS - 1)) == 0;
        if (connecting.isEmpty() && !watchdog) {
            return;
        }
        long now = System.nanoTime();
        if (watchdog) {
            replaceStalled(now, sink);
        }
        for (int i = connecting.size() - 1; i >= 0; i--) {
            PeerConnection p = connecting.get(i);
            if (p.state != PeerConnection.State.CONNECTING) {
                connecting.remove(i);
            } else if (now - p.deadlineNanos >= 0) {
                fail(p, new TransferException(ErrorCategory.PEER_UNREACHABLE, "verbs: peer " + p.remote
                        + " did not complete the connection handshake within " + options.handshakeTimeoutMillis()
                        + " ms (is its engine running and polling, and is the address right?)"), sink);
            } else if (now - p.nextSendNanos >= 0) {
                announce(p, now);
            }
        }
    }

    private void replaceStalled(long now, CompletionSink sink) {
        long limit = TimeUnit.MILLISECONDS.toNanos(options.peerTimeoutMillis());
        for (int i = 0; i < peerCount; i++) {
            PeerConnection p = byHandle[i];
            if (p.state == PeerConnection.State.READY && p.current.stalled(now, limit)) {
                replace(p, new TransferException(ErrorCategory.PEER_UNREACHABLE, "verbs: peer " + p.remote
                        + " acknowledged nothing for " + options.peerTimeoutMillis() + " ms (gone, or a SEND found"
                        + " no receive posted); its requests were flushed"), sink);
            }
        }
    }

    /** Destroys retired sets whose requests have all completed (flushed). */
    void reapRetired(SendQueueRegistry registry) {
        for (int i = retired.size() - 1; i >= 0; i--) {
            QueuePairSet s = retired.get(i);
            if (s.outstanding() == 0) {
                s.destroy(registry);
                retired.remove(i);
            }
        }
    }

    boolean hasRetired() {
        return !retired.isEmpty();
    }

    /** Destroys every set and address handle (domain close). */
    void closeAll(SendQueueRegistry registry) {
        for (QueuePairSet s : retired) {
            s.destroy(registry);
        }
        retired.clear();
        for (int i = 0; i < peerCount; i++) {
            PeerConnection p = byHandle[i];
            if (p.current != null) {
                p.current.destroy(registry);
                p.current = null;
            }
            ProtectionDomain.destroyAddressHandle(p.addressHandle);
        }
        connecting.clear();
    }
}
