package dev.transferengine.core.device;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.spi.DeviceBackend;
import dev.transferengine.spi.DeviceCopyQueue;

/**
 * A {@link DeviceCopyQueue} over several of the backend's queues (CUDA streams), copies dealt round-robin, so
 * that copies in flight run concurrently on the device instead of one after another on one stream. The contract
 * is kept: tickets increase with every copy, and {@link #isDone} of a ticket means that copy <i>and every copy
 * queued before it</i> finished (a watermark advanced in ticket order).
 *
 * <p><b>Same destination, same stream.</b> A copy whose destination overlaps the last range queued on some stream
 * goes behind it on that stream instead of to the next stream in turn (a batch is placed by its first copy). On
 * the H200, copies of 1 MiB into one range running on four streams at once took 5.7-7.5 µs each, against about
 * 5 µs one after another on one stream and 1.6-2.7 µs for four streams into distinct ranges (docs/gpu.md, "Copy
 * streams"). This is placement only, not an ordering promise: the engine's writes stay unordered until they
 * complete, and only the last range of each stream is compared. {@code te.device.sameDestinationStream=false}
 * deals every copy round-robin (measurements only).
 *
 * <p>Why: on the H200, two processes writing GPU to GPU with a window of 64 copies in flight, libfabric shm's own
 * CUDA path (its copies overlap) moved 16 MiB writes at 1.12 of one stream's back-to-back device copy, while the
 * engine's same-host path, one stream per worker, reached 0.54 of that (docs/gpu.md).
 *
 * <p>Single-threaded, like the interface. No allocation per copy.
 */
public final class StripedCopyQueue implements DeviceCopyQueue {
    /** Most streams one queue may use. */
    public static final int MAX_STREAMS = 16;
    /** The engine's default ({@code copyStreams}). */
    public static final int DEFAULT_STREAMS = 4;
    /** Copies in flight per underlying queue this wrapper tracks (the CUDA queue's own ring is 256). */
    private static final int PER_LANE = 256;
    /** Whether a copy into the range last queued on a stream follows it there (class comment). */
    static final boolean SAME_DESTINATION_STREAM =
            !"false".equals(System.getProperty("te.device.sameDestinationStream"));

    private final DeviceCopyQueue[] lanes;
    private final int[] laneOf;
    private final long[] laneTicket;
    /** The destination range, [start, end), of the copy (or a batch's first copy) last queued on each stream. */
    private final long[] lastStart;
    private final long[] lastEnd;
    private final boolean sameDestinationStream;
    private long nextTicket;
    private long doneThrough = -1;
    private int nextLane;
    private boolean closed;

    private StripedCopyQueue(DeviceCopyQueue[] lanes, boolean sameDestinationStream) {
        this.lanes = lanes;
        this.laneOf = new int[PER_LANE * lanes.length];
        this.laneTicket = new long[PER_LANE * lanes.length];
        this.lastStart = new long[lanes.length];
        this.lastEnd = new long[lanes.length];
        this.sameDestinationStream = sameDestinationStream;
    }

    /**
     * {@code streams} queues of {@code backend} on {@code ordinal}, striped; with one stream the backend's own queue.
     *
     * @throws InvalidRequestException when {@code streams} is outside 1..{@link #MAX_STREAMS}
     */
    public static DeviceCopyQueue open(DeviceBackend backend, int ordinal, int streams) {
        return open(backend, ordinal, streams, SAME_DESTINATION_STREAM);
    }

