package dev.transferengine.api;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/** Builders of valid addresses and descriptors, and the "only MalformedEncodingException" assertion. */
final class Encodings {
    private Encodings() {
    }

    static DomainAddress address(Random random, int length) {
        byte[] raw = new byte[length];
        random.nextBytes(raw);
        return DomainAddress.of(raw);
    }

    static RemoteRegion region(Random random, int nics) {
        List<RemoteRegion.NicKey> keys = new ArrayList<>();
        for (int i = 0; i < nics; i++) {
            keys.add(new RemoteRegion.NicKey(address(random, 1 + random.nextInt(40)), random.nextLong(),
                    random.nextLong()));
        }
        return new RemoteRegion(random.nextLong(), random.nextLong() & Long.MAX_VALUE, keys);
    }

    /** Asserts that decoding raises exactly the malformed-encoding family, with its category. */
    static MalformedEncodingException assertMalformed(Runnable decode) {
        MalformedEncodingException e = assertThrows(MalformedEncodingException.class, decode::run);
        assertEquals(ErrorCategory.MALFORMED_ENCODING, e.category());
        return e;
    }

    /**
     * Decodes {@code input}: it must either raise {@link MalformedEncodingException} or succeed, in which
     * case re-encoding must give back exactly the input (the encodings are canonical). Any other
     * throwable fails the test with the input that caused it.
     */
    static <T> void decodeOrMalformed(byte[] input, Function<byte[], T> decode, Function<T, byte[]> encode,
                                      String where) {
        T decoded;
        try {
            decoded = decode.apply(input);
        } catch (MalformedEncodingException e) {
            assertEquals(ErrorCategory.MALFORMED_ENCODING, e.category(), where);
            return;
        } catch (Throwable t) {
            fail(where + ": " + t + " for input " + Hex.encode(input), t);
            return;
        }
        assertArrayEquals(input, encode.apply(decoded), where + ": accepted a non-canonical encoding");
    }

    /** {@code encoded} with byte {@code index} replaced. */
    static byte[] withByte(byte[] encoded, int index, int value) {
        byte[] copy = encoded.clone();
        copy[index] = (byte) value;
        return copy;
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
