package dev.transferengine.verbs.internal;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One connection handshake datagram (UD SEND between the domains' handshake queue pairs). Immutable.
 *
 * <p>Both sides send the same kind of message: "here are my queue pairs (set {@code epoch}), I have connected
 * mine to your set {@code connectedTo} (0 = not yet), and {@code ready} = I know you have connected yours to
 * my current set". A side may post once the peer has connected to its current set; it answers every message
 * whose sender is not yet ready. See {@link ConnectionManager} for the state machine.
 *
 * <pre>
 *   0  u32  magic "TEVH"            4  u8 version (1)      5  u8 flags (bit 0: ready)
 *   6  u8   path MTU (enum ibv_mtu) 7  u8 RMA queue pairs k (1..16)
 *   8  28B  sender's VerbsAddress
 *  36  u32  sender's epoch         40  u32 receiver's epoch the sender is connected to (0 = none)
 *  44  u32  message QPN            48  u32 message QP's first PSN
 *  52  k * (u32 RMA QPN, u32 RMA QP's first PSN)
 * </pre>
 * All integers little-endian.
 */
record HandshakeMessage(VerbsAddress sender, int epoch, int connectedTo, boolean ready, int pathMtu,
                        int messageQpn, int messagePsn, int[] rmaQpns, int[] rmaPsns) {
    static final int MAGIC = 0x48564554; // "TEVH" read little-endian
    static final byte VERSION = 1;
    private static final int HEADER = 52;

    byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(HEADER + 8 * rmaQpns.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC).put(VERSION).put((byte) (ready ? 1 : 0)).put((byte) pathMtu).put((byte) rmaQpns.length);
        b.put(sender.toDomainAddress().bytes());
        b.putInt(epoch).putInt(connectedTo).putInt(messageQpn).putInt(messagePsn);
        for (int i = 0; i < rmaQpns.length; i++) {
            b.putInt(rmaQpns[i]).putInt(rmaPsns[i]);
        }
        return b.array();
    }

    /** Decodes a datagram; null for anything that is not a well-formed handshake message. */
    static HandshakeMessage decode(byte[] raw) {
        if (raw == null || raw.length < HEADER) {
            return null;
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
            if (b.getInt() != MAGIC || b.get() != VERSION) {
                return null;
            }
            boolean ready = (b.get() & 1) != 0;
            int mtu = b.get();
            int k = b.get();
            if (k < 1 || k > VerbsSettings.MAX_RMA_QPS || raw.length < HEADER + 8 * k || mtu < 1 || mtu > 5) {
                return null;
            }
            VerbsAddress sender = VerbsAddress.parse(b);
            int epoch = b.getInt();
            int connectedTo = b.getInt();
            int msgQpn = b.getInt();
            int msgPsn = b.getInt();
            int[] qpns = new int[k];
            int[] psns = new int[k];
            for (int i = 0; i < k; i++) {
                qpns[i] = b.getInt();
                psns[i] = b.getInt();
            }
            return epoch > 0 ? new HandshakeMessage(sender, epoch, connectedTo, ready, mtu, msgQpn, msgPsn, qpns, psns)
                    : null;
        } catch (BufferUnderflowException | IllegalArgumentException | dev.transferengine.api.TransferException e) {
            return null;
        }
    }
}
