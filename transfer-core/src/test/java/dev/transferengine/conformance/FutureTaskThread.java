package dev.transferengine.conformance;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.fail;

/** A blocking call on its own thread, whose failure {@link #join} reports to the test thread. */
final class FutureTaskThread {
    private final Thread thread;
    private final FutureTask<Void> task;

    private FutureTaskThread(Runnable call) {
        this.task = new FutureTask<>(call, null);
        this.thread = Thread.ofPlatform().name("conformance-waiter").start(task);
    }

    static FutureTaskThread start(Runnable call) {
        return new FutureTaskThread(call);
    }

    Thread thread() {
        return thread;
    }

    void join(String what) {
        try {
            task.get(Waits.DEADLINE.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            fail("deadline of " + Waits.DEADLINE + " passed waiting for " + what);
        } catch (ExecutionException e) {
            fail(what + " failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("interrupted waiting for " + what);
        }
    }
}
