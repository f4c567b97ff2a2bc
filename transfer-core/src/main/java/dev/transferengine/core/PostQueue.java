package dev.transferengine.core;

import dev.transferengine.api.ClosedException;
import dev.transferengine.api.Counter;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;
import dev.transferengine.core.counters.GroupCounters;
import dev.transferengine.spi.ProviderDomain;

/**
 * The worker's FIFO of accepted transfers that still have writes to post, and the posting itself: one part of the
 * duty cycle ({@link #progress()}). Each pass posts up to {@value #WRITES_PER_TRANSFER_PER_PASS} writes per
 * transfer in FIFO order, so one large request cannot starve polling; a NIC that answered {@code RETRY} (queue
 * full) gets nothing more until after the next poll, a peer that answered {@code RETRY_PEER} neither, while the
 * NIC's other peers are served (a dead or reconnecting peer must not hold a live one's writes behind its own). A
 * transfer whose last write is posted and completed is handed back to the worker to finish. Grows by doubling;
 * steady state allocates nothing. Worker thread only.
 */
final class PostQueue {
    private static final int WRITES_PER_TRANSFER_PER_PASS = 32;
    /** Peers remembered as refusing per pass; past that, their NIC is treated as refusing for the pass. */
    private static final int MAX_REFUSING_PEERS = 16;

    private final Worker worker;
    private final WriteOp op = new WriteOp();
    private PendingTransfer[] queue = new PendingTransfer[1024];
    private int[] generations = new int[1024];
    private int head;
    private int size;
    /** Bit i set: NIC i answered RETRY in this pass, so nothing more is posted to it until after a poll. */
    private long refusingNics;
    /** NIC and peer handle of each peer that answered RETRY_PEER in this pass. */
    private final int[] refusingPeerNics = new int[MAX_REFUSING_PEERS];
    private final long[] refusingPeers = new long[MAX_REFUSING_PEERS];
    private int refusingPeerCount;

    PostQueue(Worker worker) {
        this.worker = worker;
    }

    /** Queues {@code p} behind the transfers already waiting to post. */
    void add(PendingTransfer p) {
        if (size == queue.length) {
            PendingTransfer[] q = new PendingTransfer[queue.length * 2];
            int[] g = new int[q.length];
            for (int i = 0; i < size; i++) {
                int j = (head + i) % queue.length;
                q[i] = queue[j];
                g[i] = generations[j];
            }
            queue = q;
            generations = g;
            head = 0;
        }
        int tail = (head + size) % queue.length;
        queue[tail] = p;
        generations[tail] = p.generation;
        size++;
    }

    /** One pass over the transfers waiting to post; returns the number of writes posted. */
    int progress() {
        int work = 0;
        refusingNics = 0;
        refusingPeerCount = 0;
        for (int n = size; n > 0; n--) {
            PendingTransfer p = queue[head];
            int generation = generations[head];
            queue[head] = null;
            head = (head + 1) % queue.length;
            size--;
            if (p.generation != generation || !p.inFlight) {
                continue; // finished or expired while queued
            }
            work += postSome(p);
            if (p.nextOp < p.opCount) {
                add(p);
            } else if (p.isFinished()) {
                worker.finish(p);
            }
        }
        return work;
    }

    private int postSome(PendingTransfer p) {
        int posted = 0;
        while (p.nextOp < p.opCount && posted < WRITES_PER_TRANSFER_PER_PASS) {
            int rc;
            try {
                rc = p.kind == PendingTransfer.SEND ? postSend(p) : postWrite(p);
            } catch (TransferException e) {
                p.fail(e);
                break;
            } catch (RuntimeException e) {
                p.fail(new TransferException(ErrorCategory.PROVIDER, "posting failed: " + e, e));
                break;
            }
            if (rc != ProviderDomain.POSTED) {
                break;
            }
            p.nextOp++;
            p.posted++;
            posted++;
        }
        return posted;
    }

    private int postWrite(PendingTransfer p) {
        if (p.src != null && !p.src.isOpen()) {
            throw new ClosedException("source region was closed while the transfer was queued");
        }
        DomainGroup domains = worker.domains();
        domains.computeOp(p, p.nextOp, op);
        IpcWrites ipc = worker.ipc();
        if (ipc != null && IpcWrites.mayTake(op.region)) {
            boolean sourceOnDevice = p.src != null && p.src.isDevice() && p.src.device().index() == ipc.ordinal();
            int rc = ipc.post(op, sourceOnDevice, domains.peer(op.nic, op.dst.address()), p.context());
            if (rc != IpcWrites.DECLINED) {
                if (rc != ProviderDomain.RETRY) {
                    worker.counters().increment(op.nic, Counter.WRITES_POSTED);
                    worker.counters().add(op.nic, Counter.BYTES_POSTED, op.length);
                }
                return rc;
            }
        }
        long nicBit = 1L << op.nic;
        if ((refusingNics & nicBit) != 0) {
            // A full queue stays full until its completions are read: re-posting before the next poll
            // only burns native calls (with a window of queued writes, dozens per pass).
            return ProviderDomain.RETRY;
        }
        long peer = domains.peer(op.nic, op.dst.address());
        if (refusingPeerCount != 0 && refuses(op.nic, peer)) {
            return ProviderDomain.RETRY_PEER;
        }
        int rc = domains.domain(op.nic).postWrite(peer, op.src, op.srcAddress, op.length, op.remoteAddress,
                op.dst.remoteKey(), op.withImm, op.imm, p.context());
        GroupCounters counters = worker.counters();
        if (rc != ProviderDomain.POSTED) {
            refused(op.nic, peer, rc);
            counters.increment(op.nic, Counter.POST_RETRIES);
        } else {
            counters.increment(op.nic, Counter.WRITES_POSTED);
            counters.add(op.nic, Counter.BYTES_POSTED, op.length);
        }
        return rc;
    }

    private int postSend(PendingTransfer p) {
        if (!p.src.isOpen()) {
            throw new ClosedException("source region was closed while the send was queued");
        }
        if ((refusingNics & 1L) != 0) {
            return ProviderDomain.RETRY;
        }
        DomainGroup domains = worker.domains();
        long peer = domains.peer(0, p.sendTo);
        if (refusingPeerCount != 0 && refuses(0, peer)) {
            return ProviderDomain.RETRY_PEER;
        }
        int rc = domains.domain(0).postSend(peer, p.src.nic(0), p.src.address() + p.sendOffset, p.sendLength,
                p.context());
        if (rc != ProviderDomain.POSTED) {
            refused(0, peer, rc);
            worker.counters().increment(0, Counter.POST_RETRIES);
        } else {
            worker.counters().increment(0, Counter.SENDS_POSTED);
        }
        return rc;
    }

    /** Remembers a refusal for the rest of the pass: the NIC's for RETRY, the peer's alone for RETRY_PEER. */
    private void refused(int nic, long peer, int rc) {
        if (rc == ProviderDomain.RETRY_PEER && refusingPeerCount < MAX_REFUSING_PEERS) {
            refusingPeerNics[refusingPeerCount] = nic;
            refusingPeers[refusingPeerCount] = peer;
            refusingPeerCount++;
        } else {
            refusingNics |= 1L << nic;
        }
    }

    private boolean refuses(int nic, long peer) {
        for (int i = 0; i < refusingPeerCount; i++) {
            if (refusingPeers[i] == peer && refusingPeerNics[i] == nic) {
                return true;
            }
        }
        return false;
    }
}
