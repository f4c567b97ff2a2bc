package dev.transferengine.bench.process;

import dev.transferengine.api.DomainAddress;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * What a {@code client} tells the {@code server} with one SEND before a row's timed writes: the row number
 * (its writes carry imm {@link #immOf(int) ROW_IMM_BASE + row}), the write size, how many timed writes follow,
 * and where to send the {@link RowResult}. A count of 0 ends the session. Wire form, little-endian: u32 magic
 * "TBRW", i32 row, i64 size, i64 count, then the reply address in its wire form ({@link DomainAddress#encode}).
 * Immutable.
 */
public record RowAnnouncement(int row, long size, long count, DomainAddress replyTo) {
    static final int HEADER_BYTES = 24;
    /** Room for any announcement: the header and the longest address wire form. */
    public static final int MAX_BYTES = HEADER_BYTES + 4 + DomainAddress.MAX_LENGTH;
    /** The most rows one session may announce: the server counts each row's imm from the start. */
    public static final int MAX_ROWS = 256;
    /** Row {@code r}'s timed writes carry imm {@code ROW_IMM_BASE + r}. */
    static final int ROW_IMM_BASE = 0x0BE1_0000;
    /** The warm-up writes of every row carry this imm; the server counts them apart from the timed ones. */
    public static final int WARMUP_IMM = ROW_IMM_BASE - 1;
    private static final int MAGIC = 0x57524254;   // "TBRW" little-endian
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public RowAnnouncement {
        if (row < 0 || row >= MAX_ROWS || size < 0 || count < 0 || replyTo == null) {
            throw new IllegalArgumentException("bad row announcement: row " + row + ", size " + size + ", count "
                    + count + ", reply to " + replyTo);
        }
    }

    /** The announcement that ends a session. */
    public static RowAnnouncement end(int rows, DomainAddress replyTo) {
        return new RowAnnouncement(Math.min(rows, MAX_ROWS - 1), 0, 0, replyTo);
    }

    public boolean isEnd() {
        return count == 0;
    }

    public static int immOf(int row) {
        return ROW_IMM_BASE + row;
    }

    /** Writes the wire form into {@code into}; returns its length. */
    public int encode(MemorySegment into) {
        byte[] address = replyTo.encode();
        into.set(INT, 0, MAGIC);
        into.set(INT, 4, row);
        into.set(LONG, 8, size);
        into.set(LONG, 16, count);
        MemorySegment.copy(address, 0, into, ValueLayout.JAVA_BYTE, HEADER_BYTES, address.length);
        return HEADER_BYTES + address.length;
    }

    /** Reads a received message; {@link IllegalArgumentException} if it is not an announcement. */
    public static RowAnnouncement decode(MemorySegment message) {
        if (message.byteSize() <= HEADER_BYTES || message.byteSize() > MAX_BYTES || message.get(INT, 0) != MAGIC) {
            throw new IllegalArgumentException("not a transfer-bench row announcement (" + message.byteSize() + " bytes)");
        }
        DomainAddress replyTo;
        try {
            replyTo = DomainAddress.decode(message.asSlice(HEADER_BYTES).toArray(ValueLayout.JAVA_BYTE));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("row announcement with a bad reply address: " + e.getMessage(), e);
        }
        return new RowAnnouncement(message.get(INT, 4), message.get(LONG, 8), message.get(LONG, 16), replyTo);
    }
}
