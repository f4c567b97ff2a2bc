package dev.transferengine.api;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TransferCounterTest extends CountAwaitContract {
    private final TransferCounter counter = new TransferCounter();

    @Override
    void arrive(long n) {
        for (long i = 0; i < n; i++) {
            counter.onSuccess();
        }
    }

    @Override
    void await(long n, Duration timeout) {
        counter.await(n, timeout);
    }

    @Test
    void failuresCompleteTooAndTheFirstIsKept() {
        TransferException first = new ClosedException("first");
        TransferException second = new TransferException(ErrorCategory.PROVIDER, "second");
        counter.onSuccess();
        counter.onFailure(first);
        counter.onFailure(second);

        assertEquals(3, counter.completed());
        assertEquals(2, counter.failed());
        assertSame(first, counter.firstError());
        assertSame(first, assertThrows(ClosedException.class, counter::throwIfFailed));
        counter.await(3, Duration.ZERO);
    }

    @Test
    void noFailureMeansNoError() {
        counter.onSuccess();
        assertEquals(1, counter.completed());
        assertEquals(0, counter.failed());
        assertNull(counter.firstError());
        counter.throwIfFailed();
    }

    @Test
    void awaitingDoesNotChangeTheCompletedCount() {
        arrive(4);
        counter.await(4, Duration.ZERO);
        assertEquals(4, counter.completed());
    }

    @Test
    void resetStartsANewRoundAfterAFailedOne() {
        counter.onSuccess();
        counter.onFailure(new ClosedException("round 1"));
        counter.await(2, Duration.ZERO);
        assertEquals(0, counter.balance());

        counter.reset();

        assertEquals(0, counter.completed());
        assertEquals(0, counter.failed());
        assertNull(counter.firstError());
        counter.throwIfFailed();
        TransferException second = new TransferException(ErrorCategory.PROVIDER, "round 2");
        counter.onFailure(second);
        counter.onSuccess();
        counter.await(2, Duration.ZERO);
        assertEquals(2, counter.completed());
        assertEquals(1, counter.failed());
        assertSame(second, counter.firstError());
    }

    @Test
    void afterAResetAwaitsCountOnlyNewCompletions() {
        arrive(3);
        counter.await(3, Duration.ZERO);
        counter.reset();

        assertThrows(TransferTimeoutException.class, () -> counter.await(1, Duration.ZERO));
        arrive(1);
        counter.await(1, Duration.ZERO);
        assertEquals(1, counter.completed());
    }

    @Test
    void resetRefusesCompletionsNobodyAwaited() {
        counter.onFailure(new ClosedException("unseen"));
        counter.onSuccess();
        counter.await(1, Duration.ZERO);
        assertEquals(1, counter.balance());

        InvalidRequestException e = assertThrows(InvalidRequestException.class, counter::reset);
        assertEquals(ErrorCategory.INVALID_ARGUMENT, e.category());
        assertEquals(2, counter.completed(), "a refused reset changes nothing");
        assertEquals(1, counter.failed());
        assertEquals("unseen", counter.firstError().getMessage());

        counter.await(1, Duration.ZERO);
        counter.reset();
        assertEquals(0, counter.completed());
        assertEquals(0, counter.failed());
    }

    @Test
    void resetRefusesARoundThatTimedOutUntilItIsAwaitedAgain() {
        arrive(1);
        assertThrows(TransferTimeoutException.class, () -> counter.await(3, Duration.ZERO));
        arrive(2); // the late completions of the timed-out round
        assertEquals(3, counter.balance());
        assertThrows(InvalidRequestException.class, counter::reset);

        counter.await(3, Duration.ZERO);
        counter.reset();
        assertEquals(0, counter.completed());
    }

    @Test
    void resetRefusesWhileAnAwaitIsPending() throws Exception {
        Thread waiter = new Thread(() -> counter.await(1, DEADLINE));
        waiter.start();
        while (counter.balance() >= 0) {
            Thread.onSpinWait();
        }
        assertEquals(-1, counter.balance());
        assertThrows(InvalidRequestException.class, counter::reset);

        arrive(1);
        waiter.join();
        counter.reset();
        assertEquals(0, counter.completed());
    }

    @Test
    void balanceIsCompletionsMinusAwaits() {
        assertEquals(0, counter.balance());
        arrive(5);
        assertEquals(5, counter.balance());
        counter.await(2, Duration.ZERO);
        assertEquals(3, counter.balance());
    }
}
