package dev.transferengine.bench.cases;

import dev.transferengine.api.GroupInvoker;
import dev.transferengine.api.ImmAccounting;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferRequest;
import dev.transferengine.bench.BenchFailure;
import dev.transferengine.bench.cli.SweepOptions;
import dev.transferengine.bench.report.CaseResult;
import dev.transferengine.bench.report.ProgressBar;
import org.HdrHistogram.Histogram;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * Runs one sweep row: builds the row's requests once per window slot, runs the warm-up, then the timed
 * writes, keeping {@code window} requests in flight (submit slot {@code i mod window} as soon as its
 * previous request is done), and records each request's latency from submit to done. Confined to the
 * benchmark thread; the timed loop allocates nothing but the progress bar's redraws (ten a second, and
 * only when the bar is shown).
 */
public final class CaseRunner {
    /** Latencies above this are clamped; the engine's own timeout is far below it. */
    private static final long MAX_LATENCY_NANOS = TimeUnit.MINUTES.toNanos(5);
    private static final int PROGRESS_EVERY = 64;

    private final TransferEngine sender;
    private final BenchBuffers buffers;
    private final ImmCounter[] immCounters;
    private final int immBase;
    private final SweepPlan plan;
    private final Duration timeout;
    private final ProgressBar progress;
    private final GroupInvoker driver;

    /**
     * @param immCounters the receiver's counters, one per window slot; slot {@code s} writes carry imm {@code immBase + s}
     * @param driver      runs both engines' duty cycles while waiting (invoker mode), or null
     */
    public CaseRunner(TransferEngine sender, BenchBuffers buffers, ImmCounter[] immCounters, int immBase,
                      SweepPlan plan, Duration timeout, ProgressBar progress, GroupInvoker driver) {
        this.driver = driver;
        this.sender = sender;
        this.buffers = buffers;
        this.immCounters = immCounters;
        this.immBase = immBase;
        this.plan = plan;
        this.timeout = timeout;
        this.progress = progress;
    }

    /**
     * Untimed writes of {@code writeCase} before any row is measured (at most a quarter of the bytes a row may
     * move), so that the first rows are not timed while the JIT is still compiling the hot path: with the default
     * 2,000 timed writes the first row of {@code ./te bench} ran at a tenth of its steady rate on the GPU machine.
     * They record their latencies into a histogram that is thrown away, as a timed row does: warmed up without
     * one, the first timed row compiled the recording path while it ran, and its first 600-800 writes took about
     * twice as long as the rest (docs/benchmark-results.md, "The first row's slow start").
     */
    public void warmUpJit(WriteCase writeCase, int writes) {
        long bytesPerOp = writeCase.bytesPerOp();
        int n = (int) Math.min(writes, plan.bytesPerCase() / 4 / bytesPerOp);
        if (n < 1) {
            return;
        }
        phase(writeCase, plan.windowFor(bytesPerOp)).run(n, new Histogram(MAX_LATENCY_NANOS, 3), 0);
    }

    /** A window's requests of {@code writeCase} (slot {@code i} carries imm {@code immBase + i}) and its completion. */
    private Phase phase(WriteCase writeCase, int window) {
        TransferRequest[] requests = new TransferRequest[window];
        for (int slot = 0; slot < window; slot++) {
            requests[slot] = writeCase.request(buffers, slot, immBase + slot);
        }
        // Every WRITE of these requests carries the slot's imm, so this is also the WRITE count per request.
        long immsPerOp = ImmAccounting.immsProduced(requests[0], sender.nicCount(0));
        WindowCompletion completion = plan.completion() == SweepOptions.Completion.IMM
                ? WindowCompletion.immArrival(immCounters, immsPerOp, timeout, driver)
                : WindowCompletion.localCompletion(immCounters, immsPerOp, timeout, driver);
        return new Phase(requests, completion);
    }

