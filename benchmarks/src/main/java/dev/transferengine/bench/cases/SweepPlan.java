package dev.transferengine.bench.cases;

import dev.transferengine.bench.cli.SweepOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A validated sweep: which cases to run and how many writes each gets. Immutable.
 *
 * @param window           writes in flight requested by the user
 * @param maxInflightBytes cap on {@code window x bytesPerOp}; large writes get a smaller window
 * @param warmup           untimed writes per case before measuring
 * @param iterations       timed writes per case (before the byte budget caps it)
 * @param bytesPerCase     byte budget per case: large writes get fewer iterations
 */
public record SweepPlan(Set<SweepOptions.Sweep> sweeps, List<Long> sizes, List<Long> pageSizes,
                        List<Integer> pageCounts, int window, long maxInflightBytes, int warmup, int iterations,
                        long bytesPerCase, SweepOptions.Completion completion, boolean verify, long seed) {

    /** Timed writes are never fewer than this, so percentiles mean something even for 64 MiB writes. */
    public static final int MIN_ITERATIONS = 16;

    public SweepPlan {
        sweeps = Set.copyOf(sweeps);
        sizes = List.copyOf(sizes);
        pageSizes = List.copyOf(pageSizes);
        pageCounts = List.copyOf(pageCounts);
    }

    /** The cases in run order: single writes by size, then paged writes by page size and count. */
    public List<WriteCase> cases() {
        List<WriteCase> cases = new ArrayList<>();
        if (sweeps.contains(SweepOptions.Sweep.SINGLE)) {
            for (long size : sizes) {
                cases.add(new SingleWriteCase(size));
            }
        }
        if (sweeps.contains(SweepOptions.Sweep.PAGED)) {
            for (long pageLength : pageSizes) {
                for (int count : pageCounts) {
                    cases.add(new PagedWriteCase(pageLength, count, seed));
                }
            }
        }
        return cases;
    }

    /** The window for writes of {@code bytesPerOp}: {@link #window}, capped by {@link #maxInflightBytes}. */
    public int windowFor(long bytesPerOp) {
        long byBytes = Math.max(1, maxInflightBytes / Math.max(1, bytesPerOp));
        return (int) Math.min(window, byBytes);
    }

    /** Timed writes for {@code bytesPerOp}: {@link #iterations} within the byte budget, at least 16. */
    public int iterationsFor(long bytesPerOp) {
        long byBytes = bytesPerCase / Math.max(1, bytesPerOp);
        return (int) Math.max(Math.min(iterations, MIN_ITERATIONS), Math.min(iterations, byBytes));
    }

    /** Warm-up writes for {@code bytesPerOp}: {@link #warmup} within a quarter of the byte budget. */
    public int warmupFor(long bytesPerOp) {
        long byBytes = bytesPerCase / 4 / Math.max(1, bytesPerOp);
        return (int) Math.min(warmup, Math.max(Math.min(warmup, 1), byBytes));
    }
}