    /**
     * As {@link #open(DeviceBackend, int, int)}, saying whether a copy into the range last queued on a stream
     * follows it there ({@code true}, the engine's way) or every copy goes to the next stream in turn.
     */
    static DeviceCopyQueue open(DeviceBackend backend, int ordinal, int streams, boolean sameDestinationStream) {
        if (streams < 1 || streams > MAX_STREAMS) {
            throw new InvalidRequestException("copy streams must be in 1.." + MAX_STREAMS + ", got " + streams);
        }
        if (streams == 1) {
            return backend.openCopyQueue(ordinal);
        }
        DeviceCopyQueue[] lanes = new DeviceCopyQueue[streams];
        try {
            for (int i = 0; i < streams; i++) {
                lanes[i] = backend.openCopyQueue(ordinal);
            }
        } catch (RuntimeException | Error e) {
            for (DeviceCopyQueue q : lanes) {
                if (q != null) {
                    q.close();
                }
            }
            throw e;
        }
        return new StripedCopyQueue(lanes, sameDestinationStream);
    }

    @Override
    public long copy(long destination, long source, long lengthBytes) {
        if (full()) {
            return FULL;
        }
        int lane = laneFor(destination, lengthBytes);
        long t = lanes[lane].copy(destination, source, lengthBytes);
        if (t == FULL) {
            return FULL; // the lane's own ring is full: its oldest copies are still running
        }
        return issue(lane, t, destination, lengthBytes);
    }

    /** The stream whose last range {@code [destination, destination + length)} overlaps, else the next in turn. */
    private int laneFor(long destination, long lengthBytes) {
        if (sameDestinationStream) {
            long end = destination + lengthBytes;
            for (int l = 0; l < lanes.length; l++) {
                if (destination < lastEnd[l] && lastStart[l] < end) {
                    return l;
                }
            }
        }
        return nextLane;
    }

    /** Whether the tracked window is full even after retiring what finished. */
    private boolean full() {
        if (outstanding() == laneOf.length) {
            advance(doneThrough + 1);
        }
        return outstanding() == laneOf.length;
    }

    /**
     * This queue's ticket for what {@code lane} queued under its own ticket {@code laneTicketOf}, into
     * {@code [destination, destination + length)}. The turn moves on only when the copy took the stream in turn.
     */
    private long issue(int lane, long laneTicketOf, long destination, long lengthBytes) {
        if (lane == nextLane) {
            nextLane = lane + 1 == lanes.length ? 0 : lane + 1;
        }
        lastStart[lane] = destination;
        lastEnd[lane] = destination + lengthBytes;
        long ticket = nextTicket++;
        int i = slot(ticket);
        laneOf[i] = lane;
        laneTicket[i] = laneTicketOf;
        return ticket;
    }

    /** What each stream takes (they are alike); a batch goes to one stream, placed by its first copy. */
    @Override
    public int maxBatch() {
        return lanes[0].maxBatch();
    }

    @Override
    public long copyBatch(long[] destinations, long[] sources, long[] lengths, int count, boolean onDevice) {
        DeviceCopyQueue.requireBatch(count, maxBatch());
        if (full()) {
            return FULL;
        }
        int lane = laneFor(destinations[0], lengths[0]);
        long t = lanes[lane].copyBatch(destinations, sources, lengths, count, onDevice);
        return t == FULL ? FULL : issue(lane, t, destinations[0], lengths[0]);
    }

    @Override
    public boolean isDone(long ticket) {
        DeviceCopyQueue.requireIssued(ticket, nextTicket);
        if (ticket > doneThrough) {
            advance(ticket);
        }
        return ticket <= doneThrough;
    }

    /** Moves the watermark forward, in ticket order, up to {@code ticket} or the first copy not yet done. */
    private void advance(long ticket) {
        while (doneThrough < ticket) {
            int i = slot(doneThrough + 1);
            if (!lanes[laneOf[i]].isDone(laneTicket[i])) {
                return;
            }
            doneThrough++;
        }
    }

    @Override
    public int outstanding() {
        return (int) (nextTicket - 1 - doneThrough);
    }

    /** The number of streams. */
    public int streams() {
        return lanes.length;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException first = null;
        for (DeviceCopyQueue q : lanes) {
            try {
                q.close();
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }

    private int slot(long ticket) {
        return (int) (ticket % laneOf.length);
    }
}
