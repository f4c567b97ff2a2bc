package dev.transferengine.bench.cases;

import dev.transferengine.api.GroupInvoker;
import dev.transferengine.bench.BenchFailure;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A thread that drives one group of an invoker-mode engine ({@link dev.transferengine.api.ThreadingMode#INVOKER})
 * until closed, idling the way the C baseline's threads do with {@code -y}: after {@value #SPINS} empty cycles in
 * a row it yields its core at every further empty one. {@code compare --threading invoker} gives the target engine
 * one, so that each side of the Java run has one thread, as each side of the C run has.
 */
final class InvokerThread implements AutoCloseable {
    private static final int SPINS = 100;

    private final Thread thread;
    private volatile boolean stop;
    private volatile RuntimeException failure;

    private InvokerThread(GroupInvoker invoker, String name) {
        this.thread = new Thread(() -> run(invoker), name);
        this.thread.setDaemon(true);
    }

    /** Starts a thread that drives {@code invoker}. */
    static InvokerThread start(GroupInvoker invoker, String name) {
        InvokerThread t = new InvokerThread(invoker, name);
        t.thread.start();
        return t;
    }

    private void run(GroupInvoker invoker) {
        int empty = 0;
        try {
            while (!stop) {
                if (invoker.invoke() > 0) {
                    empty = 0;
                } else if (++empty > SPINS) {
                    Thread.yield();
                } else {
                    Thread.onSpinWait();
                }
            }
        } catch (RuntimeException e) {
            failure = e;
        }
    }

    /** Stops the thread and waits for it (bounded); rethrows what the duty cycle threw, if anything. */
    @Override
    public void close() {
        stop = true;
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            throw new BenchFailure("the invoker thread " + thread.getName() + " did not stop within "
                    + Duration.ofSeconds(10));
        }
        if (failure != null) {
            throw new BenchFailure("the invoker thread " + thread.getName() + " failed: " + failure, failure);
        }
    }
}
