package dev.transferengine.cuda;

import dev.transferengine.api.ClosedException;
import dev.transferengine.api.TransferException;
import dev.transferengine.cuda.internal.CudaConst;
import dev.transferengine.cuda.internal.CudaDriver;
import dev.transferengine.cuda.internal.CudaErrors;
import dev.transferengine.cuda.internal.DriverCalls;
import dev.transferengine.cuda.internal.PrimaryContexts;
import dev.transferengine.spi.DeviceCopyQueue;

import java.time.Duration;

/**
 * {@link DeviceCopyQueue} on one non-blocking stream. Copy {@code t} is one {@code cuMemcpyAsync}; completion is
 * tracked with timing-free events recorded <b>lazily</b>: when {@link #isDone} is asked about a copy no event covers
 * yet, one {@code cuEventRecord} after the newest copy covers every copy queued so far. Stream order means that
 * when an event has completed every copy before it has too, so one counter ({@code doneThrough}) tracks
 * completion, and a window of copies queued in one worker iteration costs one record and one query instead of one
 * of each per copy. At most {@code ring} copies are outstanding (then {@link #copy} answers FULL), and at most
 * {@code ring} events.
 *
 * <p>A batch ({@link #copyBatch}) is one launch where the device has one ({@link CudaBatchLaunch}: the engine's copy
 * kernel, or {@code cuMemcpyBatchAsync}) and one ticket, like a single copy.
 *
 * <p>{@code te.cuda.eventPerCopy=true} records an event after every copy, as before (measurements only).
 *
 * <p>Single-threaded, like the interface says: no synchronisation inside.
 */
final class CudaCopyQueue implements DeviceCopyQueue {
    static final int DEFAULT_RING = 256;
    /** How long close() waits for queued copies before it frees the stream anyway (the driver then defers). */
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);
    private static final boolean EVENT_PER_COPY = Boolean.getBoolean("te.cuda.eventPerCopy");

    private final int ordinal;
    private final long stream;
    /** A FIFO of recorded events ({@code eventHead}, {@code eventCount}), each covering copies through its ticket. */
    private final long[] events;
    private final long[] eventTicket;
    /** Null when the device has neither the copy kernel nor a batch copy: {@link #maxBatch()} is then 1. */
    private final CudaBatchLaunch batch;
    private int eventHead;
    private int eventCount;
    private long nextTicket;
    private long doneThrough = -1;
    /** The newest ticket an event has been recorded after. */
    private long recordedThrough = -1;
    private boolean closed;

    /** A queue without batch launches (tests without a driver construct it directly). */
    CudaCopyQueue(int ordinal, long stream, long[] events) {
        this(ordinal, stream, events, null);
    }

    private CudaCopyQueue(int ordinal, long stream, long[] events, CudaBatchLaunch batch) {
        this.ordinal = ordinal;
        this.stream = stream;
        this.events = events;
        this.eventTicket = new long[events.length];
        this.batch = batch;
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
        return new CudaCopyQueue(ordinal, stream, events, CudaBatchLaunch.openIfSupported(ordinal));
    }

    @Override
    public long copy(long destination, long source, long lengthBytes) {
        Checks.addressRange(destination, lengthBytes, "device copy destination");
        Checks.addressRange(source, lengthBytes, "device copy source");
        if (full()) {
            return FULL;
        }
        int result = CudaDriver.cuMemcpyAsync(destination, source, lengthBytes, stream);
        if (result != 0) {
            throw CudaErrors.exception("cuMemcpyAsync(" + lengthBytes + " bytes, device " + ordinal + ")", result);
        }
        return issue();
    }

    /** Whether no copy or batch fits now (checked after the arguments); makes the device current when one does. */
    private boolean full() {
        ensureOpen();
        if (outstanding() == events.length && !isDone(doneThrough + 1)) {
            return true;
        }
        PrimaryContexts.makeCurrent(ordinal);
        return false;
    }

    /** The ticket of the copy or batch just launched. */
    private long issue() {
        long ticket = nextTicket++;
        if (EVENT_PER_COPY) {
            record();
        }
        return ticket;
    }

    @Override
    public int maxBatch() {
        return batch == null ? 1 : CudaBatchLaunch.MAX_COPIES;
    }

    @Override
    public long copyBatch(long[] destinations, long[] sources, long[] lengths, int count, boolean onDevice) {
        DeviceCopyQueue.requireBatch(count, maxBatch());
        if (count == 1) {
            return copy(destinations[0], sources[0], lengths[0]);
        }
        for (int i = 0; i < count; i++) {
            Checks.addressRange(destinations[i], lengths[i], "device copy destination");
            Checks.addressRange(sources[i], lengths[i], "device copy source");
        }
        if (full()) {
            return FULL;
        }
        batch.launch(destinations, sources, lengths, count, onDevice, stream, ordinal);
        return issue();
    }

    @Override
    public boolean isDone(long ticket) {
        DeviceCopyQueue.requireIssued(ticket, nextTicket);
        if (ticket <= doneThrough) {
            return true;
        }
        ensureOpen();
        PrimaryContexts.makeCurrent(ordinal);
        if (ticket > recordedThrough) {
            if (eventCount == events.length) {
                retireCompleted(); // make room; if none completed, a later call records
            }
            record();
        }
        retireCompleted();
        return ticket <= doneThrough;
    }

    /** Records an event after the newest copy, if a slot is free. */
    private void record() {
        if (eventCount == events.length || recordedThrough == nextTicket - 1) {
            return;
        }
        int slot = (eventHead + eventCount) % events.length;
        CudaErrors.check(CudaDriver.cuEventRecord(events[slot], stream), "cuEventRecord");
        eventTicket[slot] = nextTicket - 1;
        eventCount++;
        recordedThrough = nextTicket - 1;
    }

    /** Moves {@code doneThrough} past every recorded event that has completed, oldest first. */
    private void retireCompleted() {
        while (eventCount > 0) {
            if (!DriverCalls.done(CudaDriver.cuEventQuery(events[eventHead]), "copy queue on device " + ordinal)) {
                return;
            }
            doneThrough = eventTicket[eventHead];
            eventHead = (eventHead + 1) % events.length;
            eventCount--;
        }
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
