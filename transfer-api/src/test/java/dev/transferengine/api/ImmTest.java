package dev.transferengine.api;

import java.util.List;
import java.util.OptionalInt;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Imm}: imms print and parse as unsigned 32-bit numbers, and the requests print them so. */
class ImmTest {
    private static final int DEADBEEF = 0xDEADBEEF;

    @Test
    void printsUnsigned() {
        assertEquals("3735928559", Imm.toUnsignedString(DEADBEEF));
        assertEquals(3_735_928_559L, Imm.toUnsignedLong(DEADBEEF));
        assertEquals("0xdeadbeef", Imm.toHexString(DEADBEEF));
        assertEquals("4294967295", Imm.toUnsignedString(-1));
        assertEquals("0", Imm.toUnsignedString(0));
        assertEquals("0x0", Imm.toHexString(0));
    }

    @Test
    void parsesDecimalAndHexBackToTheSameInt() {
        assertEquals(DEADBEEF, Imm.parse("3735928559"));
        assertEquals(DEADBEEF, Imm.parse("0xdeadbeef"));
        assertEquals(DEADBEEF, Imm.parse("0XDEADBEEF"));
        assertEquals(-1, Imm.parse("4294967295"));
        assertEquals(-1, Imm.parse("0xffffffff"));
        assertEquals(0, Imm.parse("0"));
        assertEquals(7, Imm.parse("0x7"));
    }

    @Test
    void everyPrintedFormParsesBack() {
        Random random = new Random(11);
        for (int i = 0; i < 10_000; i++) {
            int imm = random.nextInt();
            assertEquals(imm, Imm.parse(Imm.toUnsignedString(imm)));
            assertEquals(imm, Imm.parse(Imm.toHexString(imm)));
        }
        for (int imm : new int[] {0, 1, -1, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
            assertEquals(imm, Imm.parse(Imm.toUnsignedString(imm)));
            assertEquals(imm, Imm.parse(Imm.toHexString(imm)));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "0x", "4294967296", "99999999999", "-1", "+1", "-559038737", " 1", "1 ", "0x1ffffffff",
            "0x-1", "0xg", "12a", "1_000", "\u0661\u0662", "0x\uff11", "00000000004294967295"})
    void rejectsWhatIsNoUnsigned32BitNumber(String text) {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> Imm.parse(text));
        assertEquals(ErrorCategory.INVALID_ARGUMENT, e.category());
        assertTrue(e.getMessage().contains("'" + text + "'"), e.getMessage());
    }

    @Test
    void rejectsNull() {
        assertEquals(ErrorCategory.INVALID_ARGUMENT,
                assertThrows(InvalidRequestException.class, () -> Imm.parse(null)).category());
    }

    @Test
    void fromUnsignedChecksTheRange() {
        assertEquals(DEADBEEF, Imm.fromUnsigned(3_735_928_559L));
        assertEquals(-1, Imm.fromUnsigned(Imm.MAX_UNSIGNED));
        assertEquals(0, Imm.fromUnsigned(0));
        assertThrows(InvalidRequestException.class, () -> Imm.fromUnsigned(-1));
        assertThrows(InvalidRequestException.class, () -> Imm.fromUnsigned(Imm.MAX_UNSIGNED + 1));
        assertThrows(InvalidRequestException.class, () -> Imm.fromUnsigned(Long.MIN_VALUE));
    }

    @Test
    void requestsPrintTheirImmUnsigned() {
        FakeRegion src = FakeRegion.ofBytes(64);
        RemoteRegion dst = Encodings.region(new Random(3), 1);
        List<TransferRequest> requests = List.of(
                SingleWrite.withImm(src, 0, 8, dst, 0, DEADBEEF),
                ImmWrite.of(dst, DEADBEEF),
                new Barrier(List.of(dst), DEADBEEF, Routing.allNics()),
                new Scatter(src, List.of(new ScatterTarget(dst, 8, 0, 0)), OptionalInt.of(DEADBEEF),
                        ScatterRouting.SHARD_PEERS));
        for (TransferRequest r : requests) {
            String text = r.toString();
            assertTrue(text.contains("imm=3735928559"), text);
            assertFalse(text.contains("-559038737"), text);
            assertTrue(text.startsWith(r.getClass().getSimpleName() + "["), text);
        }
        assertTrue(SingleWrite.of(src, 0, 8, dst, 0).toString().contains("imm=none"));
    }
}
