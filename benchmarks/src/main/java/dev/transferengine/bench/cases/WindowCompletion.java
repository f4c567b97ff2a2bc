package dev.transferengine.bench.cases;

import dev.transferengine.api.GroupInvoker;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferTimeoutException;
import dev.transferengine.bench.BenchFailure;
import dev.transferengine.bench.cli.SweepOptions;

import java.time.Duration;

/**
 * Decides when the oldest write of a window slot is "done", in one of two senses
 * ({@link SweepOptions.Completion}):
 * <ul>
 *   <li>{@link #immArrival}: the receiver's {@link ImmCounter} for the slot's imm went up by the number of
 *       imms one request produces, i.e. every byte of the write is in the destination memory. This is
 *       what a receiver can act on, so it is the default and what throughput means.</li>
 *   <li>{@link #localCompletion}: the sender's {@link TransferCounter} for the slot went up by one, i.e.
 *       the source buffer may be reused. On some providers (libfabric tcp) this comes before the data
 *       has landed, so it can read faster than imm arrival.</li>
 * </ul>
 * Either way, {@link #settle} waits at the end of a phase for the other sense too, so no write is left
 * in flight between cases and every failure surfaces. Used by the one benchmark thread; allocation-free
 * while waiting. With invoker-mode engines ({@code --threading invoker}) every wait drives both engines' groups
 * ({@link #driver}) instead of parking.
 */
abstract sealed class WindowCompletion permits WindowCompletion.ImmArrival, WindowCompletion.LocalCompletion {
    /** How long one wait slice is before failures are checked again. */
    private static final Duration SLICE = Duration.ofSeconds(1);

    final ImmCounter[] immCounters;
    final long immsPerOp;
    final long timeoutNanos;
    /** Runs the engines' duty cycles while waiting (invoker mode), or null (dedicated worker threads). */
    final GroupInvoker driver;

    private WindowCompletion(ImmCounter[] immCounters, long immsPerOp, Duration timeout, GroupInvoker driver) {
        this.immCounters = immCounters;
        this.immsPerOp = immsPerOp;
        this.timeoutNanos = timeout.toNanos();
        this.driver = driver;
    }

    static WindowCompletion immArrival(ImmCounter[] immCounters, long immsPerOp, Duration timeout,
                                       GroupInvoker driver) {
        return new ImmArrival(immCounters, immsPerOp, timeout, driver);
    }

    static WindowCompletion localCompletion(ImmCounter[] immCounters, long immsPerOp, Duration timeout,
                                            GroupInvoker driver) {
        return new LocalCompletion(immCounters, immsPerOp, timeout, driver);
    }

    /** The counter a submission from {@code slot} completes. */
    abstract TransferCounter counter(int slot);

    /** Returns when the oldest outstanding write of {@code slot} is done. */
    abstract void awaitOldest(int slot);

    /**
     * Called when every slot's writes are done in this mode's sense: waits until they are also locally
     * complete and their imms counted, then throws the first failure if any.
     *
     * @param submittedPerSlot requests submitted from each slot in this phase
     */
    abstract void settle(long[] submittedPerSlot);

    /** Waits for {@code n} more imms of {@code slot}, failing early when {@code failures} saw a failed write. */
    final void awaitImms(int slot, long n, TransferCounter failures) {
        long deadline = System.nanoTime() + timeoutNanos;
        while (true) {
            try {
                if (driver != null) {
                    immCounters[slot].await(n, SLICE, driver);
                } else {
                    immCounters[slot].await(n, SLICE);
                }
                return;
            } catch (TransferTimeoutException e) {
                throwIfFailed(failures);
                if (System.nanoTime() - deadline >= 0) {
                    throw new BenchFailure("imms of slot " + slot + " did not arrive within "
                            + timeoutNanos / 1_000_000_000 + " s (balance " + immCounters[slot].balance() + ")", e);
                }
            }
        }
    }

    static void awaitLocal(TransferCounter counter, long n, long timeoutNanos) {
        awaitLocal(counter, n, timeoutNanos, null);
    }

    /** {@link #awaitLocal(TransferCounter, long, long)} driving {@code driver} while waiting, unless it is null. */
    static void awaitLocal(TransferCounter counter, long n, long timeoutNanos, GroupInvoker driver) {
        try {
            if (driver != null) {
                counter.await(n, Duration.ofNanos(timeoutNanos), driver);
            } else {
                counter.await(n, Duration.ofNanos(timeoutNanos));
            }
        } catch (TransferTimeoutException e) {
            throw new BenchFailure("local completions did not come: " + e.getMessage(), e);
        }
        throwIfFailed(counter);
    }

    static void throwIfFailed(TransferCounter counter) {
        if (counter.failed() > 0) {
            throw new BenchFailure(counter.failed() + " write(s) failed; first: " + counter.firstError().getMessage(),
                    counter.firstError());
        }
    }

    /** Done = imms counted by the receiver. All slots share one local counter, which only collects errors. */
    static final class ImmArrival extends WindowCompletion {
        private final TransferCounter local = new TransferCounter();

        ImmArrival(ImmCounter[] immCounters, long immsPerOp, Duration timeout, GroupInvoker driver) {
            super(immCounters, immsPerOp, timeout, driver);
        }

        @Override
        TransferCounter counter(int slot) {
            return local;
        }

        @Override
        void awaitOldest(int slot) {
            awaitImms(slot, immsPerOp, local);
        }

        @Override
        void settle(long[] submittedPerSlot) {
            long total = 0;
            for (long n : submittedPerSlot) {
                total += n;
            }
            awaitLocal(local, total, timeoutNanos, driver);
        }
    }

    /** Done = the sender's completion. One counter per slot, so each slot's oldest write is awaited alone. */
    static final class LocalCompletion extends WindowCompletion {
        private final TransferCounter[] perSlot;

        LocalCompletion(ImmCounter[] immCounters, long immsPerOp, Duration timeout, GroupInvoker driver) {
            super(immCounters, immsPerOp, timeout, driver);
            perSlot = new TransferCounter[immCounters.length];
            for (int i = 0; i < perSlot.length; i++) {
                perSlot[i] = new TransferCounter();
            }
        }

        @Override
        TransferCounter counter(int slot) {
            return perSlot[slot];
        }

        @Override
        void awaitOldest(int slot) {
            awaitLocal(perSlot[slot], 1, timeoutNanos, driver);
        }

        @Override
        void settle(long[] submittedPerSlot) {
            for (int slot = 0; slot < submittedPerSlot.length; slot++) {
                if (submittedPerSlot[slot] > 0) {
                    awaitImms(slot, submittedPerSlot[slot] * immsPerOp, perSlot[slot]);
                }
            }
        }
    }
}
