package dev.transferengine.api;

import java.util.concurrent.locks.LockSupport;

/**
 * Spin, then yield, then park with doubling times; with transfers in flight, spin then yield but never park (a
 * park's wake-up latency would be added to every completion: 20-27% of a large tcp write, docs/benchmark-results.md).
 * Not thread-safe (one per worker).
 */
final class BackoffIdleStrategy implements IdleStrategy {
    private final long maxSpins;
    private final long maxYields;
    private final long minParkNanos;
    private final long maxParkNanos;
    private long spins;
    private long yields;
    private long parkNanos;

    BackoffIdleStrategy(long maxSpins, long maxYields, long minParkNanos, long maxParkNanos) {
        if (maxSpins < 0 || maxYields < 0 || minParkNanos < 1 || maxParkNanos < minParkNanos) {
            throw new InvalidRequestException("backoff needs spins, yields >= 0 and 1 <= minPark <= maxPark");
        }
        this.maxSpins = maxSpins;
        this.maxYields = maxYields;
        this.minParkNanos = minParkNanos;
        this.maxParkNanos = maxParkNanos;
        this.parkNanos = minParkNanos;
    }

    @Override
    public void idle(int workCount) {
        if (workCount > 0) {
            reset();
        } else if (spins < maxSpins) {
            spins++;
            Thread.onSpinWait();
        } else if (yields < maxYields) {
            yields++;
            Thread.yield();
        } else {
            LockSupport.parkNanos(parkNanos);
            parkNanos = Math.min(parkNanos << 1, maxParkNanos);
        }
    }

    @Override
    public void idle(int workCount, boolean transfersInFlight) {
        if (workCount == 0 && transfersInFlight) {
            if (spins < maxSpins) {
                spins++;
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
            return;
        }
        idle(workCount);
    }

    @Override
    public boolean mayPark(boolean transfersInFlight) {
        return !transfersInFlight && spins >= maxSpins && yields >= maxYields;
    }

    @Override
    public void reset() {
        spins = 0;
        yields = 0;
        parkNanos = minParkNanos;
    }
}
