package dev.transferengine.api;

import java.util.concurrent.locks.LockSupport;

/**
 * How a worker waits when a loop iteration did no work (Agrona's shape). One instance per worker
 * thread; implementations need not be thread-safe.
 */
public interface IdleStrategy {

    /** Called after every iteration with the work it did; idles only when {@code workCount == 0}. */
    void idle(int workCount);

    /** Forget any back-off state. */
    void reset();

    /**
     * {@link #idle(int)} told whether the worker expects completions: it has transfers in flight (posted, waiting
     * for completions), or a thread of the application waits in {@link ImmCounter#await} for imms that have not
     * arrived. A strategy may then keep spinning or yielding, since completions and imms arrive only when the
     * worker polls, and a park adds its wake-up time to every one of them (on tcp a parked target also stalls the
     * writer's byte stream). The default ignores the hint.
     */
    default void idle(int workCount, boolean transfersInFlight) {
        idle(workCount);
    }

    /**
     * Whether the next {@code idle(0, transfersInFlight)} may park the thread. A worker publishes that it needs an
     * unpark only then, so producers do not unpark a worker that is spinning. Default true (always safe).
     */
    default boolean mayPark(boolean transfersInFlight) {
        return true;
    }

    /** Busy spin with {@link Thread#onSpinWait()}: lowest latency, burns a core. */
    static IdleStrategy busySpin() {
        return new IdleStrategy() {
            @Override
            public void idle(int workCount) {
                if (workCount == 0) {
                    Thread.onSpinWait();
                }
            }

            @Override
            public void reset() {
            }

            @Override
            public boolean mayPark(boolean transfersInFlight) {
                return false;
            }
        };
    }

    /** {@link Thread#yield()} when idle. */
    static IdleStrategy yielding() {
        return new IdleStrategy() {
            @Override
            public void idle(int workCount) {
                if (workCount == 0) {
                    Thread.yield();
                }
            }

            @Override
            public void reset() {
            }

            @Override
            public boolean mayPark(boolean transfersInFlight) {
                return false;
            }
        };
    }

    /** Park for a fixed time when idle. */
    static IdleStrategy parking(long parkNanos) {
        return new IdleStrategy() {
            @Override
            public void idle(int workCount) {
                if (workCount == 0) {
                    LockSupport.parkNanos(parkNanos);
                }
            }

            @Override
            public void reset() {
            }
        };
    }

    /**
     * Spin, then yield, then park with exponential back-off up to {@code maxParkNanos}; while transfers are in
     * flight or imms awaited it only spins and yields (parks only when nothing is expected). The default. An
     * application that waits for imms for long stretches with nothing arriving keeps one core busy in
     * {@link Thread#yield()} meanwhile; {@link #parking(long)} trades that for the wake-up latency.
     */
    static IdleStrategy backoff(long maxSpins, long maxYields, long minParkNanos, long maxParkNanos) {
        return new BackoffIdleStrategy(maxSpins, maxYields, minParkNanos, maxParkNanos);
    }

    /** {@code backoff(100, 10, 1 µs, 100 µs)}. */
    static IdleStrategy backoff() {
        return backoff(100, 10, 1_000, 100_000);
    }
}
