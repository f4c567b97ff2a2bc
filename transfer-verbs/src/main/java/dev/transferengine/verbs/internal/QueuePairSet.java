package dev.transferengine.verbs.internal;

import dev.transferengine.api.TransferException;
import dev.transferengine.verbs.internal.ProtectionDomain.QueuePairHandle;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * The RC queue pairs one domain uses towards one peer, as one unit ("set", numbered by an epoch): a message
 * queue pair for SEND/RECV (receives from the message SRQ) and {@code k} RMA queue pairs for WRITE and
 * WRITE_WITH_IMM (receives from the immediate SRQ). They are separate because a SEND and a WRITE_WITH_IMM
 * each consume the next receive of their queue pair's receive queue: sharing one would hand a RECV buffer to
 * an immediate. Each queue pair has its own random first PSN. Single-threaded.
 */
final class QueuePairSet {
    /** Creates sets; holds what every set of a domain shares. */
    record Factory(ProtectionDomain pd, MemorySegment cq, MemorySegment messageSrq, MemorySegment immSrq, int port,
                   VerbsSettings options, SendQueueRegistry registry, SendBudget budget, SplittableRandom random) {

        QueuePairSet create(int epoch, int peerHandle) {
            int k = options.rmaQpsPerPeer();
            QueuePairHandle[] qps = new QueuePairHandle[k + 1];
            SendQueue[] queues = new SendQueue[k + 1];
            int[] psns = new int[k + 1];
            try {
                for (int i = 0; i <= k; i++) {
                    qps[i] = pd.createQueuePair(Ibv.IBV_QPT_RC, cq, i == 0 ? messageSrq : immSrq,
                            options.sendQueueDepth(), 0);
                    QueuePairTransitions.initRc(qps[i].qp(), port,
                            Ibv.IBV_ACCESS_LOCAL_WRITE | Ibv.IBV_ACCESS_REMOTE_WRITE);
                    int owner = registry.reserve();
                    queues[i] = new SendQueue(qps[i].qp(), pd.context().postSendFunction(), owner,
                            options.sendQueueDepth(), options.signalInterval(), budget);
                    registry.put(queues[i]);
                    psns[i] = random.nextInt(1 << 24); // PSNs are 24 bits; random so stale packets miss
                }
                return new QueuePairSet(epoch, peerHandle, qps, queues, psns);
            } catch (RuntimeException e) {
                destroy(qps, queues, registry);
                throw e;
            }
        }
    }

    final int epoch;
    /** The handle of the peer this set connects to. */
    final int peerHandle;
    private final QueuePairHandle[] qps;
    private final SendQueue[] queues;
    private final int[] psns;
    private int activeRma;
    private int nextRma;
    private boolean connected;
    private int remoteEpoch;

    private QueuePairSet(int epoch, int peerHandle, QueuePairHandle[] qps, SendQueue[] queues, int[] psns) {
        this.epoch = epoch;
        this.peerHandle = peerHandle;
        this.qps = qps;
        this.queues = queues;
        this.psns = psns;
    }

    /** Describes this set to the peer. */
    HandshakeMessage describe(VerbsAddress self, int connectedTo, boolean ready, int pathMtu) {
        int k = qps.length - 1;
        int[] rmaQpns = new int[k];
        int[] rmaPsns = new int[k];
        for (int i = 0; i < k; i++) {
            rmaQpns[i] = qps[i + 1].qpNum();
            rmaPsns[i] = psns[i + 1];
        }
        return new HandshakeMessage(self, epoch, connectedTo, ready, pathMtu, qps[0].qpNum(), psns[0], rmaQpns, rmaPsns);
    }

    /**
     * Connects this set to the peer's set in {@code remote}: RTR then RTS for the message queue pair and the
     * first min(ours, theirs) RMA queue pairs.
     */
    void connect(HandshakeMessage remote, Route route, int localMtu, VerbsSettings options) {
        int mtu = Math.min(localMtu, remote.pathMtu());
        int k = Math.min(qps.length - 1, remote.rmaQpns().length);
        bringUp(0, route, mtu, remote.messageQpn(), remote.messagePsn(), options);
        for (int i = 0; i < k; i++) {
            bringUp(i + 1, route, mtu, remote.rmaQpns()[i], remote.rmaPsns()[i], options);
        }
        activeRma = k;
        remoteEpoch = remote.epoch();
        connected = true;
    }

    private void bringUp(int i, Route route, int mtu, int remoteQpn, int remotePsn, VerbsSettings options) {
        QueuePairTransitions.readyToReceive(qps[i].qp(), route, mtu, remoteQpn, remotePsn);
        QueuePairTransitions.readyToSend(qps[i].qp(), psns[i], options.ackTimeout(), options.retryCount());
    }

    boolean connected() {
        return connected;
    }

    /** The peer's epoch this set is connected to (0 before {@link #connect}). */
    int remoteEpoch() {
        return remoteEpoch;
    }

    SendQueue messageQueue() {
        return queues[0];
    }

    /** The next RMA send queue, round robin over the connected ones. */
    SendQueue nextRmaQueue() {
        SendQueue q = queues[1 + nextRma];
        nextRma = nextRma + 1 == activeRma ? 0 : nextRma + 1;
        return q;
    }

    /** Whether {@code queue} belongs to this set. */
    boolean owns(SendQueue queue) {
        for (SendQueue q : queues) {
            if (q == queue) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code qpNum} is one of this set's queue pairs. */
    boolean hasQueuePair(int qpNum) {
        for (QueuePairHandle q : qps) {
            if (q.qpNum() == qpNum) {
                return true;
            }
        }
        return false;
    }

    /** Whether any queue of this set has had requests with the NIC and no completion for {@code limitNanos}. */
    boolean stalled(long nowNanos, long limitNanos) {
        for (SendQueue q : queues) {
            if (q.stalled(nowNanos, limitNanos)) {
                return true;
            }
        }
        return false;
    }

    /** Requests posted by this set's queues and not yet completed. */
    int outstanding() {
        int n = 0;
        for (SendQueue q : queues) {
            n += q.outstanding();
        }
        return n;
    }

    /** Requests of every queue never handed to the NIC move to {@code into}. */
    void holdUnposted(HeldRequests into) {
        for (SendQueue q : queues) {
            q.holdUnposted(into);
        }
    }

    /**
     * Takes the set out of service: requests never handed to the NIC move to {@code held} (they are posted again
     * on the next set), the queue pairs go to ERR so the NIC flushes the posted ones (they report {@code reason},
     * or are held where a refusal made that safe: {@link SendQueue#holdFlushesInto}). The set is destroyed once
     * {@link #outstanding()} is 0.
     */
    void retire(TransferException reason, HeldRequests held) {
        for (SendQueue q : queues) {
            q.retire(reason);
            q.holdUnposted(held);
        }
        for (QueuePairHandle q : qps) {
            try {
                QueuePairTransitions.toError(q.qp());
            } catch (TransferException ignored) {
                // already in error, or unusable: destroying it later still works
            }
        }
        connected = false;
    }

    /** Destroys the queue pairs, then frees their send rings and registry indices. */
    void destroy(SendQueueRegistry registry) {
        destroy(qps, queues, registry);
    }

    private static void destroy(QueuePairHandle[] qps, SendQueue[] queues, SendQueueRegistry registry) {
        for (int i = 0; i < qps.length; i++) {
            if (qps[i] != null) {
                ProtectionDomain.destroyQueuePair(qps[i].qp());
            }
            if (queues[i] != null) {
                queues[i].close();
                registry.release(queues[i].owner());
            }
        }
    }
}
