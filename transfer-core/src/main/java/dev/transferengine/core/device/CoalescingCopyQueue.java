package dev.transferengine.core.device;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.DeviceCopyQueue;

/**
 * A {@link DeviceCopyQueue} that takes the launch cost out of small copies (issue 8: KV pages in GPU memory moved at
 * 14 Gbps on loopback, one {@code cuMemcpyAsync} of 8 KiB per page, bound by launches, not bytes), in two ways:
 *
 * <ul>
 *   <li><b>Runs</b>: back-to-back contiguous copies are merged into one copy. A copy given with
 *   {@link #copy(long, long, long, Object, Object)} extends the newest held run when it starts where that run ends
 *   on both sides and belongs to the same source and destination allocations (the caller's owner objects, compared
 *   by identity: a copy must not cross from one allocation into another that happens to follow it in the address
 *   space), up to {@code maxRunBytes}.</li>
 *   <li><b>Batches</b>: where the inner queue has a batch launch ({@link DeviceCopyQueue#maxBatch()} above 1: the
 *   engine's copy kernel, or CUDA's {@code cuMemcpyBatchAsync}), the held runs of up to {@code batchRunBytes} each
 *   ({@code deviceBatchRunBytes} for runs the caller marked as wholly on the device), however unrelated, go out
 *   together as one launch; runs marked as wholly on the device form batches of their own (those may run as the
 *   kernel). Longer runs go out on their own as soon as a copy that does not
 *   extend them arrives (a batch runs on one stream, and large copies gain more from the striping over
 *   several).</li>
 * </ul>
 *
 * <p>Held runs are launched at {@link #flush}, which the owner calls at the end of each poll, when
 * {@link #isDone} is asked about one of their tickets, when a copy that is never merged arrives (it goes out after
 * them), and when no room for another run is left. Tickets stay one per copy, and {@link #isDone} keeps the
 * contract: a ticket is done when its launch and every earlier copy finished. Copies in one batch run in no order
 * among themselves: the engine's writes are unordered until they complete, so two writes in flight to the same
 * bytes leave either's bytes, as on a NIC.
 *
 * <p>Single-threaded, like the interface. No allocation per copy.
 */
public final class CoalescingCopyQueue implements DeviceCopyQueue {
    /** The default longest run: long enough to take the launch cost out of page-sized copies. */
    public static final long DEFAULT_MAX_RUN_BYTES = 4L << 20;
    /**
     * The default longest run that waits for a batch launch on the copy engines ({@code te.device.batchRunBytes}
     * overrides it, for measurements).
     */
    public static final long DEFAULT_BATCH_RUN_BYTES = Long.getLong("te.device.batchRunBytes", 256L << 10);
    /**
     * The default longest run wholly on the device that waits for a batch launch (which then runs as the engine's
     * copy kernel; {@code te.device.deviceBatchRunBytes} overrides it, for measurements). 1 MiB: a 1 MiB
     * {@code cuMemcpyAsync} on the H200 costs the launching thread more than the copy takes the GPU (the loopback
     * worker spent two thirds of its time in the launch), and with this limit 1 MiB writes GPU to GPU moved 2.5-3.6
     * times the back-to-back device copy instead of 0.6-0.7 (docs/gpu.md, "Batch launches and the copy kernel").
     * Larger runs stay on the copy engines, which use no SMs of the application's.
     */
    public static final long DEFAULT_DEVICE_BATCH_RUN_BYTES = Long.getLong("te.device.deviceBatchRunBytes", 1L << 20);
    /** The most runs held for one batch. */
    static final int MAX_HELD_RUNS = 128;

    private final DeviceCopyQueue inner;
    private final boolean merge;
    private final long maxRunBytes;
    private final long batchRunBytes;
    private final long deviceBatchRunBytes;
    /** For each outstanding ticket (by {@code ticket % length}), the inner ticket of the launch that carries it. */
    private final long[] innerTicket;
    private long nextTicket;
    private long doneThrough = -1;
    /**
     * The held runs, oldest first: runs {@code runHead .. runCount - 1} are not launched yet, and their tickets are
     * {@code runFirst[runHead] .. nextTicket - 1} (run {@code r} holds {@code runFirst[r] .. runFirst[r + 1] - 1}).
     */
    private final long[] runDestination;
    private final long[] runSource;
    private final long[] runBytes;
    private final long[] runFirst;
    private final boolean[] runOnDevice;
    private int runHead;
    private int runCount;
    /** The allocations the newest held run lies in (a copy extends it only within them). */
    private Object newestSourceOwner;
    private Object newestDestinationOwner;
    /** Where a batch's copies are gathered for the inner queue. */
    private final long[] batchDestination;
    private final long[] batchSource;
    private final long[] batchBytes;

