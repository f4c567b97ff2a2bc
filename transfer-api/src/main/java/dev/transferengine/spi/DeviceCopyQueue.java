package dev.transferengine.spi;

/**
 * An in-order queue of asynchronous copies on one device (a CUDA stream with a ring of events). Copies
 * run in submission order; {@link #isDone} tells whether everything up to a ticket has finished, and once
 * it says so, the copied bytes are visible to the host, to the device and to NICs.
 *
 * <p>Single-threaded: opened, used and closed by one thread (the owning worker). {@link #copy} never
 * blocks; when too many copies are outstanding it returns {@link #FULL} and nothing was queued.
 */
public interface DeviceCopyQueue extends AutoCloseable {
    /** Returned by {@link #copy} when the queue has no room; poll {@link #isDone} and try again. */
    long FULL = -1;

    /**
     * Queues a copy of {@code lengthBytes} from {@code source} to {@code destination}; either may be host or
     * device memory (unified addressing). The memory must stay valid until the copy is done.
     *
     * @return a ticket for {@link #isDone}, increasing with every call, or {@link #FULL}
     */
    long copy(long destination, long source, long lengthBytes);

    /**
     * The most copies one {@link #copyBatch} call takes: 1 (the default) when this queue launches copies one at a
     * time, more when the device has a batch launch ({@code cuMemcpyBatchAsync}, or the engine's copy kernel).
     */
    default int maxBatch() {
        return 1;
    }

    /**
     * Queues copies {@code 0 .. count - 1} of the three arrays (destination, source, length) as one launch. They
     * start after every copy queued before them, run in <i>no order among themselves</i> (none may read what
     * another writes, and overlapping destinations end up with either's bytes), and are done together under one
     * ticket. Either memory may be host or device memory, as for {@link #copy}.
     *
     * @param count    1 .. {@link #maxBatch()}
     * @param onDevice the caller knows that every range is memory of this queue's device (or mapped into it, like
     *                 an IPC mapping): the batch may then run as a kernel on the device instead of on its copy
     *                 engines, which cannot be done for pageable host memory
     * @return one ticket for the whole batch, or {@link #FULL} (nothing was queued)
     * @throws dev.transferengine.api.InvalidRequestException when {@code count} is outside 1 .. {@link #maxBatch()}
     */
    default long copyBatch(long[] destinations, long[] sources, long[] lengths, int count, boolean onDevice) {
        requireBatch(count, maxBatch());
        return copy(destinations[0], sources[0], lengths[0]);
    }

    /**
     * For implementations: {@link #copyBatch}'s check that {@code count} is in 1 .. {@code maxBatch}.
     *
     * @throws dev.transferengine.api.InvalidRequestException when it is not
     */
    static void requireBatch(int count, int maxBatch) {
        if (count < 1 || count > maxBatch) {
            throw new dev.transferengine.api.InvalidRequestException("a batch holds 1.." + maxBatch + " copies, got "
                    + count);
        }
    }

    /**
     * Whether the copy with {@code ticket}, and every copy queued before it, has finished.
     *
     * @throws dev.transferengine.api.TransferException if the device reported an error for the queue
     */
    boolean isDone(long ticket);

    /**
     * For implementations: {@link #isDone}'s check that {@code ticket} was issued by a queue whose next ticket is
     * {@code nextTicket}.
     *
     * @throws dev.transferengine.api.InvalidRequestException when it was not
     */
    static void requireIssued(long ticket, long nextTicket) {
        if (ticket < 0 || ticket >= nextTicket) {
            throw new dev.transferengine.api.InvalidRequestException("ticket " + ticket + " was never issued (next is "
                    + nextTicket + ")");
        }
    }

    /** Copies queued and not yet known to be done. */
    int outstanding();

    /** Waits for queued copies (bounded), then frees the stream and events. Idempotent. */
    @Override
    void close();
}
