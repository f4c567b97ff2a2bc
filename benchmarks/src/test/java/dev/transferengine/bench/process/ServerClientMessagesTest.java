package dev.transferengine.bench.process;

import dev.transferengine.api.DomainAddress;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What {@code transfer-bench server} and {@code client} exchange: the row announcement and row result messages
 * ({@link RowAnnouncement}, {@link RowResult}) and the bytes the client writes ({@link RowPattern}).
 */
class ServerClientMessagesTest {

    @Test
    void announcementsRoundTripAndRejectOtherMessages() {
        try (Arena arena = Arena.ofConfined()) {
            DomainAddress client = DomainAddress.of(new byte[] {1, 2, 3, 4, 5});
            MemorySegment m = arena.allocate(RowAnnouncement.MAX_BYTES);
            int length = new RowAnnouncement(7, 1 << 20, 3000, client).encode(m);
            assertEquals(RowAnnouncement.HEADER_BYTES + client.encode().length, length);
            assertEquals(new RowAnnouncement(7, 1 << 20, 3000, client), RowAnnouncement.decode(m.asSlice(0, length)));
            assertTrue(RowAnnouncement.end(3, client).isEnd());
            assertThrows(IllegalArgumentException.class, () -> RowAnnouncement.decode(m.asSlice(0, 16)));
            assertThrows(IllegalArgumentException.class, () -> RowAnnouncement.decode(m.asSlice(0, length - 1)));
            assertThrows(IllegalArgumentException.class,
                    () -> new RowAnnouncement(RowAnnouncement.MAX_ROWS, 1, 1, client));

            MemorySegment r = arena.allocate(RowResult.BYTES);
            new RowResult(7, 123_456, -1).encode(r);
            assertEquals(new RowResult(7, 123_456, -1), RowResult.decode(r));
            assertTrue(RowResult.decode(r).verified());
            assertThrows(IllegalArgumentException.class, () -> RowResult.decode(m.asSlice(0, RowResult.BYTES)));
        }
    }

    @Test
    void rowPatternsDifferBetweenRowsAndFindTheFirstWrongByte() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(4096);
            RowPattern.fill(s, 4096, 2);
            assertEquals(-1, RowPattern.firstMismatch(s, 4096, 2));
            assertTrue(RowPattern.firstMismatch(s, 4096, 3) >= 0);
            s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 1000, (byte) (RowPattern.at(1000, 2) + 1));
            assertEquals(1000, RowPattern.firstMismatch(s, 4096, 2));
        }
    }
}
