package dev.transferengine.core;

import dev.transferengine.api.IdleStrategy;

/**
 * The dedicated worker thread's idle strategy for Agrona's {@code AgentRunner}: the configured {@link IdleStrategy},
 * told whether completions are expected (transfers in flight, work within the last {@code idleGraceMicros}, or imms
 * a thread awaits), so the default parks only when none is; plus the two duties around
 * an idle wait. Before a wait that may park it publishes "may park" and takes a last look at the worker's input, so
 * a producer that enqueues after the look unparks it ({@link #wakeUp}; volatile on both sides: no lost wake-up for
 * requests and calls, an inbound provider event racing the flag waits one park at most); a worker that only spins
 * or yields is never unparked. And it writes the {@link Heartbeat} once per cycle, with the time after every wait
 * that may have parked. Worker thread, except {@link #wakeUp} and {@link #isParking}.
 */
final class WorkerIdleStrategy implements org.agrona.concurrent.IdleStrategy {
    private final Worker worker;
    private final IdleStrategy strategy;
    private final Heartbeat heartbeat;
    /** Keep polling this long after the last work ({@code idleGraceMicros}); 0: no grace. */
    private final long graceNanos;
    private boolean workSinceLastLook = true;
    private long lastWorkNanos;
    /** True while the worker may be parked in its idle strategy; producers then unpark it. */
    private volatile boolean parking;
    private volatile Thread thread;

    WorkerIdleStrategy(Worker worker, IdleStrategy strategy, long graceNanos) {
        this.worker = worker;
        this.strategy = strategy;
        this.heartbeat = worker.heartbeat();
        this.graceNanos = graceNanos;
    }

    @Override
    public void idle(int workCount) {
        if (workCount > 0) {
            workSinceLastLook = true;
            strategy.idle(workCount);
            heartbeat.beat();
            return;
        }
        boolean expecting = worker.inFlight() > 0 || (strategy.mayPark(false) && expectsInbound());
        if (!strategy.mayPark(expecting)) {
            strategy.idle(0, expecting);
            heartbeat.beat();
            return;
        }
        if (thread == null) {
            thread = Thread.currentThread();
        }
        parking = true;
        if (!worker.hasInput()) {
            strategy.idle(0, false);
        }
        // Before clearing the flag: the watchdog never sees "not idle" with the time from before a park.
        heartbeat.beatNow();
        parking = false;
    }

    /**
     * Asked only when the strategy would park with nothing in flight, so the clock is read at most once per wait
     * that may park, never per busy cycle: whether inbound traffic is expected, i.e. the worker did work within the
     * grace (timed from this look after the work: at most the strategy's spins and yields late), or a thread of the
     * application awaits imms.
     */
    private boolean expectsInbound() {
        if (graceNanos > 0) {
            long now = System.nanoTime();
            if (workSinceLastLook) {
                workSinceLastLook = false;
                lastWorkNanos = now;
                return true;
            }
            if (now - lastWorkNanos < graceNanos) {
                return true;
            }
        }
        return worker.immsAwaited();
    }

    @Override
    public void idle() {
        idle(0);
    }

    @Override
    public void reset() {
        strategy.reset();
    }

    /** Unparks the worker if it may be parked. Any thread; no allocation. */
    void wakeUp() {
        if (parking) {
            java.util.concurrent.locks.LockSupport.unpark(thread);
        }
    }

    /** True while the worker may be parked (no native call in progress). Any thread. */
    boolean isParking() {
        return parking;
    }
}
