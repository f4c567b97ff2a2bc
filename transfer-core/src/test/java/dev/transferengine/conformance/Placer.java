package dev.transferengine.conformance;

import java.util.Random;

/**
 * Hands out disjoint ranges of one buffer, in increasing order with random gaps. Writes of one test go to
 * disjoint ranges because delivery is unordered: overlapping writes would have no defined result.
 */
final class Placer {
    private static final int MAX_GAP = 257;

    private final Random random;
    private final long limit;
    private long cursor;

    Placer(Random random, long limit) {
        this.random = random;
        this.limit = limit;
    }

    /** The offset of a fresh range of {@code length} bytes. */
    long place(long length) {
        long offset = cursor + random.nextInt(MAX_GAP);
        if (offset + length > limit) {
            throw new IllegalStateException("test bug: buffer of " + limit + " bytes is full");
        }
        cursor = offset + length;
        return offset;
    }

    /** Random source offset for a read of {@code length} bytes from a buffer of {@code size}. */
    static long anywhere(Random random, long size, long length) {
        return (long) (random.nextDouble() * (size - length + 1));
    }
}
