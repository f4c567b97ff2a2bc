package dev.transferengine.core.device;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.spi.DeviceCopyQueue;

/**
 * A {@link DeviceCopyQueue} that merges back-to-back contiguous copies into one launch (issue 8: KV pages in GPU
 * memory moved at 14 Gbps on loopback, one {@code cuMemcpyAsync} of 8 KiB per page, bound by launches, not bytes).
 *
 * <p>A copy given with {@link #copy(long, long, long, Object, Object)} is held as the <i>pending run</i> instead of
 * being launched; the next one extends the run when it starts where the run ends on both sides and belongs to the
 * same source and destination allocations (the caller's owner objects, compared by identity: a copy must not
 * cross from one allocation into another that happens to follow it in the address space). The run is launched
 * on the inner queue as one copy when a copy that does not extend it arrives, when it reaches
 * {@code maxRunBytes}, when {@link #isDone} is asked about one of its tickets, or at {@link #flush}, which the
 * owner calls at the end of each poll. Tickets stay one per copy, and {@link #isDone} keeps the contract: a ticket
 * is done when its run and every earlier copy finished.
 *
 * <p>Single-threaded, like the interface. No allocation per copy.
 */
public final class CoalescingCopyQueue implements DeviceCopyQueue {
    /** The default longest run: long enough to take the launch cost out of page-sized copies. */
    public static final long DEFAULT_MAX_RUN_BYTES = 4L << 20;

    private final DeviceCopyQueue inner;
    private final boolean merge;
    private final long maxRunBytes;
    /** For each outstanding ticket (by {@code ticket % length}), the inner ticket of the launch that carries it. */
    private final long[] innerTicket;
    private long nextTicket;
    private long doneThrough = -1;
    /** The pending run: tickets {@code runFirst .. nextTicket - 1}, not launched; none when {@code runBytes == 0}. */
    private long runDestination;
    private long runSource;
    private long runBytes;
    private long runFirst;
    private Object runSourceOwner;
    private Object runDestinationOwner;

    /**
     * @param inner       where the runs are launched (closed with this queue)
     * @param capacity    tickets outstanding at most (then {@link #copy} answers {@link #FULL})
     * @param merge       whether copies are merged at all (false: every copy is launched as it comes, the engine
     *                    option {@code coalesceCopies=false})
     * @param maxRunBytes the longest run launched as one copy
     */
    public CoalescingCopyQueue(DeviceCopyQueue inner, int capacity, boolean merge, long maxRunBytes) {
        if (capacity < 1 || maxRunBytes < 1) {
            throw new InvalidRequestException("capacity and maxRunBytes must be positive, got " + capacity + " and "
                    + maxRunBytes);
        }
        this.inner = inner;
        this.merge = merge;
        this.innerTicket = new long[capacity];
        this.maxRunBytes = maxRunBytes;
    }

    /** A copy that is never merged (the pending run is launched first, so the order holds). */
    @Override
    public long copy(long destination, long source, long lengthBytes) {
        if (!launchRun() || !hasRoom()) {
            return FULL;
        }
        long t = inner.copy(destination, source, lengthBytes);
        if (t == FULL) {
            return FULL;
        }
        long ticket = nextTicket++;
        innerTicket[slot(ticket)] = t;
        return ticket;
    }

    /**
     * A copy that may be merged with the copies before it: {@code sourceOwner} and {@code destinationOwner} name
     * the allocations the two ranges lie in (copies of different owners are never merged). Not launched before
     * {@link #flush}, {@link #isDone} of its ticket, or a copy that does not extend it; launched at once when this
     * queue does not merge.
     *
     * @return a ticket, or {@link #FULL} (nothing was queued)
     */
    public long copy(long destination, long source, long lengthBytes, Object sourceOwner, Object destinationOwner) {
        if (!merge || lengthBytes <= 0 || sourceOwner == null || destinationOwner == null) {
            return copy(destination, source, lengthBytes);
        }
        if (!hasRoom()) {
            return FULL;
        }
        boolean extendsRun = runBytes > 0 && sourceOwner == runSourceOwner && destinationOwner == runDestinationOwner
                && destination == runDestination + runBytes && source == runSource + runBytes
                && runBytes <= maxRunBytes - lengthBytes;
        if (!extendsRun) {
            if (!launchRun()) {
                return FULL;
            }
            runDestination = destination;
            runSource = source;
            runFirst = nextTicket;
            runSourceOwner = sourceOwner;
            runDestinationOwner = destinationOwner;
        }
        runBytes += lengthBytes;
        return nextTicket++;
    }

    /** Whether another ticket fits; when none seems to, the oldest launched copies are checked first. */
    private boolean hasRoom() {
        if (outstanding() == innerTicket.length) {
            advance(doneThrough + 1);
        }
        return outstanding() < innerTicket.length;
    }

    /** Launches the pending run, if any; the owner calls it at the end of each poll. */
    public void flush() {
        launchRun();
    }

    /** Whether a run is held, not yet launched (tests). */
    boolean hasPendingRun() {
        return runBytes > 0;
    }

    /** Launches the pending run; false when the inner queue is full (the run stays pending). */
    private boolean launchRun() {
        if (runBytes == 0) {
            return true;
        }
        long t = inner.copy(runDestination, runSource, runBytes);
        if (t == FULL) {
            return false;
        }
        for (long ticket = runFirst; ticket < nextTicket; ticket++) {
            innerTicket[slot(ticket)] = t;
        }
        runBytes = 0;
        runSourceOwner = null;
        runDestinationOwner = null;
        return true;
    }

    @Override
    public boolean isDone(long ticket) {
        DeviceCopyQueue.requireIssued(ticket, nextTicket);
        if (ticket <= doneThrough) {
            return true;
        }
        if (runBytes > 0 && ticket >= runFirst && !launchRun()) {
            return false;
        }
        advance(ticket);
        return ticket <= doneThrough;
    }

    /** Moves the watermark forward, in ticket order, up to {@code ticket} or the first launched copy not done. */
    private void advance(long ticket) {
        long launchedThrough = runBytes > 0 ? runFirst - 1 : nextTicket - 1;
        long last = Math.min(ticket, launchedThrough);
        while (doneThrough < last) {
            if (!inner.isDone(innerTicket[slot(doneThrough + 1)])) {
                return;
            }
            doneThrough++;
        }
    }

    @Override
    public int outstanding() {
        return (int) (nextTicket - 1 - doneThrough);
    }

    /**
     * Drops the pending run (its owner is closing and reports nothing more: launching it now could copy into memory
     * already given back), then closes the inner queue.
     */
    @Override
    public void close() {
        runBytes = 0;
        runSourceOwner = null;
        runDestinationOwner = null;
        inner.close();
    }

    private int slot(long ticket) {
        return (int) (ticket % innerTicket.length);
    }
}
