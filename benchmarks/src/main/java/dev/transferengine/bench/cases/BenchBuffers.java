package dev.transferengine.bench.cases;

import dev.transferengine.api.Access;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.TransferEngine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * The source and destination memory of a benchmark: a source region on the sender filled with seeded
 * random bytes, and a destination region on the receiver whose descriptor reaches the sender the way it
 * would between machines (encoded to hex and decoded). Owned by the benchmark thread; the engines' workers
 * only read and write the memory.
 *
 * <p>Slots read from different source offsets ({@link #srcOffset}), so a write that landed in the wrong
 * slot's destination is caught by {@link #compare}.
 */
public final class BenchBuffers implements AutoCloseable {
    /** Distinct source offsets, 4 KiB apart: enough to tell slots apart, small enough to cost nothing. */
    private static final int SOURCE_OFFSETS = 64;
    private static final long SOURCE_OFFSET_STEP = 4096;
    private static final long ALIGNMENT = 4096;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment src;
    private final MemorySegment dst;
    private final MemoryRegion srcRegion;
    private final MemoryRegion dstRegion;
    private final RemoteRegion dstDescriptor;

    /**
     * @param sourceSpan       the most bytes one request reads from its slot's source offset
     * @param destinationBytes the most bytes all slots of one case write
     */
    public BenchBuffers(TransferEngine sender, TransferEngine receiver, long sourceSpan, long destinationBytes, long seed) {
        src = arena.allocate(sourceSpan + SOURCE_OFFSETS * SOURCE_OFFSET_STEP, ALIGNMENT);
        dst = arena.allocate(destinationBytes, ALIGNMENT);
        fillRandom(src, seed);
        MemoryRegion s = null;
        MemoryRegion d = null;
        try {
            s = sender.register(src, Access.LOCAL);
            d = receiver.register(dst, Access.REMOTE_WRITE);
        } catch (RuntimeException e) {
            closeQuietly(s);
            closeQuietly(d);
            arena.close();
            throw e;
        }
        srcRegion = s;
        dstRegion = d;
        // The sender gets the descriptor as a peer on another machine would: through its wire encoding.
        dstDescriptor = RemoteRegion.fromHex(dstRegion.descriptor().toHex());
    }

    private static void fillRandom(MemorySegment segment, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long longs = segment.byteSize() / Long.BYTES;
        for (long i = 0; i < longs; i++) {
            segment.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
        }
        for (long i = longs * Long.BYTES; i < segment.byteSize(); i++) {
            segment.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt());
        }
    }

    public MemoryRegion source() {
        return srcRegion;
    }

    public RemoteRegion destination() {
        return dstDescriptor;
    }

    /** Where slot {@code slot} reads its source from. */
    public long srcOffset(int slot) {
        return (slot % SOURCE_OFFSETS) * SOURCE_OFFSET_STEP;
    }

    /** Where slot {@code slot} writes to, for requests of {@code bytesPerOp}. */
    public long dstOffset(int slot, long bytesPerOp) {
        return slot * bytesPerOp;
    }

    /** Zeroes the first {@code bytes} of the destination, so stale bytes of an earlier case cannot pass a check. */
    public void clearDestination(long bytes) {
        dst.asSlice(0, Math.min(bytes, dst.byteSize())).fill((byte) 0);
    }

    /** Null when {@code length} bytes at {@code srcOffset} equal those at {@code dstOffset}, else the first difference. */
    public String compare(long srcOffset, long dstOffset, long length) {
        MemorySegment expected = src.asSlice(srcOffset, length);
        MemorySegment actual = dst.asSlice(dstOffset, length);
        long at = expected.mismatch(actual);
        if (at < 0) {
            return null;
        }
        return String.format("destination byte %d is 0x%02x, expected 0x%02x (source byte %d)", dstOffset + at,
                actual.get(ValueLayout.JAVA_BYTE, at), expected.get(ValueLayout.JAVA_BYTE, at), srcOffset + at);
    }

    private static void closeQuietly(MemoryRegion region) {
        if (region != null) {
            try {
                region.close();
            } catch (RuntimeException ignored) {
                // Already failing: the first error is the one to report.
            }
        }
    }

    /** Deregisters both regions and frees the memory. Call before closing the engines. */
    @Override
    public void close() {
        try {
            srcRegion.close();
            dstRegion.close();
        } finally {
            arena.close();
        }
    }
}
