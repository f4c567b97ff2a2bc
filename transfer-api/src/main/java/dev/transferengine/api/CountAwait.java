package dev.transferengine.api;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * "Wait for n more" over a monotonically increasing count, correct whether the increments happen
 * before or after the wait starts: each waiter reserves its share of a second monotonic counter
 * (the negative-balance idea, split in two so neither counter ever goes backwards).
 *
 * <p>A waiter spins briefly, then yields for up to {@value #YIELD_NANOS} ns from the start of its wait, then
 * parks; before parking it publishes itself and its target so
 * that {@link #add} unparks it once the target is reached, not on every arrival (one waiter at a time is woken
 * directly; further concurrent waiters wake within their park slice). A waiter that drives an invoker-mode group
 * ({@link GroupInvoker}) never parks: it runs the group's duty cycle instead. Allocates nothing.
 */
final class CountAwait {
    private static final int SPINS = 200;
    /**
     * How long a waiter yields before it parks, from the start of its wait: longer than a single write of a few
     * MiB takes, so that a one-at-a-time caller sees its completion without a park and a wake-up (each costs
     * tens of microseconds; a yield returns at once when the core has nothing else to run, and gives it away
     * when it has).
     */
    private static final long YIELD_NANOS = 200_000;
    private static final long PARK_NANOS = 50_000;

    private final AtomicLong count = new AtomicLong();
    private final AtomicLong reserved = new AtomicLong();
    private volatile Thread waiter;
    /** The count at which the published {@link #waiter} wants to be woken. */
    private volatile long waiterTarget = Long.MAX_VALUE;

    static long checkWait(long n, Duration timeout) {
        if (n < 0) {
            throw new InvalidRequestException("count to await must be >= 0, got " + n);
        }
        if (timeout == null || timeout.isNegative()) {
            throw new InvalidRequestException("timeout must be a non-negative duration, got " + timeout);
        }
        try {
            return timeout.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 4;
        }
    }

    long count() {
        return count.get();
    }

    long reserved() {
        return reserved.get();
    }

    /** Adds {@code n} arrivals and wakes a parked waiter whose target is reached. */
    void add(long n) {
        long now = count.addAndGet(n);
        Thread w = waiter;
        // Volatile on both sides (count, then waiter/target here; waiter/target, then count in await): either
        // the waiter sees the new count before it parks, or this sees the waiter and its target.
        if (w != null && now >= waiterTarget) {
            LockSupport.unpark(w);
        }
    }

    /**
     * One idle step of a thread that makes progress itself between checks: spins, then yields; never parks (the
     * thread is the one that moves the work). Returns the next value of {@code idleSteps}.
     */
    static int idleOnce(int idleSteps) {
        if (idleSteps < SPINS) {
            Thread.onSpinWait();
            return idleSteps + 1;
        }
        Thread.yield();
        return idleSteps;
    }

    /**
     * Reserves {@code n} and runs {@code invoker}'s duty cycle until the count reaches the reservation.
     *
     * @return true when reached; false on timeout, in which case the reservation was given back
     */
    boolean await(long n, long timeoutNanos, GroupInvoker invoker) {
        long target = reserved.addAndGet(n);
        long deadline = System.nanoTime() + timeoutNanos;
        int idle = 0;
        try {
            while (count.get() < target) {
                if (System.nanoTime() - deadline > 0) {
                    if (count.get() >= target) {
                        return true;
                    }
                    reserved.addAndGet(-n);
                    return false;
                }
                idle = invoker.invoke() > 0 ? 0 : idleOnce(idle);
            }
        } catch (RuntimeException | Error e) {
            reserved.addAndGet(-n);
            throw e;
        }
        return true;
    }

    /**
     * Reserves {@code n} and waits until the count reaches the reservation.
     *
     * @return true when reached; false on timeout, in which case the reservation was given back
     */
    boolean await(long n, long timeoutNanos) {
        long target = reserved.addAndGet(n);
        if (count.get() >= target) {
            return true;
        }
        long start = System.nanoTime();
        long deadline = start + timeoutNanos;
        int iteration = 0;
        while (count.get() < target) {
            long now = System.nanoTime();
            long left = deadline - now;
            if (left <= 0) {
                if (count.get() >= target) {
                    return true;
                }
                reserved.addAndGet(-n);
                return false;
            }
            if (iteration < SPINS) {
                Thread.onSpinWait();
            } else if (now - start < YIELD_NANOS) {
                Thread.yield();
            } else {
                waiterTarget = target;
                waiter = Thread.currentThread();
                if (count.get() < target) {
                    LockSupport.parkNanos(this, Math.min(left, PARK_NANOS));
                }
                waiter = null;
                waiterTarget = Long.MAX_VALUE;
            }
            iteration++;
        }
        return true;
    }
}
