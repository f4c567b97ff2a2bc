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

    /** Spin, then yield, then park with exponential back-off up to {@code maxParkNanos}. The default. */
    static IdleStrategy backoff(long maxSpins, long maxYields, long minParkNanos, long maxParkNanos) {
        return new BackoffIdleStrategy(maxSpins, maxYields, minParkNanos, maxParkNanos);
    }

    /** {@code backoff(100, 10, 1 µs, 100 µs)}. */
    static IdleStrategy backoff() {
        return backoff(100, 10, 1_000, 100_000);
    }
}
