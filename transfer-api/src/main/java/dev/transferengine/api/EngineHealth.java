package dev.transferengine.api;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A snapshot of an engine's workers, from {@link TransferEngine#health()}. Immutable; taken without stopping or
 * waiting for any worker, so it is cheap enough to poll from a health endpoint.
 *
 * @param watchdogBound the engine's watchdog bound ({@link TransferEngine.Builder#watchdogBound}); zero when the
 *                      watchdog is disabled (a worker is then never reported {@link WorkerState#STUCK} while the
 *                      engine is open)
 * @param groups        one entry per group, in group order
 */
public record EngineHealth(Duration watchdogBound, List<GroupHealth> groups) {
    public EngineHealth {
        Objects.requireNonNull(watchdogBound, "watchdogBound");
        groups = List.copyOf(groups);
    }

    /** What a group's worker is doing. */
    public enum WorkerState {
        /** Completing duty cycles (or idle-waiting for work, which counts as healthy). */
        RUNNING,
        /**
         * Has not completed a duty cycle for longer than the watchdog bound while not idle-waiting: normally a
         * native call (a post, a completion-queue read, a registration) that does not return. Also the state of a
         * worker that {@link TransferEngine#close()} left behind because it did not stop within the operation
         * timeout. A worker that completes a cycle again goes back to {@link #RUNNING}.
         */
        STUCK,
        /** Stopped on its own after an unexpected error (a provider threw); the engine is unusable. */
        FAILED,
        /** Stopped, or stopping, because the engine was closed. */
        CLOSED
    }

    /**
     * One group's worker.
     *
     * @param group               the group index
     * @param state               its state when the snapshot was taken
     * @param cycles              duty cycles completed since the worker started (an idle worker keeps completing
     *                            them: it wakes at least once per idle-strategy park)
     * @param nanosSinceLastCycle nanoseconds since the worker last recorded a completed cycle (busy workers record
     *                            the time every 64 cycles, idle ones every cycle); while a worker idle-waits this
     *                            grows up to its idle strategy's longest park without the worker being stuck
     * @param stuckCount          how many times the watchdog has reported this worker stuck (episodes, not checks)
     */
    public record GroupHealth(int group, WorkerState state, long cycles, long nanosSinceLastCycle, long stuckCount) {
        public GroupHealth {
            Objects.requireNonNull(state, "state");
        }
    }

    /** Whether every group is {@link WorkerState#RUNNING}. */
    public boolean healthy() {
        return groups.stream().allMatch(g -> g.state() == WorkerState.RUNNING);
    }

    /** The entry of {@code group}. */
    public GroupHealth group(int group) {
        if (group < 0 || group >= groups.size()) {
            throw new InvalidRequestException("group " + group + " out of range: the engine has " + groups.size());
        }
        return groups.get(group);
    }
}
