package dev.transferengine.api;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Drives one group's duty cycle on the calling thread, for engines built with {@link ThreadingMode#INVOKER}:
 * each {@link #invoke()} takes queued requests, posts writes, polls every NIC of the group once and expires
 * overdue transfers, like one pass of a dedicated worker's loop. Completions to {@link TransferCounter}s are
 * delivered inside the call; callbacks and futures still run on the group's callback thread.
 *
 * <p>Thread-safe, and lock-free: one thread at a time owns the group (an ownership flag taken for the length of a
 * call). A call made while another thread is inside one does nothing and returns 0, so several threads may help
 * without ever touching a NIC at the same time. Allocation-free in steady state.
 */
public interface GroupInvoker {

    /** The group this invoker drives. */
    int group();

    /**
     * One duty cycle. Returns the amount of work done (requests taken, writes posted, completions read, ...), 0 when
     * there was nothing to do or another thread was invoking the group at that moment.
     *
     * @throws ClosedException   once the engine is closed
     * @throws TransferException when the group stopped after a failure (its provider threw, for instance)
     */
    int invoke();

    /**
     * Invokes until {@code done} answers true (checked before every cycle), spinning briefly and yielding between
     * idle cycles. Useful for a future: {@code invoker.invokeUntil(future::isDone, timeout)}.
     *
     * @throws TransferTimeoutException when {@code timeout} passes first
     */
    default void invokeUntil(BooleanSupplier done, Duration timeout) {
        long nanos = CountAwait.checkWait(0, timeout);
        long deadline = System.nanoTime() + nanos;
        int idle = 0;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new TransferTimeoutException("condition not reached within " + timeout + " while invoking group "
                        + group());
            }
            idle = invoke() > 0 ? 0 : CountAwait.idleOnce(idle);
        }
    }
}
