package dev.transferengine.kits.weights;

import java.util.ArrayDeque;

/**
 * First-in first-out allocation of staging bytes inside a buffer of {@code capacity} bytes (the watermark):
 * allocations are handed out in a ring and given back oldest first, so the bytes in use never exceed the
 * capacity. Only the pushing thread uses it.
 */
final class StagingRing {
    private static final long ALIGN = 64;

    /** One allocation: {@code length} bytes at {@code offset}. */
    record Slot(long offset, long length) {
    }

    private final long capacity;
    private final ArrayDeque<Slot> inUse = new ArrayDeque<>();
    private long usedBytes;
    private long peakBytes;

    StagingRing(long capacity) {
        this.capacity = capacity;
    }

    static long aligned(long bytes) {
        return Math.max(ALIGN, (bytes + ALIGN - 1) / ALIGN * ALIGN);
    }

    /** Allocates {@code bytes} (aligned) if they fit now; null when the oldest allocation must be given back first. */
    Slot tryAllocate(long bytes) {
        long need = aligned(bytes);
        if (need > capacity) {
            throw new IllegalArgumentException(need + " bytes never fit in " + capacity);
        }
        long at;
        if (inUse.isEmpty()) {
            at = 0;
        } else {
            long oldest = inUse.peekFirst().offset();
            Slot newest = inUse.peekLast();
            long end = newest.offset() + newest.length();
            if (newest.offset() >= oldest) {            // not wrapped: free space after the newest and before the oldest
                if (end + need <= capacity) {
                    at = end;
                } else if (need <= oldest) {
                    at = 0;
                } else {
                    return null;
                }
            } else if (end + need <= oldest) {         // wrapped: free space between the newest and the oldest
                at = end;
            } else {
                return null;
            }
        }
        Slot s = new Slot(at, need);
        inUse.addLast(s);
        usedBytes += need;
        peakBytes = Math.max(peakBytes, usedBytes);
        return s;
    }

    /** Gives back the oldest allocation. */
    void releaseOldest() {
        usedBytes -= inUse.removeFirst().length();
    }

    boolean isEmpty() {
        return inUse.isEmpty();
    }

    long peakBytes() {
        return peakBytes;
    }
}
