package dev.transferengine.api;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The zero-allocation completion form for hot loops: submit many requests against one counter, then
 * {@link #await} how many you submitted. Every request completes the counter exactly once, successful
 * or not; failures are also counted in {@link #failed()} and the first one is kept.
 *
 * <p>Thread-safe. The engine's worker calls {@link #onSuccess()} / {@link #onFailure}; any thread
 * may await. Awaiting works whether completions happened before or after the call.
 */
public final class TransferCounter {
    private final CountAwait completed = new CountAwait();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicReference<TransferException> firstError = new AtomicReference<>();

    /** Requests completed so far (successes and failures). */
    public long completed() {
        return completed.count();
    }

    /** Requests that failed so far. */
    public long failed() {
        return failed.get();
    }

    /** The first failure, or null. */
    public TransferException firstError() {
        return firstError.get();
    }

    /** Throws the first failure if any request failed. */
    public void throwIfFailed() {
        TransferException e = firstError.get();
        if (e != null) {
            throw e;
        }
    }

    /**
     * Waits until {@code n} more requests than all earlier awaits asked for have completed.
     *
     * @throws TransferTimeoutException when the deadline passes first (the reservation is returned,
     *                                  so a later await for the same requests still works)
     */
    public void await(long n, Duration timeout) {
        long nanos = CountAwait.checkWait(n, timeout);
        if (!completed.await(n, nanos)) {
            throw new TransferTimeoutException("timed out after " + timeout + " waiting for " + n
                    + " completions (completed so far: " + completed.count() + ")");
        }
    }

    /**
     * {@link #await(long, Duration)} for an engine built with {@link ThreadingMode#INVOKER}: instead of parking,
     * the calling thread runs {@code invoker}'s duty cycle until the count is reached, so the group that moves the
     * requests makes progress on this thread (no thread hop, no wake-up).
     *
     * @throws TransferTimeoutException when the deadline passes first (the reservation is returned)
     */
    public void await(long n, Duration timeout, GroupInvoker invoker) {
        long nanos = CountAwait.checkWait(n, timeout);
        if (invoker == null) {
            throw new InvalidRequestException("invoker must not be null");
        }
        if (!completed.await(n, nanos, invoker)) {
            throw new TransferTimeoutException("timed out after " + timeout + " waiting for " + n
                    + " completions while invoking group " + invoker.group() + " (completed so far: "
                    + completed.count() + ")");
        }
    }

    /** Records a successful completion. Called by the engine. */
    public void onSuccess() {
        completed.add(1);
    }

    /** Records a failed completion. Called by the engine. */
    public void onFailure(TransferException error) {
        firstError.compareAndSet(null, error);
        failed.incrementAndGet();
        completed.add(1);
    }
}
