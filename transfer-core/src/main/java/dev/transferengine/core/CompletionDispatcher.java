package dev.transferengine.core;

import dev.transferengine.api.TransferCallback;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferException;

import java.lang.System.Logger.Level;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Delivers a finished request's outcome to whichever completion form it was submitted with:
 * {@link TransferCounter}s directly on the worker (no allocation), callbacks and futures on the group's
 * own callback thread, so a slow callback holds up only its group and never the worker. A callback that
 * throws is logged and forgotten.
 */
final class CompletionDispatcher {
    private static final System.Logger LOG = System.getLogger(CompletionDispatcher.class.getName());

    private final ExecutorService callbacks;
    private volatile Thread callbackThread;

    CompletionDispatcher(String threadName) {
        this.callbacks = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            callbackThread = t;
            return t;
        });
    }

    /** The executor user callbacks run on. */
    ExecutorService executor() {
        return callbacks;
    }

    /** Delivers success ({@code error == null}) or failure. Any thread. */
    void deliver(Object completion, TransferException error) {
        if (completion instanceof TransferCounter counter) {
            if (error == null) {
                dev.transferengine.api.internal.CounterAccess.succeed(counter);
            } else {
                dev.transferengine.api.internal.CounterAccess.fail(counter, error);
            }
        } else if (completion instanceof CompletableFuture<?> future) {
            run(() -> {
                if (error == null) {
                    future.complete(null);
                } else {
                    future.completeExceptionally(error);
                }
            });
        } else if (completion instanceof TransferCallback callback) {
            run(() -> {
                if (error == null) {
                    callback.onDone();
                } else {
                    callback.onError(error);
                }
            });
        }
    }

    /** Runs {@code task} on the callback thread, logging anything it throws. */
    void run(Runnable task) {
        try {
            callbacks.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException | Error e) {
                    LOG.log(Level.WARNING, "a completion callback threw; the engine carries on", e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // The engine finished closing: run inline so the outcome is still delivered exactly once.
            try {
                task.run();
            } catch (RuntimeException | Error t) {
                LOG.log(Level.WARNING, "a completion callback threw; ignored", t);
            }
        }
    }

    /** Lets queued callbacks finish, up to {@code timeoutNanos}. */
    void shutdown(long timeoutNanos) {
        callbacks.shutdown();
        if (Thread.currentThread() == callbackThread) {
            return; // engine closed from one of its own callbacks: the rest run after this one returns
        }
        try {
            if (!callbacks.awaitTermination(timeoutNanos, TimeUnit.NANOSECONDS)) {
                LOG.log(Level.WARNING, "callbacks still running after close timeout; abandoning them");
                callbacks.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            callbacks.shutdownNow();
        }
    }
}
