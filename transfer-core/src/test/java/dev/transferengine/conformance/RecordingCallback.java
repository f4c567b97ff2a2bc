package dev.transferengine.conformance;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferCallback;
import dev.transferengine.api.TransferException;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** A {@link TransferCallback} that counts its invocations, to prove "exactly one of done or error". */
final class RecordingCallback implements TransferCallback {
    private final AtomicInteger done = new AtomicInteger();
    private final AtomicInteger failed = new AtomicInteger();
    private final AtomicReference<TransferException> error = new AtomicReference<>();
    private final CountDownLatch firstOutcome = new CountDownLatch(1);

    @Override
    public void onDone() {
        done.incrementAndGet();
        firstOutcome.countDown();
    }

    @Override
    public void onError(TransferException e) {
        error.compareAndSet(null, e);
        failed.incrementAndGet();
        firstOutcome.countDown();
    }

    int invocations() {
        return done.get() + failed.get();
    }

    boolean succeeded() {
        return done.get() > 0;
    }

    TransferException error() {
        return error.get();
    }

    void awaitOutcome(String what) {
        Waits.await(firstOutcome, what);
    }

    void assertDoneOnce(String what) {
        awaitOutcome(what);
        TransferException e = error.get();
        assertEquals(0, failed.get(), () -> what + " failed: " + e);
        assertEquals(1, done.get(), what + ": onDone calls");
    }

    TransferException assertFailedOnce(ErrorCategory category, String what) {
        awaitOutcome(what);
        assertEquals(0, done.get(), what + " should have failed but onDone was called");
        assertEquals(1, failed.get(), what + ": onError calls");
        TransferException e = error.get();
        assertNotNull(e);
        assertEquals(category, e.category(), () -> what + ": " + e);
        return e;
    }

    /** Asserts nothing was called (for requests rejected synchronously). */
    void assertNotCalled(String what) {
        assertEquals(0, invocations(), what + ": a rejected request must not call its callback");
    }
}
