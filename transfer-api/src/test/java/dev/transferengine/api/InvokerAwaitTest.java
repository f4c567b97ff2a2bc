package dev.transferengine.api;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Awaits that drive an invoker-mode group ({@link GroupInvoker}) instead of parking, and the default idle strategy's
 * "park only when nothing is in flight".
 */
class InvokerAwaitTest {

    /** A group whose every {@code everyNth} cycle completes one request of {@code counter}. */
    private static GroupInvoker completingEvery(int everyNth, TransferCounter counter, AtomicInteger cycles) {
        return new GroupInvoker() {
            @Override
            public int group() {
                return 3;
            }

            @Override
            public int invoke() {
                if (cycles.incrementAndGet() % everyNth == 0) {
                    counter.onSuccess();
                    return 1;
                }
                return 0;
            }
        };
    }

    @Test
    void aCounterAwaitRunsTheGroupUntilTheCountIsReached() {
        TransferCounter counter = new TransferCounter();
        AtomicInteger cycles = new AtomicInteger();
        counter.await(5, Duration.ofSeconds(30), completingEvery(3, counter, cycles));
        assertEquals(5, counter.completed());
        assertEquals(15, cycles.get(), "the awaiting thread ran exactly the cycles that produced the count");
        counter.onSuccess();
        counter.await(1, Duration.ofSeconds(30), completingEvery(1, counter, new AtomicInteger()));
        assertEquals(6, counter.completed(), "an arrival before the await counts for it");
    }

    @Test
    void aTimeoutOrAFailingInvokeGivesTheReservationBack() {
        TransferCounter counter = new TransferCounter();
        GroupInvoker idle = completingEvery(Integer.MAX_VALUE, counter, new AtomicInteger());
        TransferTimeoutException timeout = assertThrows(TransferTimeoutException.class,
                () -> counter.await(1, Duration.ofMillis(20), idle));
        assertTrue(timeout.getMessage().contains("group 3"), timeout.getMessage());

        ClosedException closed = new ClosedException("engine is closed");
        GroupInvoker failing = new GroupInvoker() {
            @Override
            public int group() {
                return 0;
            }

            @Override
            public int invoke() {
                throw closed;
            }
        };
        assertSame(closed, assertThrows(ClosedException.class, () -> counter.await(1, Duration.ofSeconds(30), failing)));
        counter.onSuccess();
        // Both reservations were returned: one arrival satisfies a fresh await of one.
        counter.await(1, Duration.ofSeconds(30), idle);
        assertThrows(InvalidRequestException.class, () -> counter.await(1, Duration.ofSeconds(1), null));
    }

    @Test
    void anImmCounterAwaitRunsTheGroupToo() {
        ImmCounter imms = new ImmCounter(0x77);
        AtomicInteger cycles = new AtomicInteger();
        GroupInvoker twoPerCycle = new GroupInvoker() {
            @Override
            public int group() {
                return 0;
            }

            @Override
            public int invoke() {
                cycles.incrementAndGet();
                imms.add(2);
                return 2;
            }
        };
        imms.await(7, Duration.ofSeconds(30), twoPerCycle);
        assertEquals(4, cycles.get());
        assertEquals(1, imms.balance(), "the eighth imm is left for the next await");
    }

    @Test
    void invokeUntilStopsWhenTheConditionHoldsOrTheDeadlinePasses() {
        TransferCounter counter = new TransferCounter();
        AtomicInteger cycles = new AtomicInteger();
        GroupInvoker invoker = completingEvery(2, counter, cycles);
        invoker.invokeUntil(() -> counter.completed() >= 3, Duration.ofSeconds(30));
        assertEquals(3, counter.completed());
        assertEquals(6, cycles.get());
        assertThrows(TransferTimeoutException.class, () -> invoker.invokeUntil(() -> false, Duration.ofMillis(10)));
    }

    @Test
    void backoffParksOnlyWhenNothingIsInFlight() {
        IdleStrategy backoff = IdleStrategy.backoff(3, 2, 1_000, 100_000);
        for (int i = 0; i < 50; i++) {
            assertFalse(backoff.mayPark(true), "with transfers in flight it never parks");
            backoff.idle(0, true);
        }
        assertFalse(backoff.mayPark(true));
        backoff.reset();
        for (int i = 0; i < 5; i++) {
            assertFalse(backoff.mayPark(false), "spins and yields first (" + i + ")");
            backoff.idle(0, false);
        }
        assertTrue(backoff.mayPark(false), "after 3 spins and 2 yields with nothing in flight it parks");
        backoff.idle(1, false);
        assertFalse(backoff.mayPark(false), "work resets the back-off");
        assertFalse(IdleStrategy.busySpin().mayPark(false));
        assertFalse(IdleStrategy.yielding().mayPark(false));
        assertTrue(IdleStrategy.parking(1_000).mayPark(true));
    }
}
