package dev.transferengine.verbs.internal;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * How to reach a remote port: an {@code ibv_ah_attr}. RoCE needs the global route (GRH with the remote GID
 * and our source GID index); InfiniBand addresses by LID alone.
 *
 * @param global     true for RoCE (or routed IB): use the GRH
 * @param remoteGid  the peer's 16-byte GID (used when global)
 * @param remoteLid  the peer's LID (InfiniBand; 0 on RoCE)
 * @param sgidIndex  our GID table index
 * @param port       our port number
 */
record Route(boolean global, byte[] remoteGid, int remoteLid, int sgidIndex, int port) {
    /** Hop limit for RoCE v2 (an IP TTL); 64 like the reference. */
    static final int HOP_LIMIT = 64;

    public Route {
        if (remoteGid.length != 16) {
            throw new IllegalArgumentException("a GID has 16 bytes, got " + remoteGid.length);
        }
        remoteGid = remoteGid.clone();
    }

    /** Writes this route as a zeroed {@code struct ibv_ah_attr} at {@code base} in {@code s}. */
    void writeTo(MemorySegment s, long base) {
        s.asSlice(base, IbvLayouts.IBV_AH_ATTR.byteSize()).fill((byte) 0);
        if (global) {
            MemorySegment.copy(remoteGid, 0, s, JAVA_BYTE, base + off("grh.dgid"), 16);
            s.set(JAVA_BYTE, base + off("grh.sgid_index"), (byte) sgidIndex);
            s.set(JAVA_BYTE, base + off("grh.hop_limit"), (byte) HOP_LIMIT);
            s.set(JAVA_BYTE, base + off("is_global"), (byte) 1);
        }
        s.set(JAVA_SHORT, base + off("dlid"), (short) remoteLid);
        s.set(JAVA_BYTE, base + off("sl"), (byte) 0);
        s.set(JAVA_BYTE, base + off("port_num"), (byte) port);
    }

    private static long off(String field) {
        return IbvLayouts.offset(IbvLayouts.IBV_AH_ATTR, field);
    }
}
