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

    private final DeviceCopyQueue[] lanes;
    private final int[] laneOf;
    private final long[] laneTicket;
    private long nextTicket;
    private long doneThrough = -1;
    private int nextLane;
    private boolean closed;

    private StripedCopyQueue(DeviceCopyQueue[] lanes) {
        this.lanes = lanes;
        this.laneOf = new int[PER_LANE * lanes.length];
        this.laneTicket = new long[PER_LANE * lanes.length];
    }

    /**
     * {@code streams} queues of {@code backend} on {@code ordinal}, striped; with one stream the backend's own queue.
     *
     * @throws InvalidRequestException when {@code streams} is outside 1..{@link #MAX_STREAMS}
     */
    public static DeviceCopyQueue open(DeviceBackend backend, int ordinal, int streams) {
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
        return new StripedCopyQueue(lanes);
    }

    @Override
    public long copy(long destination, long source, long lengthBytes) {
        if (full()) {
            return FULL;
        }
        int lane = nextLane;
        long t = lanes[lane].copy(destination, source, lengthBytes);
        if (t == FULL) {
            return FULL; // the lane's own ring is full: its oldest copies are still running
        }
        return issue(lane, t);
    }

    /** Whether the tracked window is full even after retiring what finished. */
    private boolean full() {
        if (outstanding() == laneOf.length) {
            advance(doneThrough + 1);
        }
        return outstanding() == laneOf.length;
    }

    /** This queue's ticket for what {@code lane} queued under its own ticket {@code laneTicketOf}. */
    private long issue(int lane, long laneTicketOf) {
        nextLane = lane + 1 == lanes.length ? 0 : lane + 1;
        long ticket = nextTicket++;
        int i = slot(ticket);
        laneOf[i] = lane;
        laneTicket[i] = laneTicketOf;
        return ticket;
    }

    /** What each stream takes (they are alike); a batch goes to one stream, the next in turn. */
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
        int lane = nextLane;
        long t = lanes[lane].copyBatch(destinations, sources, lengths, count, onDevice);
        return t == FULL ? FULL : issue(lane, t);
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
