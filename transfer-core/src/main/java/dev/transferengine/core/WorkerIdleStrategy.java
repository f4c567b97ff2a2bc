package dev.transferengine.core;

import dev.transferengine.api.IdleStrategy;

/**
 * The dedicated worker thread's idle strategy for Agrona's {@code AgentRunner}: the configured {@link IdleStrategy}
 * (told whether transfers are in flight or imms awaited, so the default parks only when neither), plus the two duties around
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
    /** True while the worker may be parked in its idle strategy; producers then unpark it. */
    private volatile boolean parking;
    private volatile Thread thread;

    WorkerIdleStrategy(Worker worker, IdleStrategy strategy) {
        this.worker = worker;
        this.strategy = strategy;
        this.heartbeat = worker.heartbeat();
    }

    @Override
    public void idle(int workCount) {
        if (workCount > 0) {
            strategy.idle(workCount);
            heartbeat.beat();
            return;
        }
        boolean inFlight = worker.expectsCompletions();
        if (!strategy.mayPark(inFlight)) {
            strategy.idle(0, inFlight);
            heartbeat.beat();
            return;
        }
        if (thread == null) {
            thread = Thread.currentThread();
        }
        parking = true;
        if (!worker.hasInput()) {
            strategy.idle(0, inFlight);
        }
        // Before clearing the flag: the watchdog never sees "not idle" with the time from before a park.
        heartbeat.beatNow();
        parking = false;
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
