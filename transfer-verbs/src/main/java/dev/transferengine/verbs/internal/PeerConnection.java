package dev.transferengine.verbs.internal;

import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.TransferException;

import java.lang.foreign.MemorySegment;

/**
 * What one domain knows about one peer domain: its address, the address handle its handshakes travel
 * through, the current queue pair set and where the connection stands. Mutated only by
 * {@link ConnectionManager} on the domain's worker thread.
 */
final class PeerConnection {
    enum State {
        /** Handshaking: posts return RETRY_PEER. */
        CONNECTING,
        /** Both sides connected to each other's current set: posts go out. */
        READY,
        /**
         * The responder refused one request, so that queue pair is in error: the set's other queue pairs finish
         * what they have with the NIC, then the set is replaced (CONNECTING). Posts return RETRY_PEER.
         */
        DRAINING,
        /** The handshake did not complete in time, or the queue pairs could not be set up: posts throw. */
        FAILED
    }

    final int handle;
    final DomainAddress address;
    final VerbsAddress remote;
    final Route route;
    final MemorySegment addressHandle;

    State state = State.CONNECTING;
    /** The set in use; null only while FAILED. */
    QueuePairSet current;
    /** Our epoch counter towards this peer: each new set gets the next one. */
    int localEpoch;
    /** Remote sets older than this are dead (we saw them fail or replaced them): ignore their messages. */
    int minRemoteEpoch = 1;
    /** Handshake deadline (CONNECTING), or drain deadline (DRAINING). */
    long deadlineNanos;
    /** Requests never executed by the peer, posted again once the next set is READY (docs/verbs.md §2a). */
    final HeldRequests held = new HeldRequests();
    long nextSendNanos;
    /** Why the peer is FAILED, and since when. */
    TransferException failure;
    long failedAtNanos;

    PeerConnection(int handle, DomainAddress address, VerbsAddress remote, Route route, MemorySegment addressHandle) {
        this.handle = handle;
        this.address = address;
        this.remote = remote;
        this.route = route;
        this.addressHandle = addressHandle;
    }

    @Override
    public String toString() {
        return remote + " (" + state + ", epoch " + localEpoch + ")";
    }
}
