package dev.transferengine.efa.internal;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the one write that made a connection-based provider (tcp;ofi_rxm, verbs;ofi_rxm) drop a peer's
 * connection, and saves the writes that were only flushed with it (issue 9).
 *
 * <p>The mechanism (libfabric 1.17, tcpx): the target checks each write's key and range when it reads the write's
 * header; a refused write makes it disable the connection without any reply. The writer's tcpx then flushes every
 * write still queued or waiting for its FI_DELIVERY_COMPLETE acknowledgement with FI_ECANCELED and a prov_errno that
 * is just the thread's errno at that moment ({@code ofi_sockerr()}: measured 2 and 107), the refused write
 * included. So the refused write cannot be told from its victims by its error entry.
 *
 * <p>What is known: the target handles one connection's byte stream in order, so of the canceled writes (ordered
 * by their post sequence) those before the refused one were processed, the refused one was not applied, and
 * those after it were never looked at. The triage therefore, per peer:
 * <ol>
 *   <li>holds every write that reports FI_ECANCELED (nothing is reported to the engine yet) and blocks new posts
 *       to that peer ({@link #holds}), until every write that was in flight to it has reported;</li>
 *   <li>probes the held writes in post order, one at a time, with two zero-length writes without imm at the
 *       write's first and one-past-last remote address with its key: the target's check ({@code ofi_mr_map_verify}:
 *       key known, access, {@code base <= addr && addr + len <= base + size}) passes for both exactly when it
 *       passes for the write itself, and a zero-length write without imm changes nothing and delivers nothing;</li>
 *   <li>the first write whose probe is refused (its probe ends in an error) is the refused write: REMOTE_ACCESS.
 *       Held writes before it were processed by the target (completed: they landed, only their acknowledgement
 *       was lost); held writes after it never reached the target and are posted again with the same context
 *       ({@link NotConnectedRetries}), where the usual reconnect handling applies;</li>
 *   <li>when no probe is refused, the drop had another cause (peer restarted, a refused send, ...): every held write
 *       is posted again. Measured on 1.17 loopback: a canceled write never had its imm delivered (see
 *       docs/reliability.md), so this re-post does not deliver an imm twice as far as we could observe;</li>
 *   <li>when probes cannot be posted for the retry timeout (rxm answers -FI_EAGAIN while it reconnects to a peer
 *       that is gone), the peer is given up ({@link PeerTable#markDead}): every held write fails with
 *       PEER_UNREACHABLE, and later posts to that peer fail at once until one is accepted again.</li>
 * </ol>
 * A write is posted again at most {@link #MAX_REPOSTS} times. Error path only (it allocates). Single-threaded.
 */
final class RefusalTriage {
    static final int MAX_REPOSTS = 8;
    private static final int IDLE = 0;
    private static final int COLLECTING = 1;
    private static final int PROBING = 2;

    private final LibfabricLibrary library;
    private final OpContexts contexts;
    private final PostTemplates templates;
    private final PeerTable peers;
    private final NotConnectedRetries retries;
    private final long timeoutNanos;
    private final Map<Integer, TransferException> canceledErrors = new HashMap<>();

    private int[] state = new int[8];
    private int[] awaiting = new int[8];
    private long[] since = new long[8];
    private int[] candidate = new int[8];
    private int[] probeStep = new int[8];
    private int[] probeSlot = new int[8];
    private List<List<Integer>> held = new ArrayList<>();
    private int busyPeers;

    RefusalTriage(LibfabricLibrary library, OpContexts contexts, PostTemplates templates, PeerTable peers,
                  NotConnectedRetries retries, long timeoutNanos) {
        this.library = library;
        this.contexts = contexts;
        this.templates = templates;
        this.peers = peers;
        this.retries = retries;
        this.timeoutNanos = timeoutNanos;
    }

    private void ensure(int peer) {
        if (peer >= state.length) {
            int n = Math.max(peer + 1, state.length * 2);
            state = Arrays.copyOf(state, n);
            awaiting = Arrays.copyOf(awaiting, n);
            since = Arrays.copyOf(since, n);
            candidate = Arrays.copyOf(candidate, n);
            probeStep = Arrays.copyOf(probeStep, n);
            probeSlot = Arrays.copyOf(probeSlot, n);
        }
        while (held.size() <= peer) {
            held.add(new ArrayList<>());
        }
    }

    /** Whether posts to {@code peer} must wait (RETRY_PEER): its dropped connection is being sorted out. */
    boolean holds(int peer) {
        return busyPeers > 0 && peer < state.length && state[peer] != IDLE;
    }

    /** A write to a peer reported something other than FI_ECANCELED (called after {@link OpContexts#reported}). */
    void reported(int slot) {
        int peer = contexts.peer(slot);
        if (busyPeers > 0 && peer < state.length && state[peer] == COLLECTING) {
            awaiting[peer]--;
        }
    }

    /**
     * A write ended with FI_ECANCELED (its connection dropped). Returns true when it is held for the triage,
     * false when it must be reported now (the peer is known dead).
     */
    boolean canceled(int slot, TransferException error) {
        int peer = contexts.peer(slot);
        ensure(peer);
        if (state[peer] == IDLE) {
            if (peers.dead(peer)) {
                return false;
            }
            state[peer] = COLLECTING;
            busyPeers++;
            since[peer] = System.nanoTime();
            int inFlight = 0;
            for (int s = 0; s < contexts.capacity(); s++) {
                if (contexts.inFlight(s) && contexts.kind(s) == OpContexts.WRITE && contexts.peer(s) == peer) {
                    inFlight++;
                }
            }
            awaiting[peer] = inFlight;
        } else if (state[peer] == COLLECTING) {
            awaiting[peer]--;
        }
        held.get(peer).add(slot);
        canceledErrors.put(slot, error);
        return true;
    }

    /** Moves every peer's triage on: starts probing once all its writes reported, posts probes. */
    int progress(CompletionSink sink) {
        if (busyPeers == 0) {
            return 0;
        }
        int reported = 0;
        long now = System.nanoTime();
        for (int peer = 0; peer < state.length; peer++) {
            if (state[peer] == COLLECTING && (awaiting[peer] <= 0 || now - since[peer] > timeoutNanos)) {
                held.get(peer).sort(Comparator.comparingLong(contexts::sequence));
                state[peer] = PROBING;
                candidate[peer] = 0;
                probeStep[peer] = 0;
                probeSlot[peer] = -1;
                since[peer] = now;
            }
            if (state[peer] == PROBING && probeSlot[peer] < 0) {
                reported += probe(peer, now, sink);
            }
        }
        return reported;
    }

    private int probe(int peer, long now, CompletionSink sink) {
        List<Integer> writes = held.get(peer);
        if (candidate[peer] >= writes.size()) {
            return resolve(peer, -1, sink); // no held write is refused now: the drop had another cause
        }
        if (peers.dead(peer)) {
            return giveUp(peer, sink);
        }
        int write = writes.get(candidate[peer]);
        int slot = contexts.acquire(OpContexts.PROBE, peer);
        if (slot < 0) {
            return 0;
        }
        contexts.recordWrite(slot, peer, 0, 0, 0, 0, 0, false, 0);
        long remote = contexts.remoteAddress(write) + (probeStep[peer] == 0 ? 0 : contexts.length(write));
        long rc = templates.write(peers.fiAddr(peer), 0, 0, 0, remote, contexts.remoteKey(write), false, 0,
                contexts.address(slot));
        if (rc == 0) {
            contexts.posted(slot);
            peers.accepted(peer);
            probeSlot[peer] = slot;
            return 0;
        }
        contexts.release(slot);
        if (rc == -FiConst.Err.FI_EAGAIN && now - since[peer] <= timeoutNanos) {
            return 0; // rxm is reconnecting: try again on the next poll
        }
        return giveUp(peer, sink);
    }

    /** A probe reported: {@code err} 0 for success, else the positive FI_* error. */
    int probeDone(int slot, int err, CompletionSink sink) {
        int peer = contexts.peer(slot);
        contexts.release(slot);
        if (peer >= state.length || state[peer] != PROBING || probeSlot[peer] != slot) {
            return 0;
        }
        probeSlot[peer] = -1;
        long now = System.nanoTime();
        if (err == 0) {
            int write = held.get(peer).get(candidate[peer]);
            if (probeStep[peer] == 0 && contexts.length(write) > 0) {
                probeStep[peer] = 1;
            } else {
                probeStep[peer] = 0;
                candidate[peer]++;
            }
            since[peer] = now;
            return probe(peer, now, sink);
        }
        if (err != FiConst.Err.FI_ECANCELED) {
            // FI_ENOTCONN / EPIPE: it went into the old, dead socket and was never sent; posted again on the next
            // poll (bounded by the retry timeout, then the peer is given up)
            return 0;
        }
        return resolve(peer, candidate[peer], sink); // the probe dropped the connection: the key or range is refused
    }

    /** Ends the peer's triage: {@code refused} is the index of the refused held write, or -1 for none. */
    private int resolve(int peer, int refused, CompletionSink sink) {
        List<Integer> writes = held.get(peer);
        int reported = 0;
        for (int i = 0; i < writes.size(); i++) {
            int slot = writes.get(i);
            TransferException canceled = canceledErrors.remove(slot);
            long context = contexts.engineContext(slot);
            if (i < refused) {
                contexts.release(slot); // processed by the target before the refused one: it landed
                sink.onComplete(context);
                reported++;
            } else if (i == refused) {
                contexts.release(slot);
                sink.onError(context, new TransferException(ErrorCategory.REMOTE_ACCESS, "RMA write refused by the"
                        + " target (unknown key or range): it dropped the connection (" + canceled.getMessage()
                        + "), and a zero-length probe with the same key and address was refused too",
                        canceled.providerCode(), canceled.providerMessage(), null));
                reported++;
            } else if (contexts.repostedOnce(slot) > MAX_REPOSTS) {
                contexts.release(slot);
                sink.onError(context, unreachable(canceled, "its connection dropped " + MAX_REPOSTS + " times"));
                reported++;
            } else {
                retries.enqueue(slot);
            }
        }
        writes.clear();
        state[peer] = IDLE;
        busyPeers--;
        return reported;
    }

    private int giveUp(int peer, CompletionSink sink) {
        peers.markDead(peer);
        List<Integer> writes = held.get(peer);
        for (int slot : writes) {
            TransferException canceled = canceledErrors.remove(slot);
            long context = contexts.engineContext(slot);
            contexts.release(slot);
            sink.onError(context, unreachable(canceled, "the peer " + peers.address(peer)
                    + " could not be reached again within the retry timeout"));
        }
        int reported = writes.size();
        writes.clear();
        if (probeSlot[peer] >= 0) {
            probeSlot[peer] = -1; // its report, if any, is ignored (state IDLE)
        }
        state[peer] = IDLE;
        busyPeers--;
        return reported;
    }

    private TransferException unreachable(TransferException canceled, String why) {
        String text = canceled == null ? library.strerror(FiConst.Err.FI_ECANCELED) : canceled.providerMessage();
        return new TransferException(ErrorCategory.PEER_UNREACHABLE, "RMA write canceled: the connection dropped and "
                + why, -FiConst.Err.FI_ECANCELED, text, null);
    }
}
