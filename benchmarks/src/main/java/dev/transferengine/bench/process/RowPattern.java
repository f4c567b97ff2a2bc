package dev.transferengine.bench.process;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The bytes a {@code client} writes in row {@code row}, which the {@code server} checks: a function of the
 * byte's index and the row, so a row that did not land is told apart from an earlier row's bytes. Stateless.
 */
public final class RowPattern {
    private RowPattern() {
    }

    static byte at(long index, int row) {
        return (byte) (index * 31 + (index >>> 9) + row * 101 + 1);
    }

    /** Fills the first {@code length} bytes of {@code segment} with row {@code row}'s pattern. */
    public static void fill(MemorySegment segment, long length, int row) {
        for (long i = 0; i < length; i++) {
            segment.set(ValueLayout.JAVA_BYTE, i, at(i, row));
        }
    }

    /** The index of the first of {@code length} bytes that differs from row {@code row}'s pattern, or -1. */
    public static long firstMismatch(MemorySegment segment, long length, int row) {
        for (long i = 0; i < length; i++) {
            if (segment.get(ValueLayout.JAVA_BYTE, i) != at(i, row)) {
                return i;
            }
        }
        return -1;
    }
}
