package dev.transferengine.api;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImmCounterTest extends CountAwaitContract {
    private final ImmCounter counter = new ImmCounter(0xC0FFEE);

    @Override
    void arrive(long n) {
        counter.add(n);
    }

    @Override
    void await(long n, Duration timeout) {
        counter.await(n, timeout);
    }

    @Test
    void reportsItsValueArrivalsAndBalance() {
        assertEquals(0xC0FFEE, counter.imm());
        counter.add(5);
        counter.add(2);
        assertEquals(7, counter.arrived());
        assertEquals(7, counter.balance());
        counter.await(4, Duration.ZERO);
        assertEquals(7, counter.arrived());
        assertEquals(3, counter.balance());
    }

    @Test
    void balanceIsNegativeWhileAWaitIsPending() throws Exception {
        Waiter waiter = Waiter.start(() -> counter.await(3, DEADLINE));
        waitUntilParked(waiter.thread());
        assertEquals(-3, counter.balance());
        counter.add(3);
        waiter.join();
        assertEquals(0, counter.balance());
    }

    @Test
    void timeoutRestoresTheBalance() {
        counter.add(1);
        assertTimesOut(() -> counter.await(3, Duration.ofMillis(5)));
        assertEquals(1, counter.balance());
    }

    @Test
    void timeoutMessageNamesTheImm() {
        TransferTimeoutException e = assertTimesOut(() -> counter.await(1, Duration.ofMillis(1)));
        assertTrue(e.getMessage().contains("c0ffee"), e.getMessage());
    }
}
