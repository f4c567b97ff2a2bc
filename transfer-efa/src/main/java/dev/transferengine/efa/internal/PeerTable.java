package dev.transferengine.efa.internal;

import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The peers of one domain. The handle the engine gets from {@link #resolve} is an index into this table, not
 * the {@code fi_addr_t}: that lets the table re-insert a peer (new fi_addr, new connection) without the engine
 * noticing, and makes checking a handle a bounds check.
 *
 * <p>Addresses are checked against the domain's {@code addr_format} before they reach {@code fi_av_insert},
 * so a tcp address handed to shm, or garbage, is an {@link InvalidRequestException} rather than undefined
 * provider behaviour.
 *
 * <p>When posts to one peer keep returning -FI_EAGAIN for longer than the retry timeout (tcp;ofi_rxm retries a
 * connection to a closed port forever; shm's queue to a peer can wedge), the next refusal fails with
 * PEER_UNREACHABLE instead of leaving the engine to retry until its transfer deadline. Single-threaded.
 */
final class PeerTable {
    private final LibfabricLibrary library;
    private final FiEndpoint endpoint;
    private final int addrFormat;
    private final long retryTimeoutNanos;
    private final Map<DomainAddress, Integer> indexByAddress = new HashMap<>();
    /** shm peers' processes, checked before posts (a dead shm peer's lock wedges a post for good). */
    private final PeerProcesses processes = new PeerProcesses();
    /** Where peers' key tables are mapped; null when this domain checks no keys before posting. */
    private final Arena keyTableArena;

    private int count;
    private DomainAddress[] addresses = new DomainAddress[8];
    private long[] fiAddr = new long[8];
    /** When the peer's current run of -FI_EAGAIN began; 0 when none. */
    private long[] refusedSince = new long[8];
    /** Known unreachable: its posts were refused past the retry timeout, and none was accepted since. */
    private boolean[] dead = new boolean[8];
    /** The peer's published registrations ({@link PeerKeyTable}), or null: writes to it are not checked. */
    private PeerKeyTable[] keyTables = new PeerKeyTable[8];

    /** @param keyTableArena where same-host peers' key tables are mapped, or null to check no keys before posts */
    PeerTable(LibfabricLibrary library, FiEndpoint endpoint, int addrFormat, long retryTimeoutNanos,
              Arena keyTableArena) {
        this.keyTableArena = keyTableArena;
        this.library = library;
        this.endpoint = endpoint;
        this.addrFormat = addrFormat;
        this.retryTimeoutNanos = retryTimeoutNanos;
    }

    /** The handle (index) of {@code peer}, inserting it into the AV on first use. */
    long resolve(DomainAddress peer) {
        Integer known = indexByAddress.get(peer);
        if (known != null) {
            return known;
        }
        validate(peer.bytes());
        long inserted = insert(peer);
        if (count == addresses.length) {
            int n = count * 2;
            addresses = Arrays.copyOf(addresses, n);
            fiAddr = Arrays.copyOf(fiAddr, n);
            refusedSince = Arrays.copyOf(refusedSince, n);
            dead = Arrays.copyOf(dead, n);
            keyTables = Arrays.copyOf(keyTables, n);
        }
        int index = count++;
        addresses[index] = peer;
        fiAddr[index] = inserted;
        indexByAddress.put(peer, index);
        processes.add(index, peer.bytes());
        keyTables[index] = keyTableArena == null ? null : PeerKeyTable.open(peer.bytes(), keyTableArena);
        return index;
    }

    private long insert(DomainAddress peer) {
        byte[] raw = peer.bytes();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = arena.allocate(raw.length, 8);
            addr.copyFrom(MemorySegment.ofArray(raw));
            MemorySegment out = arena.allocate(JAVA_LONG);
            out.set(JAVA_LONG, 0, FiConst.Enum.FI_ADDR_UNSPEC);
            int rc = FiCalls.avInsert(endpoint.avInsert, endpoint.av, addr, out);
            long handle = out.get(JAVA_LONG, 0);
            if (rc != 1 || handle == FiConst.Enum.FI_ADDR_UNSPEC) {
                String text = rc < 0 ? library.strerror(-rc) : "address not inserted";
                throw new TransferException(ErrorCategory.PEER_UNREACHABLE, "fi_av_insert rejected peer " + peer,
                        Math.min(rc, 0), text, null);
            }
            return handle;
        }
    }

    /** The index of a handle from {@link #resolve}; throws for anything else. */
    int index(long handle) {
        if (handle < 0 || handle >= count) {
            throw new InvalidRequestException("peer handle " + handle + " was not returned by resolvePeer");
        }
        return (int) handle;
    }

    /** The fi_addr to post to. */
    long fiAddr(int index) {
        return fiAddr[index];
    }

    /** A post to the peer was accepted: its run of refusals is over. */
    void accepted(int index) {
        refusedSince[index] = 0;
        dead[index] = false;
    }

    /**
     * A post to the peer returned -FI_EAGAIN; throws PEER_UNREACHABLE once that has lasted too long, and at once
     * while the peer is known dead (until a post to it is accepted again).
     */
    void refused(int index) {
        long now = System.nanoTime();
        long since = refusedSince[index];
        if (dead[index]) {
            throw unreachable(index, "fail at once: the peer was given up as unreachable and no post to it was accepted since");
        }
        if (since == 0) {
            refusedSince[index] = now;
        } else if (now - since > retryTimeoutNanos) {
            refusedSince[index] = 0;
            dead[index] = true;
            throw unreachable(index, "were refused (-FI_EAGAIN) for " + (now - since) / 1_000_000
                    + " ms: it is not reachable");
        }
    }

    /** The process id an shm peer's address names, or 0 (not shm, or this process). */
    int pid(int index) {
        return processes.pid(index);
    }

    /** The domain is polling: liveness answers of {@link PeerProcesses} from before are stale. */
    void polled() {
        processes.polled();
    }

    /**
     * Throws PEER_UNREACHABLE when the peer is an shm endpoint whose process is gone ({@link PeerProcesses}):
     * posting to it could spin forever on a lock the dead process held. Checked at most once per poll.
     */
    void requireLiveProcess(int index) {
        if (processes.gone(index)) {
            dead[index] = true;
            throw new TransferException(ErrorCategory.PEER_UNREACHABLE, "peer " + addresses[index] + ": its process"
                    + " (pid " + processes.pid(index) + ") is gone; nothing is posted to it (a post could wait forever"
                    + " on a lock the dead process held)", 0, "peer process gone", null);
        }
    }

    /**
     * Checks a write of {@code length} (> 0) bytes against the peer's published registrations: null when it may be
     * posted (or the peer publishes none), otherwise the typed error to report for it (REMOTE_ACCESS for a key or
     * range the peer has not registered, PEER_UNREACHABLE when the peer's endpoint has closed). No allocation
     * unless refused.
     */
    TransferException refusedWrite(int index, long key, long address, long length) {
        PeerKeyTable table = keyTables[index];
        int verdict = table == null ? PeerKeyTable.PERMITTED : table.check(key, address, length);
        if (verdict == PeerKeyTable.PERMITTED) {
            return null;
        }
        String what = "RMA write of " + length + " bytes at 0x" + Long.toHexString(address) + " with key 0x"
                + Long.toHexString(key) + " to peer " + addresses[index] + " refused before posting: "
                + PeerKeyTable.explain(verdict) + " (its published registrations, " + table.file() + ")";
        ErrorCategory category = verdict == PeerKeyTable.CLOSED ? ErrorCategory.PEER_UNREACHABLE
                : ErrorCategory.REMOTE_ACCESS;
        return new TransferException(category, what, 0, "refused by the writer's key check", null);
    }

    /** Whether the peer was given up (posts refused past the retry timeout) and nothing was accepted since. */
    boolean dead(int index) {
        return dead[index];
    }

    /** Gives the peer up: pending and new posts to it fail at once until one is accepted again. */
    void markDead(int index) {
        dead[index] = true;
        refusedSince[index] = 0;
    }

    TransferException unreachable(int index, String why) {
        return new TransferException(ErrorCategory.PEER_UNREACHABLE, "posts to peer " + addresses[index] + " " + why,
                -FiConst.Err.FI_EAGAIN, library.strerror(FiConst.Err.FI_EAGAIN), null);
    }

    DomainAddress address(int index) {
        return addresses[index];
    }

    int count() {
        return count;
    }

    private void validate(byte[] raw) {
        switch (addrFormat) {
            case FiConst.Enum.FI_SOCKADDR_IN -> expectSockaddr(raw, 16, 2);
            case FiConst.Enum.FI_SOCKADDR_IN6 -> expectSockaddr(raw, 28, 10);
            case FiConst.Enum.FI_ADDR_STR -> expectString(raw);
            default -> {
                if (raw.length != endpoint.address.length) {
                    throw new InvalidRequestException("peer address has " + raw.length + " bytes; this provider's"
                            + " addresses (format " + addrFormat + ") have " + endpoint.address.length);
                }
            }
        }
    }

    /** sockaddr: fixed length, and the family in the first two bytes (little-endian on Linux). */
    private static void expectSockaddr(byte[] raw, int length, int family) {
        int f = raw.length >= 2 ? (raw[0] & 0xff) | (raw[1] & 0xff) << 8 : -1;
        if (raw.length != length || f != family) {
            throw new InvalidRequestException("peer address is not a " + length + "-byte sockaddr of family "
                    + family + " (got " + raw.length + " bytes, family " + f + ")");
        }
    }

    /** FI_ADDR_STR: printable ASCII ending in NUL, with this provider's scheme ("fi_shm://..."). */
    private void expectString(byte[] raw) {
        int nul = -1;
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == 0) {
                nul = i;
                break;
            }
            if (raw[i] < 0x20 || raw[i] > 0x7e) {
                throw new InvalidRequestException("peer address is not a printable string address");
            }
        }
        if (nul <= 0) {
            throw new InvalidRequestException("peer address is not a NUL-terminated string address");
        }
        String own = scheme(endpoint.address);
        String theirs = scheme(raw);
        if (!own.equals(theirs)) {
            throw new InvalidRequestException("peer address scheme '" + theirs + "' does not match this provider's '"
                    + own + "'");
        }
    }

    private static String scheme(byte[] raw) {
        String s = new String(raw, StandardCharsets.US_ASCII);
        int i = s.indexOf("://");
        return i < 0 ? "" : s.substring(0, i);
    }
}
