package dev.transferengine.core;

import dev.transferengine.api.ReceiveHandler;
import dev.transferengine.api.ReceiveSet;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Persistent receive buffers on the main NIC: one registered segment of {@code count x bufferBytes},
 * each slice posted as a receive; after the handler returns, the slice is re-posted by the worker.
 * Closing stops re-posting and delivery; the memory itself is released when the engine closes, because
 * providers cannot cancel a posted receive.
 */
final class ReceiveSetImpl implements ReceiveSet {
    final Arena arena;
    final MemorySegment buffers;
    final int bufferBytes;
    final int count;
    final ReceiveHandler handler;
    Region region;
    /** Index of this set's first slot in the worker's receive table. */
    int firstSlot;
    private final AtomicLong received = new AtomicLong();
    private volatile boolean open = true;

    ReceiveSetImpl(int bufferBytes, int count, ReceiveHandler handler) {
        this.arena = Arena.ofShared();
        this.buffers = arena.allocate((long) bufferBytes * count, 4096);
        this.bufferBytes = bufferBytes;
        this.count = count;
        this.handler = handler;
    }

    MemorySegment slice(int index, long length) {
        return buffers.asSlice((long) index * bufferBytes, length);
    }

    long sliceAddress(int index) {
        return buffers.address() + (long) index * bufferBytes;
    }

    void countReceived() {
        received.incrementAndGet();
    }

    boolean isOpen() {
        return open;
    }

    @Override
    public long received() {
        return received.get();
    }

    @Override
    public void close() {
        open = false;
    }
}
