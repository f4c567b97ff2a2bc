package dev.transferengine.verbs.internal;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;
import dev.transferengine.verbs.internal.DeviceContext.GidEntry;

/**
 * Picks the GID table entry a port's connections use. Stateless.
 *
 * <p>InfiniBand: index 0 (the port GID). RoCE: the first RoCE v2 entry with an IPv4-mapped address
 * ({@code ::ffff:a.b.c.d}, routable over IPv4, the usual data-centre setup), then RoCE v2 with a global IPv6
 * address, then RoCE v2 link-local, then RoCE v1. An explicit index ({@code verbs.gidIndex}) wins if the slot
 * holds a GID.
 */
final class GidSelector {
    /** GID tables can be long (one entry per IP address and type); scanning more is pointless. */
    private static final int MAX_SCAN = 256;

    private GidSelector() {
    }

    static GidEntry select(DeviceContext context, int port, int linkLayer, int gidTableLength, int requestedIndex) {
        String where = context.deviceName() + " port " + port;
        if (requestedIndex >= 0) {
            GidEntry e = context.queryGid(port, requestedIndex);
            if (e == null || isZero(e.gid())) {
                throw new TransferException(ErrorCategory.INVALID_ARGUMENT,
                        "verbs.gidIndex=" + requestedIndex + ": no GID at that index on " + where);
            }
            return e;
        }
        GidEntry best = null;
        int bestRank = Integer.MAX_VALUE;
        int n = Math.min(gidTableLength, MAX_SCAN);
        for (int i = 0; i < n; i++) {
            GidEntry e = context.queryGid(port, i);
            if (e == null || isZero(e.gid())) {
                continue;
            }
            if (linkLayer != Ibv.IBV_LINK_LAYER_ETHERNET) {
                return e; // InfiniBand: the first valid entry is the port GID
            }
            int rank = rank(e);
            if (rank < bestRank) {
                best = e;
                bestRank = rank;
            }
        }
        if (best == null) {
            throw new TransferException(ErrorCategory.UNAVAILABLE, "verbs: " + where
                    + " has no usable GID (is an IP address configured on its network interface?)");
        }
        return best;
    }

    /** Lower is better. */
    static int rank(GidEntry e) {
        boolean v2 = e.type() == Ibv.IBV_GID_TYPE_ROCE_V2;
        byte[] g = e.gid();
        if (v2 && isIpv4Mapped(g)) {
            return 0;
        }
        boolean linkLocal = (g[0] & 0xff) == 0xfe && (g[1] & 0xc0) == 0x80;
        if (v2) {
            return linkLocal ? 2 : 1;
        }
        return 3;
    }

    static boolean isIpv4Mapped(byte[] g) {
        for (int i = 0; i < 10; i++) {
            if (g[i] != 0) {
                return false;
            }
        }
        return (g[10] & 0xff) == 0xff && (g[11] & 0xff) == 0xff;
    }

    private static boolean isZero(byte[] g) {
        for (byte b : g) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }
}
