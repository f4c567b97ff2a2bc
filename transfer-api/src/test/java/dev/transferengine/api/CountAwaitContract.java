package dev.transferengine.api;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The "wait for n more" contract shared by {@link TransferCounter} and {@link ImmCounter}: arrivals before
 * or after the await both count, each await takes its own share, a timeout gives its share back.
 * Subclasses adapt one counter type.
 */
abstract class CountAwaitContract {
    static final Duration DEADLINE = Duration.ofSeconds(30);
    private static final Duration SHORT = Duration.ofMillis(20);

    /** Records {@code n} arrivals (completions or imms). */
    abstract void arrive(long n);

    abstract void await(long n, Duration timeout);

    @Test
    void arrivalsBeforeTheAwaitAreCounted() {
        arrive(5);
        await(5, Duration.ZERO);
    }

    @Test
    void awaitOfZeroReturnsAtOnce() {
        await(0, Duration.ZERO);
        await(0, DEADLINE);
    }

    @Test
    void eachAwaitTakesItsOwnShare() {
        arrive(3);
        await(2, Duration.ZERO);
        await(1, Duration.ZERO);
        assertTimesOut(() -> await(1, SHORT));
        arrive(1);
        await(1, Duration.ZERO);
    }

    @Test
    void arrivalsAfterTheAwaitStartedWakeIt() throws Exception {
        Waiter waiter = Waiter.start(() -> await(4, DEADLINE));
        waitUntilParked(waiter.thread());
        arrive(3);
        arrive(1);
        waiter.join();
        assertTimesOut(() -> await(1, SHORT));
    }

    @Test
    void arrivalsFromAnotherThreadAfterTheCall() throws Exception {
        Thread producer = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < 1000; i++) {
                arrive(1);
            }
        });
        await(1000, DEADLINE);
        producer.join(DEADLINE.toMillis());
    }

    @Test
    void timeoutThrowsTypedExceptionAndReturnsTheReservation() {
        TransferTimeoutException e = assertTimesOut(() -> await(2, SHORT));
        assertEquals(ErrorCategory.TIMEOUT, e.category());
        arrive(2);
        // the timed-out await gave its 2 back, so this one gets them without waiting
        await(2, Duration.ZERO);
        assertTimesOut(() -> await(1, SHORT));
    }

    @Test
    void timeoutDoesNotStealFromAnotherWaiter() throws Exception {
        arrive(1);
        assertTimesOut(() -> await(2, SHORT));
        await(1, Duration.ZERO);
    }

    @Test
    void concurrentWaitersAllWakeAndShareExactly() throws Exception {
        int waiters = 8;
        int eachWants = 10;
        int producers = 4;
        int eachArrives = 25; // 100 arrivals for 80 wanted: 20 left over
        ExecutorService pool = Executors.newFixedThreadPool(waiters + producers);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < waiters; i++) {
                futures.add(pool.submit(() -> await(eachWants, DEADLINE)));
            }
            for (int i = 0; i < producers; i++) {
                futures.add(pool.submit(() -> {
                    for (int k = 0; k < eachArrives; k++) {
                        arrive(1);
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        await(20, Duration.ZERO);
        assertTimesOut(() -> await(1, SHORT));
    }

    @Test
    void rejectsNegativeCountsAndBadTimeouts() {
        for (Runnable bad : List.<Runnable>of(() -> await(-1, DEADLINE), () -> await(1, null),
                () -> await(1, Duration.ofNanos(-1)))) {
            InvalidRequestException e = assertThrows(InvalidRequestException.class, bad::run);
            assertEquals(ErrorCategory.INVALID_ARGUMENT, e.category());
        }
        // a rejected await reserves nothing
        arrive(1);
        await(1, Duration.ZERO);
    }

    @Test
    void hugeTimeoutIsAcceptedAndSaturates() {
        arrive(1);
        await(1, Duration.ofSeconds(Long.MAX_VALUE));
    }

    static TransferTimeoutException assertTimesOut(Runnable r) {
        TransferTimeoutException e = assertThrows(TransferTimeoutException.class, r::run);
        assertEquals(ErrorCategory.TIMEOUT, e.category());
        return e;
    }

    /** An await running on its own thread; {@link #join()} rethrows what it threw. */
    record Waiter(Thread thread, FutureTask<Void> task) {
        static Waiter start(Runnable await) {
            FutureTask<Void> task = new FutureTask<>(await, null);
            return new Waiter(Thread.ofPlatform().name("test-waiter").start(task), task);
        }

        void join() throws Exception {
            task.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        }
    }

    /** Waits until {@code t} parks inside the await (past its spin and yield phases): it has reserved. */
    static void waitUntilParked(Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (t.getState() != Thread.State.TIMED_WAITING) {
            if (!t.isAlive() || System.nanoTime() > deadline) {
                fail("waiter never parked; state " + t.getState());
            }
            Thread.sleep(1);
        }
    }
}
