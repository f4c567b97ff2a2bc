package dev.transferengine.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A worker's heartbeat, read by the {@link Watchdog}: the number of duty cycles (passes of the worker loop) it
 * completed, and the {@link System#nanoTime()} of a recent completed one. Single writer (the worker), any
 * number of readers; no allocation, no lock, no read-modify-write.
 *
 * <p>Cost on the worker: one opaque store per cycle (a plain store on x86 and ARM) and, every
 * {@value #TIME_EVERY} busy cycles or on every idle cycle, a clock read and a release store. A busy worker's
 * time is therefore at most {@value #TIME_EVERY} cycles old (microseconds: every cycle's work is budgeted);
 * idle cycles are slow anyway.
 */
final class Heartbeat {
    /** Busy cycles between two clock reads (a power of two). */
    static final int TIME_EVERY = 64;

    private static final VarHandle CYCLES;
    private static final VarHandle LAST_NANOS;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            CYCLES = l.findVarHandle(Heartbeat.class, "cycles", long.class);
            LAST_NANOS = l.findVarHandle(Heartbeat.class, "lastCycleNanos", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // through CYCLES
    private long cycles;
    @SuppressWarnings("unused") // through LAST_NANOS
    private long lastCycleNanos;

    Heartbeat() {
        LAST_NANOS.setRelease(this, System.nanoTime());
    }

    /** A busy cycle completed. Worker thread only. */
    void beat() {
        long c = (long) CYCLES.getOpaque(this) + 1;
        CYCLES.setOpaque(this, c);
        if ((c & (TIME_EVERY - 1)) == 0) {
            LAST_NANOS.setRelease(this, System.nanoTime());
        }
    }

    /** A cycle completed and the time is recorded now (idle cycles, after a park). Worker thread only. */
    void beatNow() {
        CYCLES.setOpaque(this, (long) CYCLES.getOpaque(this) + 1);
        LAST_NANOS.setRelease(this, System.nanoTime());
    }

    /** Cycles completed so far. Any thread. */
    long cycles() {
        return (long) CYCLES.getOpaque(this);
    }

    /** {@link System#nanoTime()} of a recent completed cycle (or of construction). Any thread. */
    long lastCycleNanos() {
        return (long) LAST_NANOS.getAcquire(this);
    }
}
