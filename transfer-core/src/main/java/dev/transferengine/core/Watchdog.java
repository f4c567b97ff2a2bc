package dev.transferengine.core;

import dev.transferengine.api.EngineHealth;
import dev.transferengine.api.EngineHealth.GroupHealth;
import dev.transferengine.api.EngineHealth.WorkerState;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * Reports workers stuck in a native call (issue 9: a libfabric shm peer killed while holding a shm spin lock left
 * the survivor's worker spinning inside {@code libfabric.so} for ten minutes, and nothing noticed).
 *
 * <p>Every quarter of the bound it reads each worker's {@link Heartbeat}. A worker is <em>stuck</em> when it is
 * not idle-waiting (an idle worker parks in its idle strategy, for as long as the strategy likes: it is never
 * stuck, whatever its longest park), its cycle count did not move since the previous check, and its last
 * recorded cycle is older than the bound. A stuck worker is logged once at ERROR with its thread's stack, counted,
 * and reported {@link WorkerState#STUCK} by {@link #health}; when it completes a cycle again it is logged (WARNING)
 * and reported {@link WorkerState#RUNNING}. Detection takes between the bound and 1.25 times the bound.
 *
 * <p>One daemon thread per engine ({@code <name>-watchdog}), parked between checks: engines are few (one per
 * process, as a rule), the thread's life is the engine's (started by the constructor, stopped by close, nothing
 * static left behind between engines or tests), and one engine's slow logging cannot delay another's checks. A
 * shared scheduled executor would save a mostly-parked thread per engine and need reference counting instead.
 *
 * <p>The stack is taken on a short-lived helper thread and waited for at most {@link #STACK_WAIT_NANOS}: a
 * thread inside a {@code critical} downcall cannot reach a safepoint, so {@link Thread#getStackTrace()} on it
 * would block (jstack hangs the same way). Then the ERROR line says so instead of showing the stack, and the
 * watchdog goes on checking.
 */
final class Watchdog implements Runnable {
    private static final System.Logger LOG = System.getLogger(Watchdog.class.getName());
    /** Longest wait for a stuck thread's stack. */
    static final long STACK_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** The watchdog's view of one worker. {@code stuck} and {@code stuckCount} are written by one thread. */
    private static final class Watch {
        volatile boolean stuck;
        volatile long stuckCount;
        volatile boolean leftBehind;
        long cyclesAtLastCheck = -1;
        long stuckSinceCycleNanos;
    }

    private final Worker[] workers;
    private final Watch[] watches;
    private final long boundNanos;
    private final Duration bound;
    private final Thread thread;
    private volatile boolean stopped;

    /** {@code bound} zero: no thread; {@link #health} still reports failed, closed and left-behind workers. */
    Watchdog(String engineName, Worker[] workers, Duration bound) {
        this.workers = workers.clone();
        this.watches = new Watch[workers.length];
        for (int i = 0; i < watches.length; i++) {
            watches[i] = new Watch();
        }
        this.bound = bound;
        this.boundNanos = bound.toNanos();
        if (boundNanos > 0) {
            thread = new Thread(this, engineName + "-watchdog");
            thread.setDaemon(true);
        } else {
            thread = null;
        }
    }

    void start() {
        if (thread != null) {
            thread.start();
        }
    }

    /** Stops the thread; waits for it at most {@code timeoutNanos} (it may be waiting for a stack). */
    void stop(long timeoutNanos) {
        stopped = true;
        if (thread == null || Thread.currentThread() == thread) {
            return;
        }
        LockSupport.unpark(thread);
        try {
            thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void run() {
        long period = Math.max(1, boundNanos / 4);
        while (!stopped) {
            try {
                check(System.nanoTime());
            } catch (RuntimeException | Error e) {
                LOG.log(Level.WARNING, "watchdog check failed; continuing", e);
            }
            LockSupport.parkNanos(period);
        }
    }

    /** One check of every worker at {@code now}. Watchdog thread (tests call it directly). */
    void check(long now) {
        for (int g = 0; g < workers.length; g++) {
            Worker w = workers[g];
            Watch watch = watches[g];
            if (w.hasEnded() || w.failure() != null) {
                watch.stuck = false; // ended: health says FAILED or CLOSED
                continue;
            }
            boolean idle = w.isIdleWaiting();
            long last = w.heartbeat().lastCycleNanos();
            long cycles = w.heartbeat().cycles();
            boolean progressed = cycles != watch.cyclesAtLastCheck;
            watch.cyclesAtLastCheck = cycles;
            boolean overdue = !idle && !progressed && now - last > boundNanos;
            if (overdue && !watch.stuck) {
                watch.stuck = true;
                watch.stuckCount++;
                watch.stuckSinceCycleNanos = last;
                reportStuck(w, watch, now - last, cycles);
            } else if (!overdue && watch.stuck) {
                watch.stuck = false;
                LOG.log(Level.WARNING, "worker " + g + " (thread " + w.threadName() + ") completed a duty cycle"
                        + " again after about " + millis(now - watch.stuckSinceCycleNanos) + " ms without one: running"
                        + " (stuck episodes: " + watch.stuckCount + ")");
            }
        }
    }

    private void reportStuck(Worker w, Watch watch, long sinceNanos, long cycles) {
        String head = "worker " + w.group() + " (thread " + w.threadName() + ") has not completed a duty cycle"
                + " for " + millis(sinceNanos) + " ms (watchdog bound " + millis(boundNanos) + " ms): STUCK, most"
                + " likely inside a native call (a post, a completion-queue read, a registration) that does not"
                + " return; cycles so far " + cycles + ", transfers in flight about " + w.inFlight()
                + ", stuck episodes " + watch.stuckCount + ".";
        Thread t = w.thread();
        Throwable stack = t == null ? null : stackOf(t, STACK_WAIT_NANOS);
        if (stack != null) {
            LOG.log(Level.ERROR, head + " Its stack:", stack);
        } else {
            LOG.log(Level.ERROR, head + " Its stack could not be taken within " + millis(STACK_WAIT_NANOS) + " ms:"
                    + " the thread is probably in a critical native call, where it cannot reach a safepoint (jstack"
                    + " hangs too; use gdb or /proc/<pid>/task/<tid>/stack).");
        }
    }

    /**
     * The stack of {@code t} as a Throwable for logging, taken on a helper thread and waited for at most
     * {@code waitNanos}; null when it did not come in time (a helper still blocked ends when the call returns).
     */
    static Throwable stackOf(Thread t, long waitNanos) {
        CompletableFuture<StackTraceElement[]> frames = new CompletableFuture<>();
        Thread helper = new Thread(() -> {
            try {
                frames.complete(t.getStackTrace());
            } catch (RuntimeException | Error e) {
                frames.completeExceptionally(e);
            }
        }, t.getName() + "-stack");
        helper.setDaemon(true);
        helper.start();
        try {
            StackTraceElement[] st = frames.get(waitNanos, TimeUnit.NANOSECONDS);
            Throwable stack = new Throwable("stack of thread " + t.getName() + " (state " + t.getState() + ")");
            stack.setStackTrace(st);
            return stack;
        } catch (TimeoutException | ExecutionException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Marks a worker that close left behind: STUCK until its thread ends. */
    void leftBehind(Worker w) {
        watches[w.group()].leftBehind = true;
    }

    /** The current snapshot. Any thread; never blocks. */
    EngineHealth health(boolean engineClosed) {
        long now = System.nanoTime();
        List<GroupHealth> groups = new ArrayList<>(workers.length);
        for (int g = 0; g < workers.length; g++) {
            Worker w = workers[g];
            Watch watch = watches[g];
            Heartbeat hb = w.heartbeat();
            long cycles = hb.cycles();
            long since = Math.max(0, now - hb.lastCycleNanos());
            WorkerState state;
            if (w.hasEnded()) {
                state = w.failure() != null ? WorkerState.FAILED : WorkerState.CLOSED;
            } else if (w.failure() != null) {
                state = WorkerState.FAILED;
            } else if (watch.stuck || watch.leftBehind) {
                state = WorkerState.STUCK;
            } else if (engineClosed) {
                state = WorkerState.CLOSED;
            } else {
                state = WorkerState.RUNNING;
            }
            groups.add(new GroupHealth(g, state, cycles, since, watch.stuckCount));
        }
        return new EngineHealth(bound, groups);
    }

    private static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }
}
