package dev.transferengine.api;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The zero-allocation completion form for hot loops: submit many requests against one counter, then
 * {@link #await} how many you submitted. Every request completes the counter exactly once, successful
 * or not; failures are also counted in {@link #failed()} and the first one is kept.
 *
 * <p>Thread-safe. Only the engine completes it (applications cannot forge completions); any thread may await. Awaiting works whether completions happened before or after the call.
 *
 * <p><b>Rounds.</b> One counter serves round after round: {@link #await} always waits for completions beyond
 * what earlier awaits took. Only {@link #failed()}, {@link #firstError()} and {@link #completed()} accumulate;
 * {@link #reset()} starts them again once a round is settled.
 */
public final class TransferCounter {
    static {
        dev.transferengine.api.internal.CounterAccess.install(new dev.transferengine.api.internal.CounterAccess.Bridge() {
            @Override
            public ImmCounter newImmCounter(int imm) {
                return new ImmCounter(imm);
            }

            @Override
            public void addImms(ImmCounter counter, long count) {
                counter.add(count);
            }

            @Override
            public void succeed(TransferCounter counter) {
                counter.onSuccess();
            }

            @Override
            public void fail(TransferCounter counter, TransferException error) {
                counter.onFailure(error);
            }
        });
    }

    private final CountAwait completed = new CountAwait();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicReference<TransferException> firstError = new AtomicReference<>();
    /** {@link CountAwait#count()} at the last {@link #reset()}: the count itself never goes back. */
    private volatile long countAtReset;

    /** Requests completed so far (successes and failures), since creation or the last {@link #reset()}. */
    public long completed() {
        return completed.count() - countAtReset;
    }

    /**
     * Completions not yet taken by awaits: {@code completed - awaited}, negative while an await is pending
     * (and after an await timed out, until the late completions arrive). 0 when every completion was awaited.
     */
    public long balance() {
        return completed.count() - completed.reserved();
    }

    /**
     * Starts a new round: {@link #completed()}, {@link #failed()} and {@link #firstError()} read as on a new
     * counter, so a round that failed does not taint the next. Awaits need no reset (they always count from
     * where earlier awaits stopped).
     *
     * <p>Valid only when the counter is settled: every request submitted against it has completed and every
     * completion was awaited, that is no await is running and {@link #balance()} is 0. The counter sees its
     * completions and awaits but not the submissions, so it refuses a reset it can tell is wrong (an await
     * pending or timed out, completions nobody awaited) but cannot see a request that was submitted and neither
     * awaited nor completed: such a request would count in the new round. Await everything you submitted first.
     * Not meant to race with {@link #onSuccess()} / {@link #onFailure}.
     *
     * @throws InvalidRequestException when {@link #balance()} is not 0; nothing is changed then
     */
    public void reset() {
        long count = completed.count();
        long reserved = completed.reserved();
        if (count != reserved) {
            throw new InvalidRequestException("cannot reset a transfer counter with completions unaccounted for: "
                    + (count - countAtReset) + " completed, " + (reserved - countAtReset) + " awaited (balance "
                    + (count - reserved) + "); await every request submitted against it first");
        }
        firstError.set(null);
        failed.set(0);
        countAtReset = count;
    }

    /** Requests that failed so far (since creation or the last {@link #reset()}). */
    public long failed() {
        return failed.get();
    }

    /** The first failure since creation or the last {@link #reset()}, or null. */
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
                    + " completions (completed so far: " + completed() + ")");
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
                    + completed() + ")");
        }
    }

    /** Records a successful completion. The engine's, through {@code CounterAccess}: callers cannot forge counts. */
    void onSuccess() {
        completed.add(1);
    }

    /** Records a failed completion. The engine's, through {@code CounterAccess}. */
    void onFailure(TransferException error) {
        firstError.compareAndSet(null, error);
        failed.incrementAndGet();
        completed.add(1);
    }
}
