package dev.transferengine.core;

import dev.transferengine.api.ClosedException;
import dev.transferengine.api.GroupInvoker;
import org.agrona.concurrent.AgentInvoker;

import java.lang.System.Logger.Level;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;

/**
 * {@link dev.transferengine.api.ThreadingMode#INVOKER invoker mode}: no worker thread; the application's threads run
 * the {@link Worker}'s duty cycle through Agrona's {@link AgentInvoker}. A lock-free ownership flag (the thread
 * inside a cycle, CAS from null) makes sure exactly one thread at a time touches the group's domains; its
 * acquire/release pair also orders one owner's writes before the next owner's reads. A thread that finds the flag
 * taken does nothing and gets 0. Start, registrations ({@link #awaitCall}) and close take the flag like a cycle.
 */
final class WorkerInvoker implements WorkerDriver, GroupInvoker {
    private static final System.Logger LOG = System.getLogger(WorkerInvoker.class.getName());
    private static final VarHandle OWNER;

    static {
        try {
            OWNER = MethodHandles.lookup().findVarHandle(WorkerInvoker.class, "owner", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Worker worker;
    private final AgentInvoker invoker;
    /** The thread inside a cycle, or null. */
    @SuppressWarnings("unused") // through OWNER
    private volatile Thread owner;

    WorkerInvoker(Worker worker) {
        this.worker = worker;
        // The worker logs and records its own failures; what reaches the handler is a failing onClose.
        this.invoker = new AgentInvoker(
                t -> LOG.log(Level.ERROR, "group " + worker.group() + ": error outside its duty cycle", t), null, worker);
    }

    @Override
    public int group() {
        return worker.group();
    }

    @Override
    public int invoke() {
        int work = tryInvoke();
        if (work < 0) {
            worker.throwIfFailed();
            throw new ClosedException("engine is closed: group " + worker.group() + " is no longer invoked");
        }
        return work;
    }

    /** One cycle on behalf of a submitter waiting for queue space: the work done, 0 when none or taken, -1 once ended. */
    int assist() {
        return tryInvoke();
    }

    /** One cycle if this thread can take the group: the work done, 0 when another thread has it, -1 once ended. */
    private int tryInvoke() {
        if (!OWNER.compareAndSet(this, null, Thread.currentThread())) {
            return 0;
        }
        try {
            if (invoker.isClosed()) {
                return -1;
            }
            // The time of the cycle's start: an application that invokes rarely must not look stuck in it.
            worker.heartbeat().beatNow();
            int work = invoker.invoke();
            if (worker.isStopping() && !invoker.isClosed()) {
                invoker.close(); // close gave up waiting for this cycle (a slow native call): finish it here
            }
            return work;
        } finally {
            OWNER.setRelease(this, null);
        }
    }

    @Override
    public void start() {
        OWNER.setVolatile(this, Thread.currentThread());
        try {
            invoker.start();
        } finally {
            OWNER.setRelease(this, null);
        }
    }

    @Override
    public boolean ownsThread() {
        return false;
    }

    @Override
    public void wakeUp() {
        // nothing parks: the invoking threads look at the queues on every cycle
    }

    /** Takes the group (waiting for a cycle in progress, up to the timeout) and closes the worker on this thread. */
    @Override
    public boolean join(long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        int idle = 0;
        while (!OWNER.compareAndSet(this, null, Thread.currentThread())) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            idle = idleStep(idle);
        }
        try {
            invoker.close();
            return true;
        } finally {
            OWNER.setRelease(this, null);
        }
    }

    @Override
    public boolean awaitCall(CompletableFuture<?> call, long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        int idle = 0;
        while (!call.isDone()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            int work = tryInvoke();
            if (work < 0) {
                return call.isDone(); // ended: the close ran every queued call
            }
            idle = work > 0 ? 0 : idleStep(idle);
        }
        return true;
    }

    private static int idleStep(int idle) {
        if (idle < 100) {
            Thread.onSpinWait();
            return idle + 1;
        }
        Thread.yield();
        return idle;
    }

    @Override
    public Thread thread() {
        return (Thread) OWNER.getVolatile(this);
    }

    @Override
    public boolean isIdleWaiting() {
        return OWNER.getVolatile(this) == null;
    }
}
