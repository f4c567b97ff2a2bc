package dev.transferengine.core.counters;

import dev.transferengine.api.Counter;
import dev.transferengine.api.ErrorCategory;

/**
 * The counters of one group, written by the one thread that drives the group at a time (its worker, or the
 * application thread of an invoker-mode group): plain adds published with release stores, no atomics, no
 * allocation. Arguments are the engine's own (never a caller's), so they are not range-checked here.
 */
public final class GroupCounters {
    private final CountersBlock block;
    private final long[] groupOffsets = new long[CountersLayout.COUNTERS];
    private final long[] errorOffsets = new long[CountersLayout.CATEGORIES];
    private final long[][] nicOffsets;

    GroupCounters(CountersBlock block, int group) {
        this.block = block;
        CountersLayout layout = block.layout();
        for (Counter c : Counter.values()) {
            groupOffsets[c.ordinal()] = layout.groupOffset(group, c);
        }
        for (ErrorCategory e : ErrorCategory.values()) {
            errorOffsets[e.ordinal()] = layout.errorOffset(group, e);
        }
        nicOffsets = new long[layout.nics(group)][CountersLayout.COUNTERS];
        for (int n = 0; n < nicOffsets.length; n++) {
            for (Counter c : Counter.values()) {
                nicOffsets[n][c.ordinal()] = layout.nicOffset(group, n, c);
            }
        }
    }

    /** Adds {@code delta} to a group counter (a gauge may go down). */
    public void add(Counter counter, long delta) {
        block.add(groupOffsets[counter.ordinal()], delta);
    }

    /** Adds one to a group counter. */
    public void increment(Counter counter) {
        block.add(groupOffsets[counter.ordinal()], 1);
    }

    /** Adds {@code delta} to a per-NIC counter of NIC {@code nic}. */
    public void add(int nic, Counter counter, long delta) {
        block.add(nicOffsets[nic][counter.ordinal()], delta);
    }

    /** Adds one to a per-NIC counter of NIC {@code nic}. */
    public void increment(int nic, Counter counter) {
        block.add(nicOffsets[nic][counter.ordinal()], 1);
    }

    /** Counts one failed transfer under its category (and in the failed or timed-out count). */
    public void failed(ErrorCategory category) {
        block.add(errorOffsets[category.ordinal()], 1);
        block.add(groupOffsets[(category == ErrorCategory.TIMEOUT ? Counter.TRANSFER_TIMEOUTS
                : Counter.TRANSFERS_FAILED).ordinal()], 1);
    }
}
