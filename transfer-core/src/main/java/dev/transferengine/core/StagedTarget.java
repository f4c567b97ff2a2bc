package dev.transferengine.core;

import dev.transferengine.api.ClosedException;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferTimeoutException;
import dev.transferengine.spi.DeviceBackend;
import dev.transferengine.spi.DeviceCopyQueue;
import dev.transferengine.spi.DeviceMemory;

import java.lang.foreign.MemorySegment;
import java.time.Duration;

/**
 * The receive side of staging: GPU memory registered for remote writes on NICs that cannot register device
 * memory gets a pinned host shadow of the same length, registered on every NIC of its group in its place, so
 * peers' writes land there. {@link #flush} copies a range of the shadow to the GPU (the receiver calls it after
 * its imm count, {@link dev.transferengine.api.MemoryRegion#flush}). One shadow per region, shared by the
 * group's NICs, so a write sharded over several NICs lands in one place.
 *
 * <p>Thread-safe: flushes from several threads are serialised on this object; they use a copy queue of their
 * own (not the worker's), so a flush never stalls the group's transfers.
 */
final class StagedTarget implements AutoCloseable {
    private final DeviceBackend backend;
    private final DeviceMemory device;
    private final MemorySegment shadow;
    private DeviceCopyQueue copies;
    private boolean closed;

    private StagedTarget(DeviceBackend backend, DeviceMemory device, MemorySegment shadow) {
        this.backend = backend;
        this.device = device;
        this.shadow = shadow;
    }

    /** Allocates the pinned shadow for {@code device}. */
    static StagedTarget allocate(DeviceMemory device) {
        DeviceBackend backend = device.backend();
        return new StagedTarget(backend, device, backend.allocatePinnedHost(device.lengthBytes()));
    }

    /** The host memory peers write into. */
    MemorySegment shadow() {
        return shadow;
    }

    /** Copies {@code [offset, offset + length)} of the shadow to the GPU and waits for the copy. */
    synchronized void flush(long offset, long length, Duration timeout) {
        RequestValidator.inRange(offset, length, device.lengthBytes(), "flush");
        if (closed) {
            throw new ClosedException("the region was closed");
        }
        if (length == 0) {
            return;
        }
        if (copies == null) {
            copies = backend.openCopyQueue(device.ordinal());
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        long ticket;
        while ((ticket = copies.copy(device.address() + offset, shadow.address() + offset, length))
                == DeviceCopyQueue.FULL) {
            waitOrFail(deadline, timeout);
        }
        while (!copies.isDone(ticket)) {
            waitOrFail(deadline, timeout);
        }
    }

    private static void waitOrFail(long deadline, Duration timeout) {
        if (System.nanoTime() - deadline > 0) {
            throw new TransferTimeoutException("flushing a staged GPU region did not finish within " + timeout);
        }
        Thread.onSpinWait();
    }

    /** Waits (bounded) for a flush in progress, frees the copy queue and the shadow. Call after the NICs let go. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (copies != null) {
                copies.close();
            }
        } finally {
            backend.freePinnedHost(shadow);
        }
    }

    @Override
    public String toString() {
        return "StagedTarget[cuda:" + device.ordinal() + ", " + device.lengthBytes() + " bytes, shadow 0x"
                + Long.toHexString(shadow.address()) + "]";
    }
}
