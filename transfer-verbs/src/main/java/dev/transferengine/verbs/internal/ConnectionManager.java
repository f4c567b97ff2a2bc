package dev.transferengine.verbs.internal;

import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

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
 *
 * <p><b>Refusals.</b> A request the responder refuses (remote access error: a closed region or a wrong key;
 * invalid request; remote operation error) breaks only its own queue pair, and the responder executed nothing
 * behind it. That request fails; the requests the NIC flushes behind it, and every request not yet handed to
 * the NIC, are <em>held</em> ({@link PeerConnection#held}). The peer goes DRAINING (posts RETRY_PEER) until the set's
 * other queue pairs have completed what they had with the NIC (so the peer's replacement of its own set cannot
 * cut them off), then the set is replaced as above, and the held requests are posted again, with their
 * original contexts, once the new set is READY, before anything new. A peer that cannot be reconnected (handshake
 * timeout) fails them with PEER_UNREACHABLE. The responder's side of a refusal (an error completion of a receive)
 * does not replace anything: the requester reconnects.
 */
final class ConnectionManager {
    private final QueuePairSet.Factory factory;
    private final HandshakeChannel channel;
    private final ProtectionDomain pd;
    private final VerbsAddress self;
    private final int localMtu;
    private final int sgidIndex;
    private final int port;
    private final VerbsSettings options;
    private final Map<DomainAddress, PeerConnection> byAddress = new HashMap<>();
    private PeerConnection[] byHandle = new PeerConnection[8];
    private int peerCount;
    private final List<PeerConnection> connecting = new ArrayList<>();
    /** Peers DRAINING after a refusal. */
    private final List<PeerConnection> draining = new ArrayList<>();
    /** READY peers that still have held requests to post again. */
    private final List<PeerConnection> reposting = new ArrayList<>();
    /** Lists a send queue that got new requests for the domain's next flush. */
    private final Consumer<SendQueue> queued;
    private final List<QueuePairSet> retired = new ArrayList<>();
    /** The stall watchdog runs every this many ticks (a power of two). */
    private static final int WATCHDOG_POLLS = 128;
    private int ticks;

    ConnectionManager(QueuePairSet.Factory factory, HandshakeChannel channel, VerbsAddress self, int localMtu,
                      int sgidIndex, VerbsSettings options, Consumer<SendQueue> queued) {
        this.factory = factory;
        this.channel = channel;
        this.pd = factory.pd();
        this.self = self;
        this.localMtu = localMtu;
        this.sgidIndex = sgidIndex;
        this.port = factory.port();
        this.options = options;
        this.queued = queued;
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
        p.current = factory.create(p.localEpoch + 1, p.handle);
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
            if (!p.held.isEmpty()) {
                reposting.add(p);
                repost(p);
            }
        }
        if (!m.ready()) {
            announce(p, System.nanoTime());
        }
    }

    /**
     * An error completion (status {@code status}, -1 for a failed {@code ibv_post_send}) on send queue {@code q}:
     * if it belongs to a peer's current set, that set is broken (RC queue pairs stay in ERR). A refusal by the
     * responder holds what the NIC flushes behind it and drains the set (see the class comment); any other
     * error replaces the set at once, its flushed requests failing with the error's category.
     */
    void onSendQueueError(SendQueue q, int status, TransferException error, CompletionSink sink) {
        PeerConnection p = owner(q);
        if (p == null) {
            return;
        }
        if (refusedByResponder(status)
                && (p.state == PeerConnection.State.READY || p.state == PeerConnection.State.DRAINING)) {
            q.holdFlushesInto(p.held);
            p.current.holdUnposted(p.held);
            if (p.state == PeerConnection.State.READY) {
                p.state = PeerConnection.State.DRAINING;
                p.deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(options.peerTimeoutMillis());
                reposting.remove(p);
                draining.add(p);
            }
            return;
        }
        replace(p, flushedBecause(p, error), sink);
    }

    /**
     * A flush completion on send queue {@code q}. On a retired set that is expected; on the current set of a
     * READY peer the queue pair went to ERR without an error completion of ours (the responder side of that
     * queue pair failed, e.g. on a request the peer sent us): nothing can go through it, so the set is replaced.
     */
    void onSendQueueFlushed(SendQueue q, TransferException error, CompletionSink sink) {
        PeerConnection p = owner(q);
        if (p != null && p.state == PeerConnection.State.READY) {
            replace(p, flushedBecause(p, error), sink);
        } else if (p == null) {
            failHeldOfFailedPeer(q, sink);
        }
    }

    /**
     * A retired set's queue held a flushed request for a peer whose reconnect has failed meanwhile: there is no
     * set to post it on, so it fails like the requests held before.
     */
    private void failHeldOfFailedPeer(SendQueue q, CompletionSink sink) {
        for (QueuePairSet s : retired) {
            if (s.owns(q)) {
                PeerConnection p = byHandle[s.peerHandle];
                if (p.state == PeerConnection.State.FAILED && !p.held.isEmpty()) {
                    p.held.failAll(heldFailure(p, p.failure), sink);
                }
                return;
            }
        }
    }

    private static TransferException heldFailure(PeerConnection p, TransferException reason) {
        return new TransferException(ErrorCategory.PEER_UNREACHABLE, "verbs: request held for posting again after"
                + " its connection to " + p.remote + " broke, but reconnecting failed: " + reason.getMessage(), reason);
    }

    private PeerConnection owner(SendQueue q) {
        for (int i = 0; i < peerCount; i++) {
            PeerConnection p = byHandle[i];
            if (p.current != null && p.current.owns(q)) {
                return p;
            }
        }
        return null;
    }

    /**
     * Statuses with which the responder answered a request with a NAK (it refused that request and executes
     * nothing after it on that queue pair): the requests behind it were never executed.
     */
    static boolean refusedByResponder(int status) {
        return status == Ibv.IBV_WC_REM_ACCESS_ERR || status == Ibv.IBV_WC_REM_INV_REQ_ERR
                || status == Ibv.IBV_WC_REM_OP_ERR;
    }

    /**
     * An error completion for a receive on queue pair {@code qpNum}. The responder's view of a refusal (a remote
     * access or length error on an immediate or message receive: the requester got a NAK and reconnects by
     * itself, see {@link #onSendQueueError}) replaces nothing, so the requester's other queue pairs are not cut
     * off while it drains them; any other error replaces the set like a send error.
     */
    void onReceiveError(int qpNum, int status, TransferException error, CompletionSink sink) {
        if (refusedByResponder(status) || status == Ibv.IBV_WC_LOC_LEN_ERR) {
            return;
        }
        for (int i = 0; i < peerCount; i++) {
            PeerConnection p = byHandle[i];
            if (p.current != null && p.current.hasQueuePair(qpNum)) {
                replace(p, flushedBecause(p, error), sink);
                return;
            }
        }
    }

    /** Appends {@code p}'s held requests to its (READY) set, as far as the rings have room. */
    private void repost(PeerConnection p) {
        QueuePairSet s = p.current;
        while (!p.held.isEmpty()) {
            SendQueue q = p.held.nextIsSend() ? s.messageQueue() : s.nextRmaQueue();
            if (!q.hasRoom()) {
                return; // the next tick goes on
            }
            q.appendHeld(p.held);
            queued.accept(q);
        }
    }

    /** What requests flushed by a broken connection report: the failure that broke it, as the cause. */
    private static TransferException flushedBecause(PeerConnection p, TransferException error) {
        return new TransferException(error.category(), "verbs: request flushed: the connection to " + p.remote
                + " broke on an earlier failure (" + error.getMessage() + "); it reconnects by itself", error);
    }

    /** Retires {@code p}'s current set (its requests fail with {@code reason}) and handshakes a new one. */
    private void replace(PeerConnection p, TransferException reason, CompletionSink sink) {
        retire(p, reason);
        startSet(p);
    }

    private void retire(PeerConnection p, TransferException reason) {
        QueuePairSet s = p.current;
        if (s == null) {
            return;
        }
        if (s.connected()) {
            p.minRemoteEpoch = Math.max(p.minRemoteEpoch, s.remoteEpoch() + 1);
        }
        s.retire(reason, p.held);
        retired.add(s);
        p.current = null;
    }

    private void fail(PeerConnection p, TransferException reason, CompletionSink sink) {
        retire(p, reason);
        if (!p.held.isEmpty()) {
            p.held.failAll(heldFailure(p, reason), sink);
        }
        p.state = PeerConnection.State.FAILED;
        p.failure = reason;
        p.failedAtNanos = System.nanoTime();
        connecting.remove(p);
    }

    /**
     * Whether posts to {@code p} may go out now: READY yes, CONNECTING no (RETRY_PEER). A FAILED peer throws
     * PEER_UNREACHABLE with the reason for {@code handshakeTimeoutMillis} after the failure; the first post after
     * that starts a new handshake (a peer that came up late becomes reachable without re-resolving it).
     */
    boolean usable(PeerConnection p) {
        if (p.state == PeerConnection.State.READY) {
            return p.held.isEmpty(); // held requests go first
        }
        if (p.state != PeerConnection.State.FAILED) {
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
        if (connecting.isEmpty() && !watchdog && draining.isEmpty() && reposting.isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        if (watchdog) {
            replaceStalled(now, sink);
        }
        if (!draining.isEmpty()) {
            replaceDrained(now, sink);
        }
        for (int i = reposting.size() - 1; i >= 0; i--) {
            PeerConnection p = reposting.get(i);
            if (p.state == PeerConnection.State.READY) {
                repost(p);
            }
            if (p.state != PeerConnection.State.READY || p.held.isEmpty()) {
                reposting.remove(i);
            }
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

    /**
     * Replaces the sets of DRAINING peers whose queues have nothing left with the NIC (the refused queue pair's
     * flushes were held, the others completed), or whose drain ran past {@code peerTimeoutMillis} (what is still
     * posted then fails PEER_UNREACHABLE, like the watchdog's).
     */
    private void replaceDrained(long now, CompletionSink sink) {
        for (int i = draining.size() - 1; i >= 0; i--) {
            PeerConnection p = draining.get(i);
            if (p.state != PeerConnection.State.DRAINING) {
                draining.remove(i);
            } else if (p.current.outstanding() == 0) {
                draining.remove(i);
                replace(p, new TransferException(ErrorCategory.PEER_UNREACHABLE, "verbs: request flushed while"
                        + " reconnecting to " + p.remote + " after a refused request"), sink);
            } else if (now - p.deadlineNanos >= 0) {
                draining.remove(i);
                replace(p, new TransferException(ErrorCategory.PEER_UNREACHABLE, "verbs: peer " + p.remote
                        + " acknowledged nothing for " + options.peerTimeoutMillis() + " ms while its connection"
                        + " was being replaced after a refused request; its requests were flushed"), sink);
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
            p.held.clear();
        }
        connecting.clear();
        draining.clear();
        reposting.clear();
    }
}
