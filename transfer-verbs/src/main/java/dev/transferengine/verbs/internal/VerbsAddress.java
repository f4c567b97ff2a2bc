package dev.transferengine.verbs.internal;

import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.InvalidRequestException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The raw bytes of a verbs {@link DomainAddress}: where a domain's handshake (UD) queue pair listens.
 * Immutable.
 *
 * <pre>
 *   0  u8   format version (1)
 *   1  u8   flags: bit 0 = global route (RoCE: address by GID)
 *   2  u16  LID (InfiniBand; 0 on RoCE), little-endian
 *   4  u32  UD queue pair number, little-endian
 *   8  u32  QKey, little-endian (random per domain, so stray datagrams are dropped by the NIC)
 *  12  16B  GID (network order, as in the GID table)
 * </pre>
 */
record VerbsAddress(boolean global, int lid, int udQpn, int qkey, byte[] gid) {
    static final int LENGTH = 28;
    static final byte FORMAT = 1;

    VerbsAddress {
        gid = gid.clone();
    }

    DomainAddress toDomainAddress() {
        ByteBuffer b = ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        b.put(FORMAT).put((byte) (global ? 1 : 0)).putShort((short) lid).putInt(udQpn).putInt(qkey).put(gid);
        return DomainAddress.of(b.array());
    }

    /** Parses a peer's address; anything that is not a verbs address gets an InvalidRequestException. */
    static VerbsAddress parse(DomainAddress address) {
        if (address == null) {
            throw new InvalidRequestException("peer address is null");
        }
        if (address.length() != LENGTH || address.byteAt(0) != FORMAT) {
            throw new InvalidRequestException("not a verbs domain address (expected " + LENGTH
                    + " bytes starting with format " + FORMAT + "): " + address);
        }
        return parse(ByteBuffer.wrap(address.bytes()));
    }

    /** Reads the 28 address bytes at the buffer's position (used by the handshake codec too). */
    static VerbsAddress parse(ByteBuffer raw) {
        ByteBuffer b = raw.order(ByteOrder.LITTLE_ENDIAN);
        byte format = b.get();
        if (format != FORMAT) {
            throw new InvalidRequestException("verbs address format " + format + " is not supported");
        }
        boolean global = (b.get() & 1) != 0;
        int lid = Short.toUnsignedInt(b.getShort());
        int qpn = b.getInt();
        int qkey = b.getInt();
        byte[] gid = new byte[16];
        b.get(gid);
        return new VerbsAddress(global, lid, qpn, qkey, gid);
    }

    @Override
    public byte[] gid() {
        return gid.clone();
    }

    @Override
    public String toString() {
        return "verbs[" + gidText(gid) + (global ? "" : " lid " + lid) + " qpn " + udQpn + "]";
    }

    /** An IPv6-style rendering of a GID ("::ffff:10.0.2.15" style for IPv4-mapped ones). */
    static String gidText(byte[] g) {
        if (GidSelector.isIpv4Mapped(g)) {
            return "::ffff:" + (g[12] & 0xff) + "." + (g[13] & 0xff) + "." + (g[14] & 0xff) + "." + (g[15] & 0xff);
        }
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 16; i += 2) {
            if (i > 0) {
                s.append(':');
            }
            s.append(Integer.toHexString(((g[i] & 0xff) << 8) | (g[i + 1] & 0xff)));
        }
        return s.toString();
    }
}
