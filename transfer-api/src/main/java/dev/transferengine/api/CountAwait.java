package dev.transferengine.api;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * "Wait for n more" over a monotonically increasing count, correct whether the increments happen
 * before or after the wait starts: each waiter reserves its share of a second monotonic counter
 * (the negative-balance idea, split in two so neither counter ever goes backwards). Spins briefly,
 * then yields, then parks in short slices until the deadline; allocates nothing.
 */
final class CountAwait {
    private static final int SPINS = 2_000;
    private static final int YIELDS = 200;
    private static final long PARK_NANOS = 20_000;

    private CountAwait() {
    }

    static long checkWait(long n, Duration timeout) {
        if (n < 0) {
            throw new InvalidRequestException("count to await must be >= 0, got " + n);
        }
        if (timeout == null || timeout.isNegative()) {
            throw new InvalidRequestException("timeout must be a non-negative duration, got " + timeout);
        }
        return saturatedNanos(timeout);
    }

    static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 4;
        }
    }

    /**
     * Reserves {@code n} from {@code reserved} and waits until {@code count >= reservation}.
     *
     * @return true when reached; false on timeout, in which case the reservation was given back
     */
    static boolean await(AtomicLong count, AtomicLong reserved, long n, long timeoutNanos) {
        long target = reserved.addAndGet(n);
        if (count.get() >= target) {
            return true;
        }
        long deadline = System.nanoTime() + timeoutNanos;
        int iteration = 0;
        while (count.get() < target) {
            if (System.nanoTime() - deadline >= 0) {
                if (count.get() >= target) {
                    return true;
                }
                reserved.addAndGet(-n);
                return false;
            }
            if (iteration < SPINS) {
                Thread.onSpinWait();
            } else if (iteration < SPINS + YIELDS) {
                Thread.yield();
            } else {
                LockSupport.parkNanos(PARK_NANOS);
            }
            iteration++;
        }
        return true;
    }
}
