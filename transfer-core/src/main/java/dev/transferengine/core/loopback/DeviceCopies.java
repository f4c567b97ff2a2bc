package dev.transferengine.core.loopback;

import dev.transferengine.core.device.CoalescingCopyQueue;
import dev.transferengine.core.device.StripedCopyQueue;
import dev.transferengine.spi.DeviceBackend;
import dev.transferengine.spi.DeviceCopyQueue;

import java.util.ArrayList;
import java.util.List;

/**
 * The copy queues (CUDA streams) one loopback domain uses for writes that touch device memory, one per
 * (backend, device), opened lazily on the domain's worker thread and closed with the domain. A copy runs on
 * the source device's queue, or the destination's when the source is host memory; each queue deals its copies
 * over {@code loopback.copyStreams} streams, and back-to-back contiguous copies go out as one launch
 * ({@link CoalescingCopyQueue}; the domain launches what is pending at the end of each poll).
 */
final class DeviceCopies {
    /** CUDA streams per (backend, device) queue ({@link StripedCopyQueue}). */
    private final int streams;
    private final List<DeviceBackend> backends = new ArrayList<>();
    private final List<CoalescingCopyQueue> queues = new ArrayList<>();
    private final List<Integer> ordinals = new ArrayList<>();
    /**
     * Per queue, the lowest ticket found not done during the current poll: copies run in stream order, so every
     * later ticket is not done either and needs no driver query until the next poll.
     */
    private long[] notDoneFrom = new long[0];

    /** Whether contiguous copies may be merged ({@code loopback.coalesceCopies}). */
    private final boolean coalesce;

    /** Tickets outstanding per queue; past that, copies wait (FULL), as behind a full stream. */
    private static final int TICKETS = 4096;

    DeviceCopies(int streams, boolean coalesce) {
        this.streams = streams;
        this.coalesce = coalesce;
    }

    /** The queue for {@code ordinal} of {@code backend}, opened on first use. */
    CoalescingCopyQueue queue(DeviceBackend backend, int ordinal) {
        for (int i = 0; i < queues.size(); i++) {
            if (backends.get(i) == backend && ordinals.get(i) == ordinal) {
                return queues.get(i);
            }
        }
        CoalescingCopyQueue q = new CoalescingCopyQueue(StripedCopyQueue.open(backend, ordinal, streams), TICKETS,
                coalesce, CoalescingCopyQueue.DEFAULT_MAX_RUN_BYTES);
        backends.add(backend);
        ordinals.add(ordinal);
        queues.add(q);
        notDoneFrom = java.util.Arrays.copyOf(notDoneFrom, queues.size());
        notDoneFrom[queues.size() - 1] = Long.MAX_VALUE;
        return q;
    }

    /** Starts a poll: what was not done during the last one may be done now. */
    void newPoll() {
        java.util.Arrays.fill(notDoneFrom, Long.MAX_VALUE);
    }

    /** Ends a poll: copies held for merging are launched. */
    void endPoll() {
        for (int i = 0; i < queues.size(); i++) {
            queues.get(i).flush();
        }
    }

    /**
     * Whether copy {@code ticket} of {@code queue} finished; at most one driver query per queue and poll answers
     * "not yet" for every later ticket.
     */
    boolean isDone(DeviceCopyQueue queue, long ticket) {
        int i = queues.indexOf(queue);
        if (ticket >= notDoneFrom[i]) {
            return false;
        }
        if (queue.isDone(ticket)) {
            return true;
        }
        notDoneFrom[i] = ticket;
        return false;
    }

    /** Waits (bounded, by each queue) for copies in flight, then frees the queues. */
    void close() {
        for (CoalescingCopyQueue q : queues) {
            try {
                q.close();
            } catch (RuntimeException e) {
                System.getLogger(DeviceCopies.class.getName()).log(System.Logger.Level.WARNING,
                        "closing a device copy queue failed", e);
            }
        }
        queues.clear();
        backends.clear();
        ordinals.clear();
    }
}
