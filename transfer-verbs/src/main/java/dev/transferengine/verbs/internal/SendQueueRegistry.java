package dev.transferengine.verbs.internal;

import java.util.Arrays;

/**
 * The send queues of one domain by owner index, so a send completion (whose wr_id carries the index) finds its
 * queue with one array load. Indices are reused only after the queue is destroyed, when no completion for it
 * can arrive any more. Single-threaded.
 */
final class SendQueueRegistry {
    private SendQueue[] queues = new SendQueue[16];
    private int[] free = new int[16];
    private int freeCount;
    private int next;

    /** Reserves an index for a queue about to be created. */
    int reserve() {
        if (freeCount > 0) {
            return free[--freeCount];
        }
        if (next == WorkRequestId.MAX_OWNERS) {
            throw new IllegalStateException("too many queue pairs in one domain");
        }
        if (next == queues.length) {
            queues = Arrays.copyOf(queues, queues.length * 2);
        }
        return next++;
    }

    void put(SendQueue queue) {
        queues[queue.owner()] = queue;
    }

    /** The queue with this index, or null. */
    SendQueue get(int owner) {
        return owner < queues.length ? queues[owner] : null;
    }

    /** Returns an index (its queue destroyed, or never created) for reuse. */
    void release(int owner) {
        queues[owner] = null;
        if (freeCount == free.length) {
            free = Arrays.copyOf(free, free.length * 2);
        }
        free[freeCount++] = owner;
    }
}