    /**
     * Batches with {@link #DEFAULT_BATCH_RUN_BYTES} and {@link #DEFAULT_DEVICE_BATCH_RUN_BYTES}.
     *
     * @see #CoalescingCopyQueue(DeviceCopyQueue, int, boolean, long, long, long)
     */
    public CoalescingCopyQueue(DeviceCopyQueue inner, int capacity, boolean merge, long maxRunBytes) {
        this(inner, capacity, merge, maxRunBytes, DEFAULT_BATCH_RUN_BYTES, DEFAULT_DEVICE_BATCH_RUN_BYTES);
    }

    /**
     * @param inner         where the runs are launched (closed with this queue)
     * @param capacity      tickets outstanding at most (then {@link #copy} answers {@link #FULL})
     * @param merge         whether copies are merged and batched at all (false: every copy is launched as it comes,
     *                      the engine option {@code coalesceCopies=false})
     * @param maxRunBytes   the longest run launched as one copy
     * @param batchRunBytes the longest run that waits to share a batch launch
     * @param deviceBatchRunBytes the same for runs marked as wholly on the device
     */
    public CoalescingCopyQueue(DeviceCopyQueue inner, int capacity, boolean merge, long maxRunBytes,
                               long batchRunBytes, long deviceBatchRunBytes) {
        if (capacity < 1 || maxRunBytes < 1 || batchRunBytes < 0 || deviceBatchRunBytes < 0) {
            throw new InvalidRequestException("capacity and maxRunBytes must be positive and the batch limits not "
                    + "negative, got " + capacity + ", " + maxRunBytes + ", " + batchRunBytes + " and "
                    + deviceBatchRunBytes);
        }
        this.inner = inner;
        this.merge = merge;
        this.innerTicket = new long[capacity];
        this.maxRunBytes = maxRunBytes;
        this.batchRunBytes = batchRunBytes;
        this.deviceBatchRunBytes = deviceBatchRunBytes;
        int held = Math.max(1, Math.min(inner.maxBatch(), MAX_HELD_RUNS));
        this.runDestination = new long[held];
        this.runSource = new long[held];
        this.runBytes = new long[held];
        this.runFirst = new long[held];
        this.runOnDevice = new boolean[held];
        this.batchDestination = new long[held];
        this.batchSource = new long[held];
        this.batchBytes = new long[held];
    }

