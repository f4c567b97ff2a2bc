package dev.transferengine.bench;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * What a {@code client} tells the {@code server} with one SEND before a row's timed writes: the row number
 * (its writes carry imm {@link #immOf(int) ROW_IMM_BASE + row}), the write size and how many timed writes
 * follow. A count of 0 ends the session. Wire form: 24 bytes, little-endian: u32 magic "TBRW", i32 row,
 * i64 size, i64 count. Immutable.
 */
record RowAnnouncement(int row, long size, long count) {
    static final int BYTES = 24;
    /** The most rows one session may announce: the server counts each row's imm from the start. */
    static final int MAX_ROWS = 256;
    /** Row {@code r}'s timed writes carry imm {@code ROW_IMM_BASE + r}. */
    static final int ROW_IMM_BASE = 0x0BE1_0000;
    /** The warm-up writes of every row carry this imm; the server counts them apart from the timed ones. */
    static final int WARMUP_IMM = ROW_IMM_BASE - 1;
    private static final int MAGIC = 0x57524254;   // "TBRW" little-endian
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    RowAnnouncement {
        if (row < 0 || row >= MAX_ROWS || size < 0 || count < 0) {
            throw new IllegalArgumentException("bad row announcement: row " + row + ", size " + size + ", count " + count);
        }
    }

    /** The announcement that ends a session. */
    static RowAnnouncement end(int rows) {
        return new RowAnnouncement(Math.min(rows, MAX_ROWS - 1), 0, 0);
    }

    boolean isEnd() {
        return count == 0;
    }

    static int immOf(int row) {
        return ROW_IMM_BASE + row;
    }

    /** Writes the wire form into the first {@link #BYTES} bytes of {@code into}. */
    void encode(MemorySegment into) {
        into.set(INT, 0, MAGIC);
        into.set(INT, 4, row);
        into.set(LONG, 8, size);
        into.set(LONG, 16, count);
    }

    /** Reads a received message; {@link IllegalArgumentException} if it is not an announcement. */
    static RowAnnouncement decode(MemorySegment message) {
        if (message.byteSize() != BYTES || message.get(INT, 0) != MAGIC) {
            throw new IllegalArgumentException("not a transfer-bench row announcement (" + message.byteSize() + " bytes)");
        }
        return new RowAnnouncement(message.get(INT, 4), message.get(LONG, 8), message.get(LONG, 16));
    }
}
