package dev.transferengine.core;

import dev.transferengine.api.Barrier;
import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.ImmAccounting;
import dev.transferengine.api.ImmWrite;
import dev.transferengine.api.PagedWrite;
import dev.transferengine.api.Routing;
import dev.transferengine.api.Scatter;
import dev.transferengine.api.ScatterRouting;
import dev.transferengine.api.ScatterTarget;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferException;
import dev.transferengine.api.TransferRequest;
import dev.transferengine.core.jfr.PeerConnectionEvent;
import dev.transferengine.spi.ProviderDomain;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The NICs of one group and the striping rules that turn a request into writes over them.
 *
 * <p>{@link #plan} fixes a request's write count and its NIC assignment once (round-robin start taken
 * from a cursor shared by the group); {@link #computeOp} then derives write {@code k} of the plan in
 * O(1) into a scratch {@link WriteOp}, so posting can stop at any write (full queue) and resume later
 * without materialising a list. Rules, with {@code n} NICs:
 * <ul>
 *   <li>single write, {@code k} shards: shard size {@code roundUp(ceil(len/k), 8 KiB)}; shard {@code j}
 *       covers {@code [j*size, min(len, (j+1)*size))} on NIC {@code (first+j) mod n}; an empty shard of a
 *       non-empty write re-writes the write's first byte (see {@link #EMPTY_SHARD_BYTES});</li>
 *   <li>paged: pages in contiguous chunks of {@code ceil(pages/n)}, chunk {@code c} on NIC {@code (first+c) mod n};</li>
 *   <li>scatter by peers: destinations chunked the same way; by bytes: NIC {@code i} writes slice {@code i}
 *       of every destination, slices differing by at most one byte (the remainder goes to the first slices;
 *       an empty slice of a non-empty destination re-writes its first byte);</li>
 *   <li>barrier: destinations chunked over NICs (or all on the pinned NIC); imm write: one NIC.</li>
 * </ul>
 * Single-threaded (the group's worker).
 */
final class DomainGroup {
    /** Shards are multiples of this (as in the reference), so NICs get page-aligned pieces. */
    static final long SHARD_ALIGNMENT = 8192;
    /**
     * Length of the write an empty shard of a non-empty write becomes: it re-writes the write's first
     * byte from the same source byte (the same value as the shard that also writes it, so the order of
     * the two does not matter). A zero-length RDMA write is not checked against the remote key
     * (InfiniBand lets the responder skip the check), so an empty shard would deliver its imm to a
     * region that was closed, or a stale descriptor's owner, while its siblings are refused.
     */
    static final long EMPTY_SHARD_BYTES = 1;

    private final int group;
    private final ProviderDomain[] domains;
    private final List<Map<DomainAddress, Long>> peers;
    /** Per NIC, the last address resolved and its handle: repeated writes to one peer skip the map. */
    private final DomainAddress[] lastAddress;
    private final long[] lastHandle;
    private int roundRobin;

    /** @param group the group's index, for diagnostics (JFR events) */
    DomainGroup(int group, ProviderDomain[] domains) {
        this.group = group;
        this.domains = domains;
        this.peers = new java.util.ArrayList<>(domains.length);
        for (int i = 0; i < domains.length; i++) {
            peers.add(new HashMap<>());
        }
        this.lastAddress = new DomainAddress[domains.length];
        this.lastHandle = new long[domains.length];
    }

    int size() {
        return domains.length;
    }

    ProviderDomain domain(int nic) {
        return domains[nic];
    }

    /** The peer handle for {@code address} on NIC {@code nic}, resolved once and cached. */
    long peer(int nic, DomainAddress address) {
        if (lastAddress[nic] == address) {
            return lastHandle[nic];
        }
        Map<DomainAddress, Long> cache = peers.get(nic);
        Long handle = cache.get(address);
        if (handle == null) {
            handle = connect(nic, address);
            cache.put(address, handle);
        }
        lastAddress[nic] = address;
        lastHandle[nic] = handle;
        return handle;
    }

    /** The first use of {@code address} on {@code nic}: the provider inserts it, recorded as a JFR event. */
    private long connect(int nic, DomainAddress address) {
        PeerConnectionEvent event = new PeerConnectionEvent();
        event.begin();
        String outcome = "OK";
        try {
            return domains[nic].resolvePeer(address);
        } catch (TransferException e) {
            outcome = e.category().name();
            throw e;
        } catch (RuntimeException e) {
            outcome = ErrorCategory.PROVIDER.name();
            throw e;
        } finally {
            event.end();
            if (event.shouldCommit()) {
                event.group = group;
                event.nic = nic;
                event.peer = address.toHex();
                event.outcome = outcome;
                event.commit();
            }
        }
    }

    private int nextNics(int count) {
        int first = roundRobin;
        roundRobin = (int) ((roundRobin + (long) count) % domains.length);
        return first;
    }

    private static int chunk(int items, int n) {
        return Math.max(1, (items + n - 1) / n);
    }

    /** Sets {@code p.kind, opCount, firstNic, unit, pinned} for a validated request. */
    void plan(PendingTransfer p, TransferRequest request) {
        int n = domains.length;
        p.request = request;
        p.nextOp = 0;
        switch (request) {
            case SingleWrite w -> {
                p.kind = PendingTransfer.SINGLE;
                int shards = ImmAccounting.writesOf(w.routing(), n);
                p.opCount = shards;
                p.pinned = w.routing() instanceof Routing.Pinned;
                p.firstNic = p.pinned ? ((Routing.Pinned) w.routing()).nic() : nextNics(shards);
                p.unit = shardSize(w.length(), shards);
            }
            case PagedWrite pw -> {
                p.kind = PendingTransfer.PAGED;
                p.opCount = pw.pageCount();
                p.pinned = false;
                p.unit = chunk(pw.pageCount(), n);
                p.firstNic = nextNics((int) Math.min(n, (pw.pageCount() + p.unit - 1) / p.unit));
            }
            case Scatter s -> {
                int targets = s.targets().size();
                switch (s.routing()) {
                    case ScatterRouting.ShardPeers sp -> {
                        p.kind = PendingTransfer.SCATTER_PEERS;
                        p.opCount = targets;
                        p.unit = chunk(targets, n);
                        p.firstNic = nextNics((int) Math.min(n, (targets + p.unit - 1) / p.unit));
                    }
                    case ScatterRouting.ShardBytes sb -> {
                        p.kind = PendingTransfer.SCATTER_BYTES;
                        p.opCount = targets * n;
                        p.firstNic = 0;
                    }
                    case ScatterRouting.Pinned pin -> {
                        p.kind = PendingTransfer.SCATTER_PINNED;
                        p.opCount = targets;
                        p.firstNic = pin.nic();
                    }
                }
            }
            case Barrier b -> {
                p.kind = PendingTransfer.BARRIER;
                p.opCount = b.dsts().size();
                p.pinned = b.routing() instanceof Routing.Pinned;
                p.unit = chunk(p.opCount, n);
                p.firstNic = p.pinned ? ((Routing.Pinned) b.routing()).nic()
                        : nextNics((int) Math.min(n, (p.opCount + p.unit - 1) / p.unit));
            }
            case ImmWrite i -> {
                p.kind = PendingTransfer.IMM;
                p.opCount = 1;
                p.pinned = i.routing() instanceof Routing.Pinned;
                p.firstNic = p.pinned ? ((Routing.Pinned) i.routing()).nic() : nextNics(1);
            }
        }
    }

    /** Bytes per shard of a {@code length}-byte write over {@code shards} shards. */
    static long shardSize(long length, int shards) {
        if (shards <= 1) {
            return length;
        }
        long perShard = length / shards + (length % shards == 0 ? 0 : 1);
        long aligned = (perShard + SHARD_ALIGNMENT - 1) / SHARD_ALIGNMENT * SHARD_ALIGNMENT;
        return Math.max(aligned, SHARD_ALIGNMENT);
    }

    /** Computes write {@code k} of {@code p}'s plan into {@code op}. */
    void computeOp(PendingTransfer p, int k, WriteOp op) {
        int n = domains.length;
        switch (p.kind) {
            case PendingTransfer.SINGLE -> {
                SingleWrite w = (SingleWrite) p.request;
                int nic = p.pinned ? p.firstNic : (p.firstNic + k) % n;
                long start = (long) k * p.unit;
                long len = start >= w.length() ? Math.min(EMPTY_SHARD_BYTES, w.length())
                        : Math.min(p.unit, w.length() - start);
                long off = start >= w.length() ? 0 : start;
                op.set(nic, p.src.nic(nic), p.src.address() + w.srcOffset() + off, len, w.dst(), w.dstOffset() + off);
                imm(op, w);
            }
            case PendingTransfer.PAGED -> {
                PagedWrite w = (PagedWrite) p.request;
                int nic = (int) ((p.firstNic + k / p.unit) % n);
                long srcOff = w.srcOffsetOf(k);
                long dstOff = w.dstOffsetOf(k);
                op.set(nic, p.src.nic(nic), p.src.address() + srcOff, w.pageLength(), w.dst(), dstOff);
                imm(op, w);
            }
            case PendingTransfer.SCATTER_PEERS, PendingTransfer.SCATTER_PINNED -> {
                Scatter s = (Scatter) p.request;
                ScatterTarget t = s.targets().get(k);
                int nic = p.kind == PendingTransfer.SCATTER_PINNED ? p.firstNic : (int) ((p.firstNic + k / p.unit) % n);
                op.set(nic, p.src.nic(nic), p.src.address() + t.srcOffset(), t.length(), t.dst(), t.dstOffset());
                imm(op, s);
            }
            case PendingTransfer.SCATTER_BYTES -> {
                Scatter s = (Scatter) p.request;
                ScatterTarget t = s.targets().get(k / n);
                int nic = k % n;
                long q = t.length() / n;
                long r = t.length() % n;
                long len = q + (nic < r ? 1 : 0);
                long off = len == 0 ? 0 : nic * q + Math.min(nic, r);
                if (len == 0) {
                    len = Math.min(EMPTY_SHARD_BYTES, t.length());
                }
                op.set(nic, p.src.nic(nic), p.src.address() + t.srcOffset() + off, len, t.dst(), t.dstOffset() + off);
                imm(op, s);
            }
            case PendingTransfer.BARRIER -> {
                Barrier b = (Barrier) p.request;
                int nic = p.pinned ? p.firstNic : (int) ((p.firstNic + k / p.unit) % n);
                op.set(nic, null, 0, 0, b.dsts().get(k), 0);
                op.withImm = true;
                op.imm = b.immValue();
            }
            case PendingTransfer.IMM -> {
                ImmWrite i = (ImmWrite) p.request;
                op.set(p.firstNic, null, 0, 0, i.dst(), 0);
                op.withImm = true;
                op.imm = i.immValue();
            }
            default -> throw new IllegalStateException("not a write plan: " + p.kind);
        }
    }

    private static void imm(WriteOp op, TransferRequest r) {
        var imm = r.imm();
        op.withImm = imm.isPresent();
        op.imm = op.withImm ? imm.getAsInt() : 0;
    }

    /** Closes every domain; never throws. */
    void close() {
        for (ProviderDomain d : domains) {
            try {
                d.close();
            } catch (RuntimeException e) {
                System.getLogger(DomainGroup.class.getName()).log(System.Logger.Level.WARNING,
                        "closing a domain failed", e);
            }
        }
    }
}