    /** A copy that is never merged (the held runs are launched first, so the order holds). */
    @Override
    public long copy(long destination, long source, long lengthBytes) {
        if (!launchHeld() || !hasRoom()) {
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

    /** {@link #copy(long, long, long, Object, Object, boolean)} of ranges that may lie in host memory. */
    public long copy(long destination, long source, long lengthBytes, Object sourceOwner, Object destinationOwner) {
        return copy(destination, source, lengthBytes, sourceOwner, destinationOwner, false);
    }

    /**
     * A copy that may be merged with the copies before it, or batched with them: {@code sourceOwner} and
     * {@code destinationOwner} name the allocations the two ranges lie in (copies of different owners are never
     * merged). Not launched before {@link #flush}, {@link #isDone} of its ticket, or one of the other events the
     * class comment lists; launched at once when this queue does not merge.
     *
     * @param onDevice both ranges are memory of the queue's device (or mapped into it): see
     *                 {@link DeviceCopyQueue#copyBatch}
     * @return a ticket, or {@link #FULL} (nothing was queued)
     */
    public long copy(long destination, long source, long lengthBytes, Object sourceOwner, Object destinationOwner,
                     boolean onDevice) {
        if (!merge || lengthBytes <= 0 || sourceOwner == null || destinationOwner == null) {
            return copy(destination, source, lengthBytes);
        }
        if (!hasRoom()) {
            return FULL;
        }
        int newest = runCount - 1;
        boolean holding = runCount > runHead;
        boolean extendsRun = holding && sourceOwner == newestSourceOwner && destinationOwner == newestDestinationOwner
                && destination == runDestination[newest] + runBytes[newest]
                && source == runSource[newest] + runBytes[newest] && runBytes[newest] <= maxRunBytes - lengthBytes
                && onDevice == runOnDevice[newest];
        if (!extendsRun) {
            // The newest run is complete: a long one goes out now, with the runs before it; so do all when no room
            // for another run is left.
            if (holding && (runBytes[newest] > batchLimit(newest) || runCount == runBytes.length) && !launchHeld()) {
                return FULL;
            }
            int r = runCount++;
            runDestination[r] = destination;
            runSource[r] = source;
            runBytes[r] = 0;
            runFirst[r] = nextTicket;
            runOnDevice[r] = onDevice;
            newestSourceOwner = sourceOwner;
            newestDestinationOwner = destinationOwner;
        }
        runBytes[runCount - 1] += lengthBytes;
        return nextTicket++;
    }

    /** Whether another ticket fits; when none seems to, the oldest launched copies are checked first. */
    private boolean hasRoom() {
        if (outstanding() == innerTicket.length) {
            advance(doneThrough + 1);
        }
        return outstanding() < innerTicket.length;
    }

    /**
     * Launches the held runs, if any; the owner calls it at the end of each poll. A launch the device refuses
     * leaves the runs held: the error reaches the copies' owners when they ask {@link #isDone} about them (each
     * asks in its own request's context), not the poll that happened to flush.
     */
    public void flush() {
        try {
            launchHeld();
        } catch (TransferException e) {
            // held; isDone of each held ticket launches again and throws there
        }
    }

    /** Whether a run is held, not yet launched (tests). */
    boolean hasPendingRun() {
        return runCount > runHead;
    }

    /** The longest run {@code r} may be and still wait for a batch launch. */
    private long batchLimit(int r) {
        return runOnDevice[r] ? deviceBatchRunBytes : batchRunBytes;
    }

    /**
     * Launches the held runs in ticket order: each stretch of runs within their batch limit with the same
     * {@code onDevice} as one batch, each longer run as one copy. False when the inner queue is full (what is left
     * stays held, in order).
     */
    private boolean launchHeld() {
        while (runHead < runCount) {
            int end = runHead + 1;
            if (runBytes[runHead] <= batchLimit(runHead)) {
                while (end < runCount && runOnDevice[end] == runOnDevice[runHead] && runBytes[end] <= batchLimit(end)) {
                    end++;
                }
            }
            long t = launch(runHead, end);
            if (t == FULL) {
                return false;
            }
            long last = end < runCount ? runFirst[end] - 1 : nextTicket - 1;
            for (long ticket = runFirst[runHead]; ticket <= last; ticket++) {
                innerTicket[slot(ticket)] = t;
            }
            runHead = end;
        }
        runHead = 0;
        runCount = 0;
        newestSourceOwner = null;
        newestDestinationOwner = null;
        return true;
    }

    /** Runs {@code from .. to - 1} as one launch. */
    private long launch(int from, int to) {
        if (to - from == 1) {
            return inner.copy(runDestination[from], runSource[from], runBytes[from]);
        }
        int n = to - from;
        System.arraycopy(runDestination, from, batchDestination, 0, n);
        System.arraycopy(runSource, from, batchSource, 0, n);
        System.arraycopy(runBytes, from, batchBytes, 0, n);
        return inner.copyBatch(batchDestination, batchSource, batchBytes, n, runOnDevice[from]);
    }

    @Override
    public boolean isDone(long ticket) {
        DeviceCopyQueue.requireIssued(ticket, nextTicket);
        if (ticket <= doneThrough) {
            return true;
        }
        if (runCount > runHead && ticket >= runFirst[runHead] && !launchHeld()) {
            return false;
        }
        advance(ticket);
        return ticket <= doneThrough;
    }

    /** Moves the watermark forward, in ticket order, up to {@code ticket} or the first launched copy not done. */
    private void advance(long ticket) {
        long launchedThrough = runCount > runHead ? runFirst[runHead] - 1 : nextTicket - 1;
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
     * Drops the held runs (their owner is closing and reports nothing more: launching them now could copy into
     * memory already given back), then closes the inner queue.
     */
    @Override
    public void close() {
        runHead = 0;
        runCount = 0;
        newestSourceOwner = null;
        newestDestinationOwner = null;
        inner.close();
    }

    private int slot(long ticket) {
        return (int) (ticket % innerTicket.length);
    }
}
