package dev.transferengine.spi;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link RegisteredMemory#contains}: the one range check, at its edges. */
class RegisteredMemoryContainsTest {
    private static final long BASE = 0x7f00_0000_1000L;
    private static final long SIZE = 4096;
    private static final RegisteredMemory MEMORY = new RegisteredMemory() {
        @Override
        public long address() {
            return BASE;
        }

        @Override
        public long lengthBytes() {
            return SIZE;
        }

        @Override
        public long remoteKey() {
            return 1;
        }

        @Override
        public long remoteBase() {
            return 0;
        }
    };

    @Test
    void theWholeRangeAndItsPartsAreInside() {
        assertTrue(MEMORY.contains(BASE, SIZE));
        assertTrue(MEMORY.contains(BASE + 1, SIZE - 1));
        assertTrue(MEMORY.contains(BASE + SIZE - 1, 1), "the last byte");
        assertTrue(MEMORY.contains(BASE + 100, 200));
    }

    @Test
    void zeroLengthIsInsideFromTheBaseUpToAndIncludingTheEnd() {
        assertTrue(MEMORY.contains(BASE, 0));
        assertTrue(MEMORY.contains(BASE + SIZE, 0), "at the end");
        assertFalse(MEMORY.contains(BASE + SIZE + 1, 0), "past the end");
        assertFalse(MEMORY.contains(BASE - 1, 0), "below the base");
    }

    @Test
    void rangesCrossingEitherEndAreOutside() {
        assertFalse(MEMORY.contains(BASE + SIZE, 1), "starts at the end");
        assertFalse(MEMORY.contains(BASE + 1, SIZE), "one byte past the end");
        assertFalse(MEMORY.contains(BASE - 1, 2), "starts one below the base");
        assertFalse(MEMORY.contains(BASE, SIZE + 1));
        assertFalse(MEMORY.contains(0, SIZE));
    }

    @Test
    void hugeAndNegativeLengthsAreOutside() {
        assertFalse(MEMORY.contains(BASE, Long.MAX_VALUE));
        assertFalse(MEMORY.contains(BASE + 1, Long.MAX_VALUE));
        assertFalse(MEMORY.contains(BASE, -1));
        assertFalse(MEMORY.contains(BASE + SIZE, -1), "negative length at the end does not reach back");
        assertFalse(MEMORY.contains(BASE, Long.MIN_VALUE));
    }

    @Test
    void startPlusLengthOverflowingIsOutside() {
        assertFalse(MEMORY.contains(Long.MAX_VALUE, 2), "signed overflow of start + length");
        assertFalse(MEMORY.contains(-1L, 2), "unsigned wrap of start + length");
        assertFalse(MEMORY.contains(BASE + 10, Long.MAX_VALUE - 5), "start + length wraps negative");
        assertFalse(RegisteredMemory.contains(Long.MAX_VALUE - 10, 20, Long.MAX_VALUE, 20),
                "past the end of a region that straddles 2^63");
        assertTrue(RegisteredMemory.contains(Long.MAX_VALUE - 10, 20, Long.MAX_VALUE, 10), "inside it, across 2^63");
        assertTrue(RegisteredMemory.contains(Long.MAX_VALUE - 10, 20, Long.MIN_VALUE + 4, 1),
                "above 2^63 (negative as a signed long) and inside: a signed comparison would refuse it");
    }

    @Test
    void offsetBasedCallersPassBaseZeroAndNegativeOffsetsAreOutside() {
        assertTrue(RegisteredMemory.contains(0, SIZE, 0, SIZE));
        assertTrue(RegisteredMemory.contains(0, SIZE, SIZE, 0));
        assertFalse(RegisteredMemory.contains(0, SIZE, -1, 1));
        assertFalse(RegisteredMemory.contains(0, SIZE, -1, 0));
        assertFalse(RegisteredMemory.contains(0, SIZE, Long.MIN_VALUE, 0));
        assertFalse(RegisteredMemory.contains(0, SIZE, 1, Long.MAX_VALUE));
        assertTrue(RegisteredMemory.contains(0, 0, 0, 0), "an empty region holds an empty range at 0");
        assertFalse(RegisteredMemory.contains(0, 0, 0, 1));
        assertFalse(RegisteredMemory.contains(0, -1, 0, 0), "a negative size holds nothing");
    }

    @Test
    void addressesInTheUpperHalfAreUnsigned() {
        long high = 0xffff_8000_0000_0000L; // negative as a signed long
        assertTrue(RegisteredMemory.contains(high, SIZE, high + 8, 8));
        assertTrue(RegisteredMemory.contains(high, SIZE, high + SIZE, 0));
        assertFalse(RegisteredMemory.contains(high, SIZE, high - 8, 8));
        assertFalse(RegisteredMemory.contains(high, SIZE, 8, 8), "a low address is below a high base");
        long top = -SIZE; // the last SIZE bytes of the address space
        assertTrue(RegisteredMemory.contains(top, SIZE, -1L, 1));
        assertFalse(RegisteredMemory.contains(top, SIZE, -1L, 2));
    }
}
