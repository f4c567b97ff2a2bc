package dev.transferengine.api;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Coverage-guided fuzzing (Jazzer) of the two wire decoders, {@link RemoteRegion} and {@link DomainAddress},
 * in both forms (bytes and hex). Every input must either decode to a value whose re-encoding is exactly the
 * input (the encodings are canonical) or raise {@link MalformedEncodingException}: never another throwable,
 * and never an allocation out of proportion to the input (a garbage length field must not allocate).
 *
 * <p>A normal test run replays the seeds under {@code src/test/resources/dev/transferengine/api/
 * DecodingFuzzTestInputs/<method>/} (and any crash files Jazzer saved there) as regression tests; with
 * {@code JAZZER_FUZZ=1} Jazzer mutates them for as long as asked (docs/testing.md, "Fuzzing").
 */
class DecodingFuzzTest {
    /**
     * Decoding may allocate the decoded value, a few small objects, and an exception with its stack trace; the
     * first calls also load classes. A decoder that trusted a length field would allocate up to 2 GiB.
     */
    private static final long ALLOCATION_SLACK = 1 << 20;
    /**
     * {@code com.sun.management.ThreadMXBean.getCurrentThreadAllocatedBytes()}, bound to the platform bean; looked up
     * reflectively because the API module does not read java.management (null where the JVM lacks it).
     */
    private static final MethodHandle ALLOCATED = allocatedBytesHandle();

    static {
        // Load and link everything decoding touches, so the allocation check measures decoding only.
        for (String hex : new String[] {"", "zz", "4101", "5201", "410101000f", "4101010007", "52010000"}) {
            try {
                RemoteRegion.fromHex(hex).toHex();
            } catch (MalformedEncodingException e) {
                // expected
            }
            try {
                DomainAddress.fromHex(hex).toHex();
            } catch (MalformedEncodingException e) {
                // expected
            }
        }
    }

    /** Any bytes through both byte decoders. */
    @FuzzTest
    void decodeBytes(byte[] input) {
        decodeOrMalformed(input, RemoteRegion::decode, RemoteRegion::encode, "region");
        decodeOrMalformed(input, DomainAddress::decode, DomainAddress::encode, "address");
    }

    /** Any text (the input as UTF-8, so non-ASCII digits and separators appear) through both hex decoders. */
    @FuzzTest
    void decodeHex(byte[] input) {
        String hex = new String(input, StandardCharsets.UTF_8);
        hexOrMalformed(hex, h -> RemoteRegion.fromHex(h).toHex(), "region");
        hexOrMalformed(hex, h -> DomainAddress.fromHex(h).toHex(), "address");
    }

    private static <T> void decodeOrMalformed(byte[] input, Function<byte[], T> decode, Function<T, byte[]> encode,
                                              String what) {
        T decoded;
        try {
            decoded = decode.apply(input);
        } catch (MalformedEncodingException e) {
            assertEquals(ErrorCategory.MALFORMED_ENCODING, e.category(), what);
            checkAllocation(() -> decodeQuietly(decode, input), input.length, what);
            return;
        } catch (Throwable t) {
            fail(what + ": " + t + " (not MalformedEncodingException) for input " + Hex.encode(input), t);
            return;
        }
        checkAllocation(() -> decodeQuietly(decode, input), input.length, what);
        byte[] again = encode.apply(decoded);
        if (!java.util.Arrays.equals(input, again)) {
            fail(what + ": accepted a non-canonical encoding " + Hex.encode(input) + ", re-encodes as "
                    + Hex.encode(again));
        }
    }

    private static void hexOrMalformed(String hex, Function<String, String> parseAndPrint, String what) {
        String printed;
        try {
            printed = parseAndPrint.apply(hex);
        } catch (MalformedEncodingException e) {
            assertEquals(ErrorCategory.MALFORMED_ENCODING, e.category(), what);
            checkAllocation(() -> decodeQuietly(parseAndPrint, hex), 2L * hex.length(), what);
            return;
        } catch (Throwable t) {
            fail(what + ": " + t + " (not MalformedEncodingException) for hex '" + hex + "'", t);
            return;
        }
        assertEquals(hex.toLowerCase(Locale.ROOT), printed, what + ": accepted hex that does not print back");
    }

    /**
     * Bounded allocation: proportional to the input, never to a length field inside it. Measured on a second
     * run of the same decode (the first one has succeeded or failed as it must), so class loading and, while
     * fuzzing, Jazzer instrumenting newly reached classes are not counted; a decoder that trusted a garbage
     * length would allocate it every time.
     */
    private static void checkAllocation(Runnable decodeAgain, long inputBytes, String what) {
        long before = allocated();
        if (before < 0) {
            return;
        }
        decodeAgain.run();
        long used = allocated() - before;
        assertTrue(used <= 16 * inputBytes + ALLOCATION_SLACK,
                () -> what + ": decoding " + inputBytes + " bytes allocated " + used + " bytes");
    }

    private static <I> void decodeQuietly(Function<I, ?> decode, I input) {
        try {
            decode.apply(input);
        } catch (MalformedEncodingException e) {
            // the outcome was checked on the first run
        }
    }

    private static long allocated() {
        if (ALLOCATED == null) {
            return -1;
        }
        try {
            return (long) ALLOCATED.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static MethodHandle allocatedBytesHandle() {
        try {
            Object bean = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean")
                    .invoke(null);
            Class<?> type = Class.forName("com.sun.management.ThreadMXBean");
            if (!type.isInstance(bean) || !(boolean) type.getMethod("isThreadAllocatedMemorySupported").invoke(bean)) {
                return null;
            }
            type.getMethod("setThreadAllocatedMemoryEnabled", boolean.class).invoke(bean, true);
            return MethodHandles.publicLookup()
                    .findVirtual(type, "getCurrentThreadAllocatedBytes", MethodType.methodType(long.class))
                    .bindTo(bean).asType(MethodType.methodType(long.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
