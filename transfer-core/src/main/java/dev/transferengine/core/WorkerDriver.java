package dev.transferengine.core;

import java.util.concurrent.CompletableFuture;

/**
 * Who runs a {@link Worker}'s duty cycle: a dedicated thread ({@link DedicatedWorkerRunner}) or the application's
 * threads ({@link WorkerInvoker}). Either way exactly one thread at a time runs it.
 */
interface WorkerDriver {

    /** Begins: runs {@link Worker#onStart()} on the thread that will own the domains (or on the caller). */
    void start();

    /** Whether the driver owns a thread of its own (which the worker may pin). */
    boolean ownsThread();

    /** Makes a parked driver look at the worker's queues again. Any thread; cheap when nothing is parked. */
    void wakeUp();

    /** After stop was requested: waits until the worker ended ({@link Worker#onClose()} ran). */
    boolean join(long timeoutNanos);

    /** Waits until {@code call} completes (invoker mode: driving the cycle meanwhile); false on timeout. */
    boolean awaitCall(CompletableFuture<?> call, long timeoutNanos) throws InterruptedException;

    /** The thread running the cycle now, or null when none is (invoker mode, not invoked). */
    Thread thread();

    /** Whether the cycle is not running now: parked in the idle strategy, or not invoked. */
    boolean isIdleWaiting();
}