    public CaseResult run(WriteCase writeCase) {
        long bytesPerOp = writeCase.bytesPerOp();
        int window = plan.windowFor(bytesPerOp);
        int warmup = plan.warmupFor(bytesPerOp);
        int iterations = plan.iterationsFor(bytesPerOp);

        Phase phase = phase(writeCase, window);
        long immsPerOp = ImmAccounting.immsProduced(phase.requests[0], sender.nicCount(0));
        if (plan.verify()) {
            buffers.clearDestination(window * bytesPerOp);
        }

        progress.startCase(writeCase.sweep() + " " + writeCase.label(), warmup + (long) iterations);
        phase.run(warmup, null, 0);
        Histogram latency = new Histogram(MAX_LATENCY_NANOS, 3);
        long elapsedNanos = phase.run(iterations, latency, warmup);

        if (plan.verify()) {
            verify(writeCase, Math.min(window, warmup + iterations));
        }
        double seconds = elapsedNanos / 1e9;
        double gbps = bytesPerOp * (double) iterations * 8 / elapsedNanos;
        long link = sender.linkSpeedBitsPerSecond();
        return new CaseResult(writeCase.sweep(), writeCase.label(), bytesPerOp, immsPerOp,
                window, iterations, seconds, gbps, link > 0 ? gbps * 1e9 * 100 / link : -1,
                iterations / seconds / 1e6, micros(latency, 50), micros(latency, 99), micros(latency, 99.9),
                latency.getMaxValue() / 1e3, plan.verify());
    }

    private static double micros(Histogram h, double percentile) {
        return h.getValueAtPercentile(percentile) / 1e3;
    }

    private void verify(WriteCase writeCase, int slotsUsed) {
        for (int slot = 0; slot < slotsUsed; slot++) {
            String diff = writeCase.verify(buffers, slot);
            if (diff != null) {
                throw new BenchFailure("--verify: " + writeCase.sweep() + " " + writeCase.label() + ", slot " + slot
                        + ": " + diff);
            }
        }
    }

    /** One warm-up or timed run of a row over a window of pre-built requests. */
    private final class Phase {
        private final TransferRequest[] requests;
        private final WindowCompletion completion;
        private final long[] submittedAt;
        private final long[] submittedPerSlot;

        Phase(TransferRequest[] requests, WindowCompletion completion) {
            this.requests = requests;
            this.completion = completion;
            this.submittedAt = new long[requests.length];
            this.submittedPerSlot = new long[requests.length];
        }

        /**
         * Submits {@code count} requests, {@code window} at a time, and waits for all of them.
         *
         * @param latency     where to record each request's latency, or null (warm-up)
         * @param progressBase requests of this row already shown by the progress bar
         * @return nanoseconds from the first submit until every request was done
         */
        long run(long count, Histogram latency, long progressBase) {
            int window = requests.length;
            Arrays.fill(submittedPerSlot, 0);
            long start = System.nanoTime();
            for (long i = 0; i < count; i++) {
                int slot = (int) (i % window);
                if (i >= window) {
                    awaitOldest(slot, latency);
                }
                submittedAt[slot] = System.nanoTime();
                sender.submit(requests[slot], completion.counter(slot));
                submittedPerSlot[slot]++;
                if (i % PROGRESS_EVERY == 0) {
                    progress.update(progressBase + i);
                }
            }
            long inFlight = Math.min(count, window);
            for (long i = count - inFlight; i < count; i++) {
                awaitOldest((int) (i % window), latency);
            }
            long elapsed = System.nanoTime() - start;
            completion.settle(submittedPerSlot);
            progress.update(progressBase + count);
            return elapsed;
        }

        private void awaitOldest(int slot, Histogram latency) {
            completion.awaitOldest(slot);
            if (latency != null) {
                latency.recordValue(Math.min(System.nanoTime() - submittedAt[slot], MAX_LATENCY_NANOS));
            }
        }
    }
}
