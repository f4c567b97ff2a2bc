package dev.transferengine.bench.process;

import java.lang.foreign.MemorySegment;

/**
 * The {@code server}'s answer to a row: how long the row took from its announcement to its last imm, and
 * whether the bytes were right. The client waits for it before the next row, so the next row's writes never
 * overwrite bytes the server is still checking. Wire form: 24 bytes, little-endian: u32 magic "TBRS",
 * i32 row, i64 nanoseconds, i64 first wrong byte (-1: all verified). Immutable.
 */
public record RowResult(int row, long nanos, long firstWrongByte) {
    public static final int BYTES = 24;
    private static final int MAGIC = 0x53524254;   // "TBRS" little-endian

    public boolean verified() {
        return firstWrongByte < 0;
    }

    public void encode(MemorySegment into) {
        into.set(RowAnnouncement.INT, 0, MAGIC);
        into.set(RowAnnouncement.INT, 4, row);
        into.set(RowAnnouncement.LONG, 8, nanos);
        into.set(RowAnnouncement.LONG, 16, firstWrongByte);
    }

    /** Reads a received message; {@link IllegalArgumentException} if it is not a row result. */
    public static RowResult decode(MemorySegment message) {
        if (message.byteSize() != BYTES || message.get(RowAnnouncement.INT, 0) != MAGIC) {
            throw new IllegalArgumentException("not a transfer-bench row result (" + message.byteSize() + " bytes)");
        }
        return new RowResult(message.get(RowAnnouncement.INT, 4), message.get(RowAnnouncement.LONG, 8),
                message.get(RowAnnouncement.LONG, 16));
    }
}
