package dev.transferengine.conformance;

import dev.transferengine.api.TransferException;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Deadline-bounded waits for the conformance suite. Every wait in the suite goes through here, so
 * nothing can hang a build: a missed deadline is a test failure that says what was awaited.
 */
final class Waits {
    /** Generous: a noisy 2-core CI box must never trip it when the engine is correct. */
    static final Duration DEADLINE = Duration.ofSeconds(30);

    private Waits() {
    }

    /** Polls {@code condition} until it holds or the deadline passes. */
    static void until(BooleanSupplier condition, Supplier<String> what) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        int spins = 0;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("deadline of " + DEADLINE + " passed waiting for " + what.get());
            }
            if (spins++ < 1000) {
                Thread.onSpinWait();
            } else {
                sleepBriefly();
            }
        }
    }

    /** The future's value; fails the test on timeout or exceptional completion. */
    static <T> T get(CompletableFuture<T> future, String what) {
        try {
            return future.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            return fail("deadline of " + DEADLINE + " passed waiting for " + what);
        } catch (ExecutionException e) {
            return fail(what + " failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted waiting for " + what);
        }
    }

    /** The {@link TransferException} the future failed with; fails the test if it succeeds or times out. */
    static TransferException failure(CompletableFuture<?> future, String what) {
        try {
            Object value = future.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            return fail(what + " succeeded (" + value + ") but should have failed");
        } catch (TimeoutException e) {
            return fail("deadline of " + DEADLINE + " passed waiting for " + what + " to fail");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof CompletionException c && c.getCause() != null
                    ? c.getCause() : e.getCause();
            return assertInstanceOf(TransferException.class, cause, what + " failed with an untyped exception");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted waiting for " + what);
        }
    }

    static void await(CountDownLatch latch, String what) {
        try {
            if (!latch.await(DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
                fail("deadline of " + DEADLINE + " passed waiting for " + what);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("interrupted waiting for " + what);
        }
    }

    static void join(Thread thread, String what) {
        try {
            thread.join(DEADLINE.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("interrupted waiting for " + what);
        }
        if (thread.isAlive()) {
            fail("deadline of " + DEADLINE + " passed waiting for " + what);
        }
    }

    private static void sleepBriefly() {
        try {
            Thread.sleep(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
