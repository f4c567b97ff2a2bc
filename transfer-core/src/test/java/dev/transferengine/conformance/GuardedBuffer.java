package dev.transferengine.conformance;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Native memory filled with seeded random bytes: a body that tests register, between two guard zones
 * that nobody may write. It keeps the image the whole allocation must have, so one comparison proves
 * both that the right bytes landed in the right place and that nothing else changed (including writes
 * past either end of the registered body).
 */
final class GuardedBuffer {
    static final int GUARD_BYTES = 4096;

    private final String name;
    private final MemorySegment whole;
    private final MemorySegment body;
    private final byte[] expected;

    GuardedBuffer(String name, Arena arena, int bodyBytes, Random random) {
        this.name = name;
        this.whole = arena.allocate(bodyBytes + 2L * GUARD_BYTES, 4096);
        this.expected = new byte[(int) whole.byteSize()];
        random.nextBytes(expected);
        MemorySegment.copy(expected, 0, whole, JAVA_BYTE, 0, expected.length);
        this.body = whole.asSlice(GUARD_BYTES, bodyBytes);
    }

    /** The part to register. */
    MemorySegment body() {
        return body;
    }

    long length() {
        return body.byteSize();
    }

    /** Records that body bytes {@code [dstOffset, dstOffset + length)} will equal {@code src}'s body at {@code srcOffset}. */
    void expectCopy(GuardedBuffer src, long srcOffset, long dstOffset, long length) {
        if (srcOffset < 0 || dstOffset < 0 || srcOffset + length > src.length() || dstOffset + length > length()) {
            throw new IllegalArgumentException("test bug: copy outside the bodies");
        }
        System.arraycopy(src.expected, GUARD_BYTES + (int) srcOffset, expected, GUARD_BYTES + (int) dstOffset,
                (int) length);
    }

    boolean matches() {
        return MemorySegment.mismatch(whole, 0, whole.byteSize(), MemorySegment.ofArray(expected), 0,
                expected.length) < 0;
    }

    /** Fails with the first differing byte, how many differ, and whether the guards were hit. */
    void assertMatches(String what) {
        byte[] actual = whole.toArray(JAVA_BYTE);
        int first = -1;
        int last = -1;
        int differing = 0;
        for (int i = 0; i < actual.length; i++) {
            if (actual[i] != expected[i]) {
                differing++;
                last = i;
                if (first < 0) {
                    first = i;
                }
            }
        }
        if (differing == 0) {
            return;
        }
        boolean guardHit = first < GUARD_BYTES || last >= GUARD_BYTES + body.byteSize();
        fail(what + ": " + name + " has " + differing + " wrong bytes, body offsets " + (first - GUARD_BYTES)
                + ".." + (last - GUARD_BYTES) + " (body length " + body.byteSize() + ")"
                + (guardHit ? "; bytes OUTSIDE the registered body changed" : "")
                + String.format("; first: expected 0x%02x, actual 0x%02x", expected[first], actual[first]));
    }
}
