package dev.transferengine.core.loopback;

import dev.transferengine.spi.CompletionSink;

import java.util.random.RandomGenerator;

/**
 * A domain's inbound events: imms of remote writes and completions of its receives, pushed by the worker
 * threads of the domains that applied those operations and delivered to this domain's sink when this
 * domain polls (manual progress: nothing is delivered while nobody polls).
 *
 * <p>Threading: {@link #offer} from any thread; everything else on the owning worker thread. Ordering:
 * the queue publishes each event with a release store that the owner reads with an acquire load, so the
 * bytes a write copied before offering its imm are visible once the imm is delivered.
 *
 * <p>With reorder on, events are first drained into a local buffer and then delivered in random order.
 */
final class Inbound {
    static final long NONE = 0;
    /** (imm, -, -) */
    static final long IMM = 1;
    /** (receive context, message length, -) */
    static final long RECEIVED = 2;
    /** (receive context, message length, buffer length) */
    static final long RECEIVE_TOO_SMALL = 3;
    /** (receive context, buffer key, -) */
    static final long RECEIVE_BUFFER_GONE = 4;

    private static final int L = EventQueue.ENTRY_LONGS;

    private final EventQueue queue;
    private final RandomGenerator reorder;
    private final long[] buffer;
    private int buffered;
    private final long[] event = new long[L];
    private int receivesFinished;

    /** @param reorder null to deliver in arrival order */
    Inbound(int minCapacity, RandomGenerator reorder) {
        this.queue = new EventQueue(minCapacity);
        this.reorder = reorder;
        this.buffer = reorder == null ? null : new long[queue.capacity() * L];
    }

    /** Wakes the owning worker after an event was queued; set once by the engine. */
    private volatile Runnable wakeup = () -> { };

    void setWakeup(Runnable wakeup) {
        this.wakeup = wakeup;
    }

    /** Any thread: queues one event; false when the queue is full (the caller keeps it and retries). */
    boolean offer(long kind, long a, long b, long c) {
        if (!queue.offer(kind, a, b, c)) {
            return false;
        }
        wakeup.run();
        return true;
    }

    /** Owner thread: delivers up to {@code budget} events; returns how many. */
    int deliver(CompletionSink sink, int budget) {
        int delivered = 0;
        if (reorder == null) {
            while (delivered < budget && queue.poll(event, 0)) {
                dispatch(sink);
                delivered++;
            }
            return delivered;
        }
        while (buffered * L < buffer.length && queue.poll(buffer, buffered * L)) {
            buffered++;
        }
        while (delivered < budget && buffered > 0) {
            int chosen = reorder.nextInt(buffered) * L;
            int last = --buffered * L;
            System.arraycopy(buffer, chosen, event, 0, L);
            System.arraycopy(buffer, last, buffer, chosen, L);
            dispatch(sink);
            delivered++;
        }
        return delivered;
    }

    /** Owner thread: receives that completed (or failed) since the last call. */
    int takeReceivesFinished() {
        int finished = receivesFinished;
        receivesFinished = 0;
        return finished;
    }

    private void dispatch(CompletionSink sink) {
        long kind = event[0];
        if (kind == IMM) {
            sink.onImm((int) event[1]);
            return;
        }
        receivesFinished++;
        if (kind == RECEIVED) {
            sink.onReceive(event[1], event[2]);
        } else if (kind == RECEIVE_TOO_SMALL) {
            sink.onError(event[1], LoopbackErrors.receiveTooSmall(event[1], event[2], event[3]));
        } else {
            sink.onError(event[1], LoopbackErrors.receiveBufferGone(event[1], event[2]));
        }
    }
}
