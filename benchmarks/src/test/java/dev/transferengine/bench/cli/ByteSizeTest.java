package dev.transferengine.bench.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ByteSizeTest {

    @Test
    void parsesBinaryUnitsInEverySpelling() {
        assertEquals(64, ByteSize.parse("64"));
        assertEquals(64, ByteSize.parse("64B"));
        assertEquals(4096, ByteSize.parse("4K"));
        assertEquals(4096, ByteSize.parse("4KiB"));
        assertEquals(4096, ByteSize.parse("4kb"));
        assertEquals(64L << 20, ByteSize.parse("64M"));
        assertEquals(2L << 30, ByteSize.parse("2GiB"));
        assertEquals(1L << 40, ByteSize.parse(" 1T "));
    }

    @Test
    void rejectsGarbageAndOverflow() {
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("1Q"));
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parse(""));
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("1.5M"));
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("-4K"));
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("99999999999T"));
    }

    @Test
    void expandsPowerOfTwoRangesAndKeepsListOrder() {
        assertEquals(List.of(1024L, 2048L, 4096L), ByteSize.parseList("1K-4K"));
        assertEquals(List.of(65536L, 64L, 1024L, 2048L), ByteSize.parseList("64K,64,1K-2K"));
        assertEquals(17, ByteSize.parseList("1K-64M").size());
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parseList("4K-1K"));
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parseList("0"));
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parseList(","));
    }

    @Test
    void formatsExactUnitsWithoutDecimals() {
        assertEquals("64 B", ByteSize.format(64));
        assertEquals("4 KiB", ByteSize.format(4096));
        assertEquals("64 MiB", ByteSize.format(64L << 20));
        assertEquals("1.5 KiB", ByteSize.format(1536));
    }
}
