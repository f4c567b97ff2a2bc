package dev.transferengine.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static dev.transferengine.api.Encodings.assertMalformed;
import static dev.transferengine.api.Encodings.withByte;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RemoteRegionTest {
    /** Offset of the u64 length field: magic, version, u64 base. */
    private static final int LENGTH_FIELD = 10;
    /** Offset of the u8 NIC count. */
    private static final int NIC_COUNT_FIELD = 18;
    /** Offset of the first NIC key's embedded address. */
    private static final int FIRST_ADDRESS = 19;

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4, 8, RemoteRegion.MAX_NICS})
    void bytesRoundTripToEqualRegionAndIdenticalEncoding(int nics) {
        RemoteRegion r = Encodings.region(new Random(nics), nics);
        byte[] encoded = r.encode();

        RemoteRegion decoded = RemoteRegion.decode(encoded);
        assertEquals(r, decoded);
        assertEquals(r.hashCode(), decoded.hashCode());
        assertEquals(r.baseAddress(), decoded.baseAddress());
        assertEquals(r.lengthBytes(), decoded.lengthBytes());
        assertEquals(nics, decoded.nicCount());
        for (int i = 0; i < nics; i++) {
            assertEquals(r.nic(i), decoded.nic(i));
        }
        assertArrayEquals(encoded, decoded.encode());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4})
    void hexRoundTrips(int nics) {
        RemoteRegion r = Encodings.region(new Random(100 + nics), nics);
        String hex = r.toHex();
        assertEquals(hex.toLowerCase(java.util.Locale.ROOT), hex);
        RemoteRegion parsed = RemoteRegion.fromHex(hex);
        assertEquals(r, parsed);
        assertEquals(hex, parsed.toHex());
    }

    @Test
    void extremeFieldValuesRoundTrip() {
        List<RemoteRegion.NicKey> keys = List.of(
                new RemoteRegion.NicKey(DomainAddress.of(new byte[] {0}), -1L, Long.MIN_VALUE),
                new RemoteRegion.NicKey(DomainAddress.of(new byte[DomainAddress.MAX_LENGTH]), 0L, Long.MAX_VALUE));
        for (long length : new long[] {0, 1, Long.MAX_VALUE}) {
            RemoteRegion r = new RemoteRegion(-1L, length, keys);
            assertEquals(r, RemoteRegion.decode(r.encode()));
            assertArrayEquals(r.encode(), RemoteRegion.decode(r.encode()).encode());
        }
    }

    @Test
    void wireFormStartsWithMagicVersionBaseLengthCount() {
        RemoteRegion r = new RemoteRegion(0x1122334455667788L, 4096,
                List.of(new RemoteRegion.NicKey(DomainAddress.of(new byte[] {7}), 5, 6)));
        ByteBuffer b = ByteBuffer.wrap(r.encode()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals('R', b.get());
        assertEquals(1, b.get());
        assertEquals(0x1122334455667788L, b.getLong());
        assertEquals(4096, b.getLong());
        assertEquals(1, b.get());
        assertEquals('A', b.get());
        assertEquals(1, b.get());
        assertEquals(1, b.getShort());
        assertEquals(7, b.get());
        assertEquals(5, b.getLong());
        assertEquals(6, b.getLong());
        assertEquals(0, b.remaining());
    }

    @Test
    void equalityCoversEveryField() {
        RemoteRegion r = Encodings.region(new Random(5), 2);
        assertNotEquals(r, new RemoteRegion(r.baseAddress() + 1, r.lengthBytes(), r.nics()));
        assertNotEquals(r, new RemoteRegion(r.baseAddress(), r.lengthBytes() ^ 1, r.nics()));
        assertNotEquals(r, new RemoteRegion(r.baseAddress(), r.lengthBytes(), List.of(r.nic(1), r.nic(0))));
        assertNotEquals(r, new RemoteRegion(r.baseAddress(), r.lengthBytes(), List.of(r.nic(0))));
    }

    @Test
    void constructorRejectsBadArguments() {
        List<RemoteRegion.NicKey> one = List.of(new RemoteRegion.NicKey(DomainAddress.of(new byte[] {1}), 0, 0));
        List<RemoteRegion.NicKey> tooMany = new ArrayList<>();
        for (int i = 0; i <= RemoteRegion.MAX_NICS; i++) {
            tooMany.add(one.get(0));
        }
        assertInvalid(() -> new RemoteRegion(0, -1, one));
        assertInvalid(() -> new RemoteRegion(0, 1, null));
        assertInvalid(() -> new RemoteRegion(0, 1, List.of()));
        assertInvalid(() -> new RemoteRegion(0, 1, tooMany));
    }

    @Test
    void nicListIsImmutableCopy() {
        List<RemoteRegion.NicKey> keys = new ArrayList<>(Encodings.region(new Random(9), 2).nics());
        RemoteRegion r = new RemoteRegion(0, 10, keys);
        keys.clear();
        assertEquals(2, r.nicCount());
        assertThrows(UnsupportedOperationException.class, () -> r.nics().clear());
    }

    @Test
    void rejectsNullAndEmpty() {
        assertMalformed(() -> RemoteRegion.decode(null));
        assertMalformed(() -> RemoteRegion.decode(new byte[0]));
        assertMalformed(() -> RemoteRegion.fromHex(null));
        assertMalformed(() -> RemoteRegion.fromHex(""));
    }

    @Test
    void rejectsBadHex() {
        String valid = Encodings.region(new Random(11), 2).toHex();
        assertMalformed(() -> RemoteRegion.fromHex(valid.substring(1)));
        assertMalformed(() -> RemoteRegion.fromHex(valid + "f"));
        assertMalformed(() -> RemoteRegion.fromHex("xx" + valid.substring(2)));
        assertMalformed(() -> RemoteRegion.fromHex(valid.substring(0, valid.length() - 2) + "-1"));
        assertMalformed(() -> RemoteRegion.fromHex(valid.substring(0, 10) + "\u00e9\u00e9" + valid.substring(12)));
    }

    @Test
    void rejectsWrongMagicAndVersion() {
        byte[] valid = Encodings.region(new Random(12), 2).encode();
        assertMalformed(() -> RemoteRegion.decode(withByte(valid, 0, 'A')));
        assertMalformed(() -> RemoteRegion.decode(withByte(valid, 0, 'r')));
        assertMalformed(() -> RemoteRegion.decode(withByte(valid, 1, 0)));
        assertMalformed(() -> RemoteRegion.decode(withByte(valid, 1, 2)));
        // a bare domain address is not a region
        assertMalformed(() -> RemoteRegion.decode(DomainAddress.of(new byte[] {1}).encode()));
    }

    @Test
    void rejectsWrongMagicAndVersionOfAnEmbeddedAddress() {
        byte[] valid = Encodings.region(new Random(13), 1).encode();
        assertMalformed(() -> RemoteRegion.decode(withByte(valid, FIRST_ADDRESS, 'R')));
        assertMalformed(() -> RemoteRegion.decode(withByte(valid, FIRST_ADDRESS + 1, 2)));
        // embedded address length 0, and longer than what follows
        byte[] zero = withByte(withByte(valid, FIRST_ADDRESS + 2, 0), FIRST_ADDRESS + 3, 0);
        assertMalformed(() -> RemoteRegion.decode(zero));
        byte[] huge = withByte(withByte(valid, FIRST_ADDRESS + 2, 0xff), FIRST_ADDRESS + 3, 0x03);
        assertMalformed(() -> RemoteRegion.decode(huge));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void rejectsEveryTruncation(int nics) {
        byte[] valid = Encodings.region(new Random(14), nics).encode();
        for (int length = 0; length < valid.length; length++) {
            byte[] prefix = Arrays.copyOf(valid, length);
            assertMalformed(() -> RemoteRegion.decode(prefix));
            if (length > 0) {
                assertMalformed(() -> RemoteRegion.fromHex(Hex.encode(prefix)));
            }
        }
    }

    @Test
    void rejectsTrailingBytes() {
        RemoteRegion r = Encodings.region(new Random(15), 2);
        byte[] valid = r.encode();
        assertMalformed(() -> RemoteRegion.decode(Encodings.concat(valid, new byte[] {0})));
        assertMalformed(() -> RemoteRegion.decode(Encodings.concat(valid, valid)));
        // a count of 1 followed by two well-formed keys: the second is trailing garbage
        assertMalformed(() -> RemoteRegion.decode(withByte(valid, NIC_COUNT_FIELD, 1)));
    }

    @Test
    void rejectsNicCountZeroTooLargeOrBeyondTheKeysPresent() {
        byte[] valid = Encodings.region(new Random(16), 2).encode();
        for (int count : new int[] {0, RemoteRegion.MAX_NICS + 1, 0x80, 0xff, 3}) {
            assertMalformed(() -> RemoteRegion.decode(withByte(valid, NIC_COUNT_FIELD, count)));
        }
    }

    @Test
    void rejectsNegativeLength() {
        byte[] valid = Encodings.region(new Random(17), 1).encode();
        for (long length : new long[] {-1, Long.MIN_VALUE}) {
            byte[] bad = valid.clone();
            ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putLong(LENGTH_FIELD, length);
            assertMalformed(() -> RemoteRegion.decode(bad));
        }
    }

    private static void assertInvalid(Runnable r) {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, r::run);
        assertEquals(ErrorCategory.INVALID_ARGUMENT, e.category());
    }
}
