package dev.transferengine.kits.weights;

import dev.transferengine.api.Access;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.PagedWrite;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.Routing;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import dev.transferengine.api.TransferRequest;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * One training rank's side of the weight push. Each {@link #push} walks the rank's tasks of the
 * {@link WeightSchedule} in order: it takes staging memory for the task's shard (waiting for the oldest tasks'
 * writes to complete while the staged bytes would pass the watermark), runs the {@link ShardPreparer} into it,
 * and submits the task's slices as one-sided writes straight into the inference ranks' weight buffers: no
 * gather on rank 0, no message to the receivers. Preparation of the next task overlaps the writes of earlier
 * ones. Every write carries {@code imm}, so each inference rank learns that its weights landed by counting
 * ({@link WeightReceiver}).
 *
 * <p>Staging memory is one region of {@code watermarkBytes}, registered once. Not thread-safe: one thread
 * pushes. {@link #close()} deregisters and frees it; close only between pushes.
 */
public final class WeightPusher implements AutoCloseable {
    private final TransferEngine engine;
    private final WeightSchedule schedule;
    private final int rank;
    private final List<RemoteRegion> destinations;
    private final long watermarkBytes;
    private final int imm;
    private final ShardPreparer preparer;
    private final Duration timeout;
    private final Arena arena;
    private final MemoryRegion staging;
    private final Map<Integer, int[]> identityPages = new HashMap<>();
    private long steps;

    /**
     * @param destinations   the weight buffer descriptor of every destination rank, by rank
     * @param watermarkBytes most staging memory in use at once; at least the schedule's largest task
     * @param imm            the imm every write carries (the receivers count it)
     * @param timeout        longest wait for one task's writes
     * @throws InvalidRequestException for a rank out of range, the wrong number of destinations, a destination
     *                                 smaller than its buffer in the schedule, or a watermark below the largest task
     */
    public WeightPusher(TransferEngine engine, WeightSchedule schedule, int rank, List<RemoteRegion> destinations,
                        long watermarkBytes, int imm, ShardPreparer preparer, Duration timeout) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.schedule = Objects.requireNonNull(schedule, "schedule");
        this.preparer = Objects.requireNonNull(preparer, "preparer");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        schedule.tasks(rank);
        if (destinations == null || destinations.size() != schedule.destinationRanks()) {
            throw new InvalidRequestException("need one destination per inference rank ("
                    + schedule.destinationRanks() + "), got " + (destinations == null ? "null" : destinations.size()));
        }
        for (int d = 0; d < destinations.size(); d++) {
            RemoteRegion r = destinations.get(d);
            if (r == null || r.lengthBytes() < schedule.destinationBufferBytes(d)) {
                throw new InvalidRequestException("destination rank " + d + " needs a region of at least "
                        + schedule.destinationBufferBytes(d) + " bytes, got " + (r == null ? "null" : r.lengthBytes()));
            }
        }
        long largest = StagingRing.aligned(schedule.tasks(rank).stream().mapToLong(ParameterTask::shardBytes).max()
                .orElse(0));
        if (watermarkBytes < largest) {
            throw new InvalidRequestException("watermark of " + watermarkBytes + " bytes is below the largest shard "
                    + "source rank " + rank + " stages (" + largest + " bytes)");
        }
        this.rank = rank;
        this.destinations = List.copyOf(destinations);
        this.watermarkBytes = watermarkBytes;
        this.imm = imm;
        this.arena = Arena.ofShared();
        try {
            this.staging = engine.register(arena.allocate(watermarkBytes, 4096), Access.LOCAL);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** The staging region (its memory is what the preparer writes into). */
    public MemoryRegion staging() {
        return staging;
    }

    /**
     * Pushes one step: prepares and writes every task of this rank, returns when every write completed locally
     * (the source side may then change its weights; the receivers learn landing from their imm counts).
     *
     * @throws TransferException the first failed write's error, or a timeout, after the writes already posted
     *                           are accounted for; a preparer's exception is rethrown the same way
     */
    public PushReport push() {
        long step = steps++;
        StagingRing ring = new StagingRing(watermarkBytes);
        ArrayDeque<TaskInFlight> inFlight = new ArrayDeque<>();
        long requests = 0, workRequests = 0, bytes = 0, submitNanos = 0, maxSubmitNanos = 0, prepareNanos = 0;
        long stallNanos = 0;
        long start = System.nanoTime();
        RuntimeException failure = null;
        List<ParameterTask> tasks = schedule.tasks(rank);
        try {
            for (ParameterTask task : tasks) {
                StagingRing.Slot slot;
                long stallStart = System.nanoTime();
                while ((slot = ring.tryAllocate(task.shardBytes())) == null) {
                    inFlight.removeFirst().await(timeout);
                    ring.releaseOldest();
                }
                stallNanos += System.nanoTime() - stallStart;
                long t0 = System.nanoTime();
                preparer.prepare(task, staging.segment().asSlice(slot.offset(), task.shardBytes()), step);
                prepareNanos += System.nanoTime() - t0;
                TransferCounter counter = new TransferCounter();
                int submitted = 0;
                try {
                    for (SliceWrite w : task.writes()) {
                        TransferRequest request = request(w, slot.offset());
                        long s0 = System.nanoTime();
                        engine.submit(request, counter);
                        long took = System.nanoTime() - s0;
                        submitNanos += took;
                        maxSubmitNanos = Math.max(maxSubmitNanos, took);
                        submitted++;
                        workRequests += w.workRequests();
                        bytes += w.bytes();
                    }
                } finally {
                    requests += submitted;
                    inFlight.addLast(new TaskInFlight(task, counter, submitted));
                }
            }
            long drainStart = System.nanoTime();
            while (!inFlight.isEmpty()) {
                inFlight.removeFirst().await(timeout);
                ring.releaseOldest();
            }
            stallNanos += System.nanoTime() - drainStart;
        } catch (RuntimeException e) {
            failure = e;
        }
        if (failure != null) {
            drainQuietly(inFlight);
            throw failure;
        }
        return new PushReport(tasks.size(), requests, workRequests, bytes, submitNanos, maxSubmitNanos, prepareNanos,
                stallNanos, System.nanoTime() - start, ring.peakBytes());
    }

    private TransferRequest request(SliceWrite w, long stagingOffset) {
        RemoteRegion dst = destinations.get(w.destRank());
        if (w.isContiguous()) {
            return new SingleWrite(staging, stagingOffset + w.srcOffset(), w.bytes(), dst, w.dstOffset(),
                    OptionalInt.of(imm), Routing.allNics());
        }
        int[] pages = identityPages.computeIfAbsent(w.rows(), WeightPusher::identity);
        return new PagedWrite(w.rowBytes(), staging, pages, w.srcStrideBytes(), stagingOffset + w.srcOffset(), dst,
                pages, w.dstStrideBytes(), w.dstOffset(), OptionalInt.of(imm));
    }

    private static int[] identity(int n) {
        int[] pages = new int[n];
        for (int i = 0; i < n; i++) {
            pages[i] = i;
        }
        return pages;
    }

    /** After a failure: wait (bounded) for what was posted, so no write still reads staging memory we hand back. */
    private void drainQuietly(ArrayDeque<TaskInFlight> inFlight) {
        for (TaskInFlight t : inFlight) {
            try {
                t.counter.await(t.submitted, timeout);
            } catch (TransferException ignored) {
                // the first failure is what the caller gets
            }
        }
        inFlight.clear();
    }

    @Override
    public void close() {
        staging.close();
        arena.close();
    }

    /** The writes of one task, counted on one counter. */
    private record TaskInFlight(ParameterTask task, TransferCounter counter, int submitted) {
        void await(Duration timeout) {
            counter.await(submitted, timeout);
            TransferException e = counter.firstError();
            if (e != null) {
                throw e;
            }
        }
    }
}
