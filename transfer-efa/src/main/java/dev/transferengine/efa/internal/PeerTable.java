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
 * Peer addresses inserted into the domain's address vector, cached by address. Addresses are checked
 * against the domain's {@code addr_format} before they reach {@code fi_av_insert}, so a tcp address handed to
 * shm, or garbage, is an {@link InvalidRequestException} rather than undefined provider behaviour. Posts check
 * their peer handle with {@link #isKnown} (a binary search; no allocation). Single-threaded.
 */
final class PeerTable {
    private final LibfabricLibrary library;
    private final FiEndpoint endpoint;
    private final int addrFormat;
    private final Map<DomainAddress, Long> handles = new HashMap<>();
    private long[] sortedHandles = new long[0];

    PeerTable(LibfabricLibrary library, FiEndpoint endpoint, int addrFormat) {
        this.library = library;
        this.endpoint = endpoint;
        this.addrFormat = addrFormat;
    }

    long resolve(DomainAddress peer) {
        Long known = handles.get(peer);
        if (known != null) {
            return known;
        }
        byte[] raw = peer.bytes();
        validate(raw);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = arena.allocate(raw.length, 8);
            addr.copyFrom(MemorySegment.ofArray(raw));
            MemorySegment fiAddr = arena.allocate(JAVA_LONG);
            fiAddr.set(JAVA_LONG, 0, FiConst.Enum.FI_ADDR_UNSPEC);
            int rc = FiCalls.avInsert(endpoint.avInsert, endpoint.av, addr, fiAddr);
            long handle = fiAddr.get(JAVA_LONG, 0);
            if (rc != 1 || handle == FiConst.Enum.FI_ADDR_UNSPEC) {
                String text = rc < 0 ? library.strerror(-rc) : "address not inserted";
                throw new TransferException(ErrorCategory.PEER_UNREACHABLE, "fi_av_insert rejected peer " + peer,
                        Math.min(rc, 0), text, null);
            }
            handles.put(peer, handle);
            long[] grown = Arrays.copyOf(sortedHandles, sortedHandles.length + 1);
            grown[grown.length - 1] = handle;
            Arrays.sort(grown);
            sortedHandles = grown;
            return handle;
        }
    }

    boolean isKnown(long handle) {
        return Arrays.binarySearch(sortedHandles, handle) >= 0;
    }

    private void validate(byte[] raw) {
        switch (addrFormat) {
            case FiConst.Enum.FI_SOCKADDR_IN -> expect(raw, 16, 2);
            case FiConst.Enum.FI_SOCKADDR_IN6 -> expect(raw, 28, 10);
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
    private static void expect(byte[] raw, int length, int family) {
        int f = raw.length >= 2 ? (raw[0] & 0xff) | (raw[1] & 0xff) << 8 : -1;
        if (raw.length != length || f != family) {
            throw new InvalidRequestException("peer address is not a " + length + "-byte sockaddr of family "
                    + family + " (got " + raw.length + " bytes, family " + f + ")");
        }
    }

    /** FI_ADDR_STR: printable ASCII ending in NUL, as fi_getname returns it ("fi_shm://..."). */
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
        String own = prefix(endpoint.address);
        String theirs = prefix(raw);
        if (!own.equals(theirs)) {
            throw new InvalidRequestException("peer address scheme '" + theirs + "' does not match this provider's '"
                    + own + "'");
        }
    }

    private static String prefix(byte[] raw) {
        String s = new String(raw, StandardCharsets.US_ASCII);
        int i = s.indexOf("://");
        return i < 0 ? "" : s.substring(0, i);
    }
}
