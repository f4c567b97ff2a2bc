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
}
