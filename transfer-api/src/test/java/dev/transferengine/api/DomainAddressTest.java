package dev.transferengine.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static dev.transferengine.api.Encodings.assertMalformed;
import static dev.transferengine.api.Encodings.withByte;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DomainAddressTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 26, 32, 255, 256, DomainAddress.MAX_LENGTH})
    void bytesRoundTripToEqualAddressAndIdenticalEncoding(int length) {
        DomainAddress a = Encodings.address(new Random(length), length);
        byte[] encoded = a.encode();
        assertEquals(4 + length, encoded.length);

        DomainAddress decoded = DomainAddress.decode(encoded);
        assertEquals(a, decoded);
        assertEquals(a.hashCode(), decoded.hashCode());
        assertArrayEquals(a.bytes(), decoded.bytes());
        assertArrayEquals(encoded, decoded.encode());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 26, DomainAddress.MAX_LENGTH})
    void hexRoundTripsAndIsLowerCase(int length) {
        DomainAddress a = Encodings.address(new Random(7 + length), length);
        String hex = a.toHex();
        assertEquals(hex.toLowerCase(java.util.Locale.ROOT), hex);
        assertEquals(2 * a.encode().length, hex.length());

        DomainAddress parsed = DomainAddress.fromHex(hex);
        assertEquals(a, parsed);
        assertEquals(hex, parsed.toHex());
    }

    @Test
    void wireFormIsMagicVersionLittleEndianLengthThenBytes() {
        DomainAddress a = DomainAddress.of(new byte[] {(byte) 0xde, (byte) 0xad});
        assertArrayEquals(new byte[] {'A', 1, 2, 0, (byte) 0xde, (byte) 0xad}, a.encode());
        assertEquals("41010200dead", a.toHex());
    }

    @Test
    void toStringIsTheHexThatFromHexReads() {
        DomainAddress a = DomainAddress.of(new byte[] {(byte) 0xde, (byte) 0xad});
        assertEquals("41010200dead", a.toString());
        assertEquals(a, DomainAddress.fromHex(a.toString()));
    }

    @Test
    void rawBytesAreCopiedInAndOut() {
        byte[] raw = {1, 2, 3};
        DomainAddress a = DomainAddress.of(raw);
        raw[0] = 9;
        assertEquals(1, a.byteAt(0));
        a.bytes()[1] = 9;
        assertEquals(2, a.byteAt(1));
        assertEquals(3, a.length());
    }

    @Test
    void equalityIsByBytes() {
        assertEquals(DomainAddress.of(new byte[] {1, 2}), DomainAddress.of(new byte[] {1, 2}));
        assertNotEquals(DomainAddress.of(new byte[] {1, 2}), DomainAddress.of(new byte[] {1, 3}));
        assertNotEquals(DomainAddress.of(new byte[] {1, 2}), DomainAddress.of(new byte[] {1, 2, 0}));
    }

    @Test
    void ofRejectsNullEmptyAndOversizedRawBytes() {
        for (byte[] raw : new byte[][] {null, new byte[0], new byte[DomainAddress.MAX_LENGTH + 1]}) {
            InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> DomainAddress.of(raw));
            assertEquals(ErrorCategory.INVALID_ARGUMENT, e.category());
        }
    }

    @Test
    void rejectsNullAndEmpty() {
        assertMalformed(() -> DomainAddress.decode(null));
        assertMalformed(() -> DomainAddress.decode(new byte[0]));
        assertMalformed(() -> DomainAddress.fromHex(null));
        assertMalformed(() -> DomainAddress.fromHex(""));
    }

    @Test
    void rejectsBadHex() {
        String valid = DomainAddress.of(new byte[] {5, 6, 7}).toHex();
        assertMalformed(() -> DomainAddress.fromHex(valid.substring(1)));
        assertMalformed(() -> DomainAddress.fromHex(valid + "0"));
        assertMalformed(() -> DomainAddress.fromHex("zz" + valid.substring(2)));
        assertMalformed(() -> DomainAddress.fromHex(valid.substring(0, 4) + "g0" + valid.substring(6)));
        assertMalformed(() -> DomainAddress.fromHex(valid.substring(0, 4) + " 0" + valid.substring(6)));
        assertMalformed(() -> DomainAddress.fromHex("0x" + valid));
    }

    /** Character.digit accepts non-ASCII digits (Arabic-Indic, full-width); a hex string must not. */
    @Test
    void rejectsNonAsciiDigitsThatCharacterDigitWouldAccept() {
        String valid = DomainAddress.of(new byte[] {0x33}).toHex();
        String arabicIndic = valid.replace("33", "\u0663\u0663");
        String fullWidth = valid.replace("01", "\uff10\uff11");
        assertMalformed(() -> DomainAddress.fromHex(arabicIndic));
        assertMalformed(() -> DomainAddress.fromHex(fullWidth));
    }

    @Test
    void rejectsWrongMagicAndVersion() {
        byte[] valid = DomainAddress.of(new byte[] {1, 2, 3}).encode();
        assertMalformed(() -> DomainAddress.decode(withByte(valid, 0, 'R')));
        assertMalformed(() -> DomainAddress.decode(withByte(valid, 0, 0)));
        assertMalformed(() -> DomainAddress.decode(withByte(valid, 1, 0)));
        assertMalformed(() -> DomainAddress.decode(withByte(valid, 1, 2)));
        assertMalformed(() -> DomainAddress.decode(withByte(valid, 1, 0xff)));
    }

    @Test
    void rejectsEveryTruncation() {
        byte[] valid = Encodings.address(new Random(3), 32).encode();
        for (int length = 0; length < valid.length; length++) {
            byte[] prefix = java.util.Arrays.copyOf(valid, length);
            assertMalformed(() -> DomainAddress.decode(prefix));
            assertMalformed(() -> DomainAddress.fromHex(Hex.encode(prefix)));
        }
    }

    @Test
    void rejectsTrailingBytes() {
        byte[] valid = DomainAddress.of(new byte[] {1, 2, 3}).encode();
        assertMalformed(() -> DomainAddress.decode(Encodings.concat(valid, new byte[] {0})));
        assertMalformed(() -> DomainAddress.decode(Encodings.concat(valid, valid)));
    }

    @Test
    void rejectsZeroAndOversizedLengthFields() {
        byte[] valid = DomainAddress.of(new byte[] {1, 2, 3}).encode();
        assertMalformed(() -> DomainAddress.decode(new byte[] {'A', 1, 0, 0}));
        assertMalformed(() -> DomainAddress.decode(new byte[] {'A', 1, 0, 0, 1}));
        // length 1025 and 65535 with enough bytes behind them: rejected for size, not truncation.
        byte[] big = new byte[4 + 0xffff];
        big[0] = 'A';
        big[1] = 1;
        big[2] = (byte) 0xff;
        big[3] = (byte) 0xff;
        assertMalformed(() -> DomainAddress.decode(big));
        byte[] justOver = java.util.Arrays.copyOf(big, 4 + DomainAddress.MAX_LENGTH + 1);
        justOver[2] = (byte) ((DomainAddress.MAX_LENGTH + 1) & 0xff);
        justOver[3] = (byte) ((DomainAddress.MAX_LENGTH + 1) >> 8);
        assertMalformed(() -> DomainAddress.decode(justOver));
        // length field larger than the bytes present
        assertMalformed(() -> DomainAddress.decode(withByte(valid, 2, 4)));
    }
}
