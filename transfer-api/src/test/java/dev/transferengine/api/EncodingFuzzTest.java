package dev.transferengine.api;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import java.util.function.Supplier;

import static dev.transferengine.api.Encodings.decodeOrMalformed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded fuzzing of both decoders: random bytes, random hex, and mutations of valid encodings (the only
 * inputs likely to get past the magic and version bytes). The only acceptable outcomes are a
 * {@link MalformedEncodingException} or a value whose re-encoding is the input. Seeds are fixed so a
 * failure reproduces; the failing input is in the message.
 */
class EncodingFuzzTest {
    private static final int ROUNDS = 20_000;
    private static final String HEX_ALPHABET = "0123456789abcdefABCDEF0123456789abcdefxyz -\u0663\uff10";

    @Test
    void randomBytes() {
        Random random = new Random(0x5eed_0001L);
        for (int i = 0; i < ROUNDS; i++) {
            byte[] input = new byte[random.nextInt(300)];
            random.nextBytes(input);
            if (input.length > 1 && random.nextBoolean()) {
                // half the time get past the magic and version check
                input[0] = random.nextBoolean() ? (byte) 'A' : (byte) 'R';
                input[1] = 1;
            }
            decodeBoth(input, "random bytes #" + i);
        }
    }

    @Test
    void mutatedValidEncodings() {
        Random random = new Random(0x5eed_0002L);
        for (int i = 0; i < ROUNDS; i++) {
            byte[] valid = random.nextBoolean()
                    ? Encodings.region(random, 1 + random.nextInt(4)).encode()
                    : Encodings.address(random, 1 + random.nextInt(40)).encode();
            decodeBoth(mutate(random, valid), "mutation #" + i);
        }
    }

    @Test
    void randomHexStrings() {
        Random random = new Random(0x5eed_0003L);
        for (int i = 0; i < ROUNDS; i++) {
            StringBuilder s = new StringBuilder();
            if (random.nextBoolean()) {
                s.append(random.nextBoolean() ? "4101" : "5201");
            }
            int length = random.nextInt(120);
            for (int k = 0; k < length; k++) {
                s.append(HEX_ALPHABET.charAt(random.nextInt(HEX_ALPHABET.length())));
            }
            String hex = s.toString();
            String where = "hex #" + i + " '" + hex + "'";
            fromHexOrMalformed(() -> DomainAddress.fromHex(hex).toHex(), hex, where);
            fromHexOrMalformed(() -> RemoteRegion.fromHex(hex).toHex(), hex, where);
        }
    }

    private static void fromHexOrMalformed(Supplier<String> parseAndPrint, String hex,
                                           String where) {
        String printed;
        try {
            printed = parseAndPrint.get();
        } catch (MalformedEncodingException e) {
            return;
        } catch (Throwable t) {
            fail(where + ": " + t, t);
            return;
        }
        assertEquals(hex.toLowerCase(Locale.ROOT), printed,
                where + ": accepted hex that does not print back");
    }

    private static byte[] mutate(Random random, byte[] valid) {
        byte[] out = valid.clone();
        switch (random.nextInt(4)) {
            case 0 -> {
                int flips = 1 + random.nextInt(3);
                for (int k = 0; k < flips; k++) {
                    out[random.nextInt(out.length)] = (byte) random.nextInt(256);
                }
            }
            case 1 -> out = Arrays.copyOf(out, random.nextInt(out.length));
            case 2 -> {
                out = Arrays.copyOf(out, out.length + 1 + random.nextInt(8));
                for (int k = valid.length; k < out.length; k++) {
                    out[k] = (byte) random.nextInt(256);
                }
            }
            default -> {
                // splice: drop a random range from the middle
                int from = random.nextInt(out.length);
                int to = from + random.nextInt(out.length - from + 1);
                byte[] spliced = new byte[out.length - (to - from)];
                System.arraycopy(out, 0, spliced, 0, from);
                System.arraycopy(out, to, spliced, from, out.length - to);
                out = spliced;
            }
        }
        return out;
    }

    private static void decodeBoth(byte[] input, String where) {
        decodeOrMalformed(input, DomainAddress::decode, DomainAddress::encode, where + " (address)");
        decodeOrMalformed(input, RemoteRegion::decode, RemoteRegion::encode, where + " (region)");
    }
}
