package dev.transferengine.cuda;

import dev.transferengine.api.ClosedException;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferException;
import dev.transferengine.cuda.internal.CudaConst;
import dev.transferengine.cuda.internal.CudaDriver;
import dev.transferengine.cuda.internal.CudaErrors;
import dev.transferengine.cuda.internal.DriverCalls;
import dev.transferengine.cuda.internal.PrimaryContexts;
import dev.transferengine.spi.DeviceCopyQueue;

import java.time.Duration;

/**
 * {@link DeviceCopyQueue} on one non-blocking stream with a ring of timing-free events: copy {@code t} is
 * {@code cuMemcpyAsync} then {@code cuEventRecord} of event {@code t % ring}. Stream order means that when
 * ticket {@code t}'s event has completed every earlier copy has too, so one counter ({@code doneThrough})
 * tracks completion and an event is reused only after its ticket is known done.
 *
 * <p>Single-threaded, like the interface says: no synchronisation inside.
 */
final class CudaCopyQueue implements DeviceCopyQueue {
    static final int DEFAULT_RING = 256;
    /** How long close() waits for queued copies before it frees the stream anyway (the driver then defers). */
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

    private final int ordinal;
    private final long stream;
    private final long[] events;
    private long nextTicket;
    private long doneThrough = -1;
    private boolean closed;

    CudaCopyQueue(int ordinal, long stream, long[] events) {
        this.ordinal = ordinal;
        this.stream = stream;
        this.events = events;
    }

    /** Opens a queue on {@code ordinal}; the caller has checked the ordinal and availability. */
    static CudaCopyQueue open(int ordinal, int ring) {
        PrimaryContexts.makeCurrent(ordinal);
        long stream = DriverCalls.createStream(CudaConst.Flags.CU_STREAM_NON_BLOCKING);
        long[] events = new long[ring];
        try {
            for (int i = 0; i < ring; i++) {
                events[i] = DriverCalls.createEvent(CudaConst.Flags.CU_EVENT_DISABLE_TIMING);
            }
        } catch (TransferException e) {
            destroy(stream, events);
            throw e;
        }
        return new CudaCopyQueue(ordinal, stream, events);
    }

    @Override
    public long copy(long destination, long source, long lengthBytes) {
        Checks.addressRange(destination, lengthBytes, "device copy destination");
        Checks.addressRange(source, lengthBytes, "device copy source");
        ensureOpen();
        if (outstanding() == events.length && !isDone(doneThrough + 1)) {
            return FULL;
        }
        PrimaryContexts.makeCurrent(ordinal);
        long ticket = nextTicket;
        CudaErrors.check(CudaDriver.cuMemcpyAsync(destination, source, lengthBytes, stream),
                "cuMemcpyAsync(" + lengthBytes + " bytes, device " + ordinal + ")");
        CudaErrors.check(CudaDriver.cuEventRecord(events[slot(ticket)], stream), "cuEventRecord");
        nextTicket = ticket + 1;
        return ticket;
    }

    @Override
    public boolean isDone(long ticket) {
        if (ticket < 0 || ticket >= nextTicket) {
            throw new InvalidRequestException("ticket " + ticket + " was never issued (next is " + nextTicket + ")");
        }
        if (ticket <= doneThrough) {
            return true;
        }
        ensureOpen();
        PrimaryContexts.makeCurrent(ordinal);
        if (!DriverCalls.done(CudaDriver.cuEventQuery(events[slot(ticket)]), "copy queue on device " + ordinal)) {
            return false;
        }
        doneThrough = ticket;
        return true;
    }

    @Override
    public int outstanding() {
        return (int) (nextTicket - 1 - doneThrough);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        PrimaryContexts.makeCurrent(ordinal);
        try {
            DriverCalls.awaitStream(stream, CLOSE_TIMEOUT.toNanos(), "copy queue on device " + ordinal);
        } catch (TransferException e) {
            // Timed out or the stream failed: destroying is still safe, the driver frees once work drains.
        } finally {
            destroy(stream, events);
        }
    }

    private int slot(long ticket) {
        return (int) (ticket % events.length);
    }

    private void ensureOpen() {
        if (closed) {
            throw new ClosedException("copy queue on device " + ordinal + " is closed");
        }
    }

    private static void destroy(long stream, long[] events) {
        for (long event : events) {
            if (event != 0) {
                CudaDriver.cuEventDestroy(event);
            }
        }
        CudaDriver.cuStreamDestroy(stream);
    }
}
