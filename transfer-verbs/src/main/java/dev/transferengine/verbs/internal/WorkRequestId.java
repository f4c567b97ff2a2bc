package dev.transferengine.verbs.internal;

/**
 * The 64-bit {@code wr_id} every work request carries, so a completion finds its owner without a lookup
 * table: bits 63..60 the kind, 59..32 the owner (a send queue's index), 31..0 a sequence number or slot.
 */
final class WorkRequestId {
    public static final int SEND = 1;
    public static final int MESSAGE_RECEIVE = 2;
    public static final int IMM_RECEIVE = 3;
    public static final int HANDSHAKE_RECEIVE = 4;
    public static final int HANDSHAKE_SEND = 5;

    /** Owners are indices below this. */
    public static final int MAX_OWNERS = 1 << 28;

    private WorkRequestId() {
    }

    public static long of(int kind, int owner, int low) {
        return ((long) kind << 60) | ((long) owner << 32) | Integer.toUnsignedLong(low);
    }

    public static int kind(long id) {
        return (int) (id >>> 60);
    }

    public static int owner(long id) {
        return (int) ((id >>> 32) & (MAX_OWNERS - 1));
    }

    public static int low(long id) {
        return (int) id;
    }
}
