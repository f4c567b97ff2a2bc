package dev.transferengine.core;

import dev.transferengine.api.IdleStrategy;
import org.agrona.concurrent.AgentRunner;

import java.lang.System.Logger.Level;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * {@link dev.transferengine.api.ThreadingMode#DEDICATED dedicated mode}: the worker's own daemon thread {@code <name>-worker-<g>}, running Agrona's
 * {@link AgentRunner} over the {@link Worker} with a {@link WorkerIdleStrategy}. The runner calls
 * {@link Worker#onStart()} (pinning, opening the domains), then the duty cycle until the worker ends it, then
 * {@link Worker#onClose()}. Stopping is the worker's stop flag, not {@link AgentRunner#close()}: that one waits for
 * the thread without a bound, and a worker stuck in a native call must be left behind after a bounded wait.
 */
final class DedicatedWorkerRunner implements WorkerDriver {
    private static final System.Logger LOG = System.getLogger(DedicatedWorkerRunner.class.getName());

    private final WorkerIdleStrategy idle;
    private final Thread thread;

    DedicatedWorkerRunner(Worker worker, IdleStrategy strategy, long idleGraceNanos) {
        this.idle = new WorkerIdleStrategy(worker, strategy, idleGraceNanos);
        // The worker logs and records its own failures; what reaches the handler is a throwing idle strategy or a
        // failing onClose.
        AgentRunner runner = new AgentRunner(idle,
                t -> LOG.log(Level.ERROR, "worker " + worker.group() + ": error outside its duty cycle", t), null, worker);
        this.thread = new Thread(runner, worker.roleName());
        this.thread.setDaemon(true);
    }

    @Override
    public void start() {
        thread.start();
    }

    @Override
    public boolean ownsThread() {
        return true;
    }

    @Override
    public void wakeUp() {
        idle.wakeUp();
    }

    @Override
    public boolean join(long timeoutNanos) {
        LockSupport.unpark(thread);
        try {
            thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !thread.isAlive();
    }

    @Override
    public boolean awaitCall(CompletableFuture<?> call, long timeoutNanos) throws InterruptedException {
        try {
            call.get(timeoutNanos, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            // done: the caller reads the outcome
        }
        return true;
    }

    @Override
    public Thread thread() {
        return thread;
    }

    @Override
    public boolean isIdleWaiting() {
        return idle.isParking();
    }
}
